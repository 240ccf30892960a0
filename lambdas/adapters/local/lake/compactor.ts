/**
 * Compacts sealed event-log segments into the Parquet lake.
 *
 * A segment's rows are grouped by table and by the Hive partition of the table's event-time
 * column (UTC): `<lakeDir>/<table>/dt=YYYY-MM-DD/hour=HH/<segment base>.parquet`, one file per
 * (table, partition, segment). Within a file, rows are de-duplicated by the table's id column
 * (the first occurrence wins). Files are written to a temp name, fsynced and renamed; only when
 * every file of the segment is durable is the segment deleted. The file names derive from the
 * segment, so a crash between the renames and the deletion makes the next compaction of the same
 * segment rewrite the same files instead of adding rows twice.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { LAKE_TABLES, type LakeTableName } from '../../../core/lake/tables.js';
import type { Logger } from '../../../core/ports.js';
import { fsyncDir, parseSegmentFileName, scanSegment } from '../event-log/segment.js';
import { spawnWorker } from '../threads.js';
import { LakeColumnsBuilder, timestampMillis, writeLakeParquetFile } from './parquet-writer.js';
import { mergePartitionFiles, type PartitionMergeJob, type PartitionMergeResult } from './partition-merge.js';
import { HOUR_MS, partitionDir } from './partitions.js';
import { closeExportConnections, exportPredictions, type PredictionExportResult } from './prediction-export.js';

export interface CompactionResult {
  readonly segment: string;
  /** Valid records read from the segment. */
  readonly records: number;
  /** Rows written to the lake. */
  readonly rows: number;
  /** Rows dropped because their id was already in the same file. */
  readonly duplicates: number;
  /** Lines that failed their checksum (none in a cleanly sealed segment). */
  readonly badLines: number;
  /** Records whose values did not fit the table (logged and skipped; the log refuses these). */
  readonly invalidRows: number;
  /** The Parquet files written, absolute paths. */
  readonly files: readonly string[];
}

export interface CompactOptions {
  readonly logger?: Logger;
  /** Delete the segment once its files are durable (default true). */
  readonly deleteSegment?: boolean;
}

interface Group {
  readonly table: LakeTableName;
  readonly hour: number;
  readonly dir: string;
  readonly columns: LakeColumnsBuilder;
  readonly ids: Set<string>;
}

/** The Parquet file name of a segment's rows in each partition. */
export function lakeFileName(segmentPath: string): string {
  const parsed = parseSegmentFileName(basename(segmentPath));
  return `${parsed ? parsed.base : basename(segmentPath)}.parquet`;
}

/** Compacts one sealed segment into the lake, then deletes it (see the module comment). */
export async function compactSegment(
  segmentPath: string,
  lakeDir: string,
  options: CompactOptions = {},
): Promise<CompactionResult> {
  const bytes = await readFile(segmentPath);
  // table -> event hour (hours since the epoch) -> rows, kept column by column
  const groups = new Map<LakeTableName, Map<number, Group>>();
  let duplicates = 0;
  let invalidRows = 0;
  let firstProblem: string | undefined;
  const invalid = (table: LakeTableName, problem: string): void => {
    invalidRows++;
    firstProblem ??= `${table}: ${problem}`;
  };
  const scan = scanSegment(
    bytes,
    (table, json) => {
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(json) as Record<string, unknown>;
      } catch (err) {
        invalid(table, `not JSON: ${(err as Error).message}`);
        return;
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        invalid(table, 'not a JSON object');
        return;
      }
      const def = LAKE_TABLES[table];
      const eventMs = timestampMillis(row[def.eventTimeColumn]);
      const id = row[def.idColumn];
      if (Number.isNaN(eventMs) || typeof id !== 'string') {
        invalid(table, `${def.eventTimeColumn} or ${def.idColumn} missing`);
        return;
      }
      const hour = Math.floor(eventMs / HOUR_MS);
      let byHour = groups.get(table);
      if (!byHour) {
        byHour = new Map();
        groups.set(table, byHour);
      }
      let group = byHour.get(hour);
      if (!group) {
        const dir = partitionDir(lakeDir, table, new Date(hour * HOUR_MS));
        group = { table, hour, dir, columns: new LakeColumnsBuilder(table), ids: new Set() };
        byHour.set(hour, group);
      }
      if (group.ids.has(id)) {
        duplicates++;
        return;
      }
      const problem = group.columns.add(row);
      if (problem !== null) {
        invalid(table, problem);
        return;
      }
      group.ids.add(id);
    },
    { stopAtBadLine: false },
  );
  if (scan.badLines > 0) {
    options.logger?.warn('event log: segment has corrupt lines; they were skipped', {
      segment: segmentPath,
      badLines: scan.badLines,
    });
  }
  if (invalidRows > 0) {
    options.logger?.error('event log: segment rows do not fit their table; they were skipped', {
      segment: segmentPath,
      invalidRows,
      first: firstProblem,
    });
  }

  const fileName = lakeFileName(segmentPath);
  const files: string[] = [];
  let rows = 0;
  const ordered = [...groups.values()]
    .flatMap((byHour) => [...byHour.values()])
    .sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : a.hour - b.hour));
  groups.clear();
  for (const group of ordered) {
    await ensureDurableDir(group.dir);
    const file = join(group.dir, fileName);
    await writeLakeParquetFile(file, group.table, group.columns, {
      kvMetadata: { 'adclick.segment': basename(segmentPath) },
    });
    await fsyncDir(group.dir);
    files.push(file);
    rows += group.columns.rowCount;
  }

  if (options.deleteSegment ?? true) {
    await rm(segmentPath, { force: true });
    await fsyncDir(dirname(segmentPath));
  }
  return { segment: segmentPath, records: scan.records, rows, duplicates, badLines: scan.badLines, invalidRows, files };
}

/** mkdir -p, fsyncing the parent of every directory it created so the new entries survive a crash. */
async function ensureDurableDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const parents: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    parents.push(dirname(current));
    if (current === first || dirname(current) === current) break;
  }
  for (const parent of parents.reverse()) await fsyncDir(parent);
}

// ------------------------------------------------------------------ where compaction runs

/** Compacts segments into one lake, somewhere (on the event loop or in a worker thread). */
export interface SegmentCompactor {
  readonly runsIn: 'worker' | 'inline';
  compact(segmentPath: string): Promise<CompactionResult>;
  /** Writes prediction-log rows after `afterSeq` (at most `limit`) to the lake; see prediction-export.ts. */
  exportPredictions(dbFile: string, afterSeq: number, limit: number): Promise<PredictionExportResult>;
  /** Merges a lake partition's files into one new file; see partition-merge.ts. */
  mergePartition(job: PartitionMergeJob): Promise<PartitionMergeResult>;
  /** Stops the worker, if any; jobs still running are rejected. */
  close(): Promise<void>;
}

/** Compacts on the calling thread (simple; Parquet encoding then competes with appends for the CPU). */
export function inlineCompactor(lakeDir: string, logger?: Logger): SegmentCompactor {
  return {
    runsIn: 'inline',
    compact: (segmentPath) => compactSegment(segmentPath, lakeDir, logger ? { logger } : {}),
    exportPredictions: (dbFile, afterSeq, limit) => exportPredictions(dbFile, lakeDir, afterSeq, limit),
    mergePartition: (job) => mergePartitionFiles(job),
    close: async () => closeExportConnections(),
  };
}

interface WorkerReply {
  readonly id?: number;
  readonly ready?: boolean;
  readonly result?: CompactionResult | PredictionExportResult | PartitionMergeResult;
  readonly error?: { name: string; message: string; stack?: string; code?: string };
  readonly log?: 'info' | 'warn' | 'error';
  readonly message?: string;
  readonly fields?: Record<string, unknown>;
}

/**
 * Compacts in a worker thread (started on first use, kept while the compactor lives, holding the
 * process open only while a job runs). If the worker cannot start at all (e.g. the runtime cannot
 * load it), it falls back to compacting inline and says so once.
 */
export class WorkerCompactor implements SegmentCompactor {
  private worker: Worker | null = null;
  private ready = false;
  /** The worker could not start: jobs run inline. */
  private inline = false;
  private nextId = 1;
  private readonly jobs = new Map<
    number,
    {
      readonly job: WorkerJob;
      // biome-ignore lint/suspicious/noExplicitAny: each job kind resolves with its own result type.
      resolve: (r: any) => void;
      reject: (e: Error) => void;
    }
  >();

  constructor(
    private readonly lakeDir: string,
    private readonly logger?: Logger,
  ) {}

  /** Where jobs run: in the worker, or inline after the worker could not start. */
  get runsIn(): 'worker' | 'inline' {
    return this.inline ? 'inline' : 'worker';
  }

  compact(segmentPath: string): Promise<CompactionResult> {
    return this.run({ kind: 'compact', segment: segmentPath, lakeDir: this.lakeDir });
  }

  exportPredictions(dbFile: string, afterSeq: number, limit: number): Promise<PredictionExportResult> {
    return this.run({ kind: 'export-predictions', dbFile, lakeDir: this.lakeDir, afterSeq, limit });
  }

  mergePartition(job: PartitionMergeJob): Promise<PartitionMergeResult> {
    return this.run({ kind: 'merge-partition', ...job });
  }

  private run<R>(job: WorkerJob): Promise<R> {
    if (this.inline) return runJob(job, this.logger) as Promise<R>;
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (err) {
      this.fallBack(err);
      return runJob(job, this.logger) as Promise<R>;
    }
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.jobs.set(id, { job, resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...job });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
    this.failJobs(new Error('compactor closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker(import.meta.url, 'compaction-worker');
    this.worker = worker;
    this.ready = false;
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.onReply(worker, reply));
    worker.on('error', (err) => this.onWorkerGone(worker, err));
    worker.on('exit', (code) => this.onWorkerGone(worker, new Error(`compaction worker exited with code ${code}`)));
    return worker;
  }

  private onReply(worker: Worker, reply: WorkerReply): void {
    if (reply.ready) {
      this.ready = true;
      return;
    }
    if (reply.log) {
      this.logger?.[reply.log](reply.message ?? '', reply.fields);
      return;
    }
    if (reply.id === undefined) return;
    const job = this.jobs.get(reply.id);
    if (!job) return;
    this.jobs.delete(reply.id);
    if (this.jobs.size === 0) worker.unref();
    if (reply.result) job.resolve(reply.result);
    else {
      const err = new Error(reply.error?.message ?? 'compaction failed') as NodeJS.ErrnoException;
      if (reply.error?.name) err.name = reply.error.name;
      if (reply.error?.code) err.code = reply.error.code;
      if (reply.error?.stack) err.stack = reply.error.stack;
      job.reject(err);
    }
  }

  private onWorkerGone(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    if (!this.ready) {
      // It never started: run its jobs (and all later ones) inline instead.
      this.fallBack(err);
      const jobs = [...this.jobs.values()];
      this.jobs.clear();
      for (const job of jobs) runJob(job.job, this.logger).then(job.resolve, job.reject);
      return;
    }
    this.failJobs(err);
  }

  private fallBack(err: unknown): void {
    this.logger?.warn('event log: the compaction worker could not start; compacting on the main thread', {
      error: String(err),
    });
    this.inline = true;
  }

  private failJobs(err: Error): void {
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of jobs) job.reject(err);
  }
}

/** A job for the worker thread: compact a segment, export prediction-log rows, or merge a partition. */
export type WorkerJob =
  | { readonly kind: 'compact'; readonly segment: string; readonly lakeDir: string }
  | {
      readonly kind: 'export-predictions';
      readonly dbFile: string;
      readonly lakeDir: string;
      readonly afterSeq: number;
      readonly limit: number;
    }
  | ({ readonly kind: 'merge-partition' } & PartitionMergeJob);

/** Runs one job where it is called: in the worker thread, or inline after the worker could not start. */
export function runJob(
  job: WorkerJob,
  logger?: Logger,
): Promise<CompactionResult | PredictionExportResult | PartitionMergeResult> {
  if (job.kind === 'compact') return compactSegment(job.segment, job.lakeDir, logger ? { logger } : {});
  if (job.kind === 'merge-partition') return mergePartitionFiles(job);
  return exportPredictions(job.dbFile, job.lakeDir, job.afterSeq, job.limit);
}
