/**
 * The local EventLog: a durable, append-only log with group commit, compacted into the Parquet
 * lake in the background.
 *
 * Durability. Rows are appended as checksummed lines (see segment.ts) to the active segment
 * under `dir`. Appends that arrive while a write + fdatasync is in flight are gathered and
 * written together by the next write (group commit), and each `append()` resolves only once its
 * bytes are written and fdatasynced. All file I/O is asynchronous, so the event loop keeps
 * serving while the disk syncs. A crash can only tear the last, unacknowledged write; it is cut
 * off when the log is opened again.
 *
 * Segments. The active segment is sealed (renamed `.sealed`) when it would grow past
 * `maxSegmentBytes` or is `maxSegmentAgeMs` old, and a sealed segment is compacted into
 * `<lakeDir>/<table>/dt=YYYY-MM-DD/hour=HH/` Parquet files in the background (see
 * lake/compactor.ts), then deleted. At open, segments left by a crash are recovered and
 * compacted.
 *
 * De-duplication. A row whose (table, id column value) was appended before is not written again;
 * its index is returned in `duplicates`, and when the original is still waiting for its fsync the
 * duplicate's promise resolves only once the original is durable. "Before" means within the
 * window of a compact in-memory set of 64-bit hashes (see recent-ids.ts): by default at least the
 * last hour, capped at 4 M ids (~16 bytes an id, ~64 MB at the cap), so under heavy load the window
 * is shorter. The set is rebuilt at open from the segments still on disk and from the id column
 * of the lake's partitions of the last window. Exact de-duplication beyond this window is the
 * analytics SQL's job (readers de-duplicate on the table's id column): the lake is at least once.
 *
 * One process owns a log directory at a time (a `LOCK` file holding its pid).
 */

import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DependencyUnavailableError } from '../../../core/errors.js';
import { LAKE_TABLE_NAMES } from '../../../core/lake/tables.js';
import type { EventLog, LakeRow, Logger } from '../../../core/ports.js';
import { EventLogRowError } from '../../shared/event-log-errors.js';
import { inlineCompactor, type SegmentCompactor, WorkerCompactor } from '../lake/compactor.js';
import type { PartitionMergeJob, PartitionMergeResult } from '../lake/partition-merge.js';
import type { PredictionExportResult } from '../lake/prediction-export.js';
import { readRecentLakeIds } from '../lake/recent-ids.js';
import { DEFAULT_DEDUP_MAX_IDS, DEFAULT_DEDUP_WINDOW_MS, RecentIds } from './recent-ids.js';
import { RowCodec } from './row-codec.js';
import {
  ACTIVE_SUFFIX,
  fsyncDir,
  parseSegmentFileName,
  RecordEncoder,
  SEALED_SUFFIX,
  scanSegment,
  sealCrashedSegment,
  segmentBase,
} from './segment.js';

export interface DurableEventLogOptions {
  /** Directory of the segment files (created if missing). */
  readonly dir: string;
  /** Root of the Parquet lake (created if missing). */
  readonly lakeDir: string;
  /** Seal the active segment before it grows past this many bytes. Default 64 MiB. */
  readonly maxSegmentBytes?: number;
  /** Seal the active segment once it is this old, so rows reach the lake soon. Default 10 s. */
  readonly maxSegmentAgeMs?: number;
  /** De-duplication window: ids are remembered at least this long (under the cap). Default 1 h. */
  readonly dedupWindowMs?: number;
  /** Cap on remembered ids (~16 bytes each at the cap). Default 4 000 000. */
  readonly dedupMaxIds?: number;
  /** At open, also remember the ids of the lake's partitions of the last window. Default true. */
  readonly rebuildFromLake?: boolean;
  /** Compact sealed segments in the background; when false only `compact()` and `close()` do. Default true. */
  readonly compactInBackground?: boolean;
  /**
   * Where compaction runs: 'worker' (a worker thread, so Parquet encoding does not take CPU from
   * the event loop; falls back to inline if the worker cannot start) or 'inline'. Default 'worker'.
   */
  readonly compaction?: 'worker' | 'inline';
  /** Where background problems go. Default: warnings and errors to the console. */
  readonly logger?: Logger;
  /** Called before each fdatasync of a segment (a test hook: count syncs, hold a write in flight). */
  readonly beforeSync?: (segmentPath: string) => void | Promise<void>;
  /** Clock in ms since the epoch. Default Date.now. */
  readonly now?: () => number;
}

export interface DurableEventLogStats {
  /** Rows written and fsynced since open. */
  readonly rowsAppended: number;
  /** Rows refused as duplicates since open. */
  readonly duplicates: number;
  /** Rows waiting for their write + fsync (pending or in flight). */
  readonly pendingRows: number;
  /** Group-commit writes (one write + one fdatasync each). */
  readonly writes: number;
  /** fdatasyncs of segments. */
  readonly syncs: number;
  readonly bytesWritten: number;
  /** Segments on disk: the active one plus the sealed ones not yet compacted. */
  readonly segments: number;
  /** Sealed segments waiting for compaction. */
  readonly sealedSegments: number;
  readonly segmentsCompacted: number;
  readonly rowsCompacted: number;
  readonly compactionErrors: number;
  /** Where compaction runs (a worker thread unless it could not start, or 'inline' was asked for). */
  readonly compactingIn: 'worker' | 'inline';
  /** What the last open found: crashed segments sealed, records in them, torn bytes cut off. */
  readonly recovered: { readonly segments: number; readonly records: number; readonly truncatedBytes: number };
  readonly dedup: { readonly ids: number; readonly bytes: number; readonly windowMs: number; readonly maxIds: number };
}

export { EventLogRowError };

/**
 * The log is closing, closed, or unusable after an I/O failure it could not undo: a dependency
 * down with no fallback, which callers see as a 503 (nothing was acknowledged, so they retry).
 */
export class EventLogUnavailableError extends DependencyUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'EventLogUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_SEGMENT_AGE_MS = 10_000;
const COMPACTION_RETRY_MS = 5_000;
const LOCK_FILE = 'LOCK';

const CODECS: Readonly<Record<string, RowCodec>> = Object.fromEntries(
  LAKE_TABLE_NAMES.map((name) => [name, new RowCodec(name)]),
);
const TABLE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(LAKE_TABLE_NAMES.map((name, i) => [name, i]));

interface Batch {
  lines: string[];
  rows: number;
  /** (hi, lo) hash pairs of the rows, to forget them if the write fails. */
  readonly hashes: number[];
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface ActiveSegment {
  readonly base: string;
  readonly path: string;
  readonly fh: FileHandle;
  readonly createdAt: number;
  size: number;
}

const noop = (): void => {};

const consoleLogger: Logger = {
  info: noop,
  warn: (message, fields) => console.warn(message, fields ?? ''),
  error: (message, fields) => console.error(message, fields ?? ''),
};

/** Log directories open in this process (the LOCK file guards against other processes). */
const OPEN_DIRS = new Set<string>();

export class DurableEventLog implements EventLog {
  readonly dir: string;
  readonly lakeDir: string;
  private readonly maxSegmentBytes: number;
  private readonly maxSegmentAgeMs: number;
  private readonly compactInBackground: boolean;
  private readonly logger: Logger;
  private readonly beforeSync: ((segmentPath: string) => void | Promise<void>) | undefined;
  private readonly now: () => number;
  private readonly ids: RecentIds;
  private readonly compactor: SegmentCompactor;
  private readonly instance = randomBytes(4).toString('hex');
  private readonly encoder = new RecordEncoder();
  private segmentCounter = 0;

  private state: 'open' | 'closing' | 'closed' = 'open';
  private failure: Error | null = null;
  private pending: Batch | null = null;
  private inflight: Batch | null = null;
  private active: ActiveSegment | null = null;
  private writing: Promise<void> | null = null;
  private kickScheduled = false;
  private sealWaiters: (() => void)[] = [];
  private readonly sealedQueue: string[] = [];
  private compacting: Promise<void> | null = null;
  private compactionRetryAt = 0;
  private lastCompactionError: unknown = null;
  private timer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;

  private counters = {
    rowsAppended: 0,
    duplicates: 0,
    writes: 0,
    syncs: 0,
    bytesWritten: 0,
    segmentsCompacted: 0,
    rowsCompacted: 0,
    compactionErrors: 0,
  };
  private recovered = { segments: 0, records: 0, truncatedBytes: 0 };

  private constructor(options: DurableEventLogOptions, dir: string, lakeDir: string) {
    this.dir = dir;
    this.lakeDir = lakeDir;
    this.maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    this.maxSegmentAgeMs = options.maxSegmentAgeMs ?? DEFAULT_MAX_SEGMENT_AGE_MS;
    this.compactInBackground = options.compactInBackground ?? true;
    this.logger = options.logger ?? consoleLogger;
    this.beforeSync = options.beforeSync;
    this.now = options.now ?? Date.now;
    this.compactor =
      options.compaction === 'inline'
        ? inlineCompactor(lakeDir, this.logger)
        : new WorkerCompactor(lakeDir, this.logger);
    this.ids = new RecentIds({
      windowMs: options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS,
      maxIds: options.dedupMaxIds ?? DEFAULT_DEDUP_MAX_IDS,
      now: this.now,
    });
  }

  /**
   * Opens (or creates) the log: takes the directory's lock, seals and queues for compaction the
   * segments a previous process left, and rebuilds the de-duplication set.
   */
  static async open(options: DurableEventLogOptions): Promise<DurableEventLog> {
    const dir = resolve(options.dir);
    const lakeDir = resolve(options.lakeDir);
    if (OPEN_DIRS.has(dir)) throw new EventLogUnavailableError(`event log ${dir} is already open in this process`);
    OPEN_DIRS.add(dir);
    let locked = false;
    try {
      await mkdir(dir, { recursive: true });
      await mkdir(lakeDir, { recursive: true });
      await acquireLock(dir);
      locked = true;
      const log = new DurableEventLog(options, dir, lakeDir);
      await log.recover(options.rebuildFromLake ?? true);
      log.start();
      return log;
    } catch (err) {
      if (locked) await rm(join(dir, LOCK_FILE), { force: true });
      OPEN_DIRS.delete(dir);
      throw err;
    }
  }

  /**
   * Appends the rows durably (see the module comment). Rejects with EventLogRowError, writing
   * nothing, when a row does not fit its table (unknown column, wrong type, missing required
   * value, empty id); rejects with EventLogUnavailableError (a 503) carrying the I/O error as its
   * cause when the write fails (nothing of it is kept, so the caller may retry).
   */
  append(rows: readonly LakeRow[]): Promise<{ duplicates: number[] }> {
    if (this.state !== 'open') return Promise.reject(new EventLogUnavailableError('event log is closed'));
    if (this.failure) return Promise.reject(this.failure);
    const n = rows.length;
    const payloads: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const { table, row } = rows[i]!;
      const codec = CODECS[table];
      if (codec === undefined) return Promise.reject(new EventLogRowError(i, `unknown table ${String(table)}`));
      if (typeof row !== 'object' || row === null)
        return Promise.reject(new EventLogRowError(i, 'row is not an object'));
      const payload = codec.serialize(row);
      if (payload === null) return Promise.reject(new EventLogRowError(i, codec.problem));
      payloads[i] = payload;
    }
    const ids = this.ids;
    ids.tick();
    const duplicates: number[] = [];
    let batch = this.pending;
    let added = 0;
    for (let i = 0; i < n; i++) {
      const { table, row } = rows[i]!;
      ids.hash(TABLE_INDEX[table]!, row[CODECS[table]!.idColumn] as string);
      const hi = ids.hi;
      const lo = ids.lo;
      if (!ids.add(hi, lo)) {
        duplicates.push(i);
        continue;
      }
      if (batch === null) {
        batch = newBatch();
        this.pending = batch;
      }
      batch.hashes.push(hi, lo);
      batch.lines.push(payloads[i]!);
      batch.rows++;
      added++;
    }
    this.counters.duplicates += duplicates.length;
    const result = { duplicates };
    if (added > 0) {
      this.kick();
      return batch!.promise.then(() => result);
    }
    // Only duplicates: their originals are durable once everything written so far is.
    const tail = this.tail();
    return tail ? tail.then(() => result) : Promise.resolve(result);
  }

  /** Resolves when every row appended so far is durable (rejects if that write failed). */
  flush(): Promise<void> {
    return this.tail() ?? Promise.resolve();
  }

  /**
   * Makes everything appended so far queryable: flushes, seals the active segment and compacts
   * every sealed segment into the lake. Rejects if a segment could not be compacted (it stays on
   * disk and is retried).
   */
  async compact(): Promise<void> {
    if (this.state === 'closed') throw new EventLogUnavailableError('event log is closed');
    await this.flush();
    await this.requestSeal();
    await this.drainCompaction();
  }

  /**
   * Flushes, seals the active segment, compacts what is left and stops the timers. New appends
   * are refused from the moment it is called. Rejects (after releasing everything) with the
   * first error met; segments that could not be compacted stay on disk for the next open.
   */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.doClose();
    return this.closing;
  }

  /**
   * Writes rows of the SQLite prediction log after `afterSeq` to the lake's model_predictions
   * table, on the compaction thread (see lake/prediction-export.ts): the lake's other feed.
   */
  exportPredictions(dbFile: string, afterSeq: number, limit: number): Promise<PredictionExportResult> {
    return this.compactor.exportPredictions(dbFile, afterSeq, limit);
  }

  /** Merges a lake partition's files into one new file, on the compaction thread (partition-merge.ts). */
  mergePartition(job: PartitionMergeJob): Promise<PartitionMergeResult> {
    return this.compactor.mergePartition(job);
  }

  stats(): DurableEventLogStats {
    return {
      ...this.counters,
      pendingRows: (this.pending?.rows ?? 0) + (this.inflight?.rows ?? 0),
      segments: this.sealedQueue.length + (this.active ? 1 : 0),
      sealedSegments: this.sealedQueue.length,
      compactingIn: this.compactor.runsIn,
      recovered: { ...this.recovered },
      dedup: { ids: this.ids.size, bytes: this.ids.bytes, windowMs: this.ids.windowMs, maxIds: this.ids.maxIds },
    };
  }

  // ------------------------------------------------------------------ open and close

  private async recover(rebuildFromLake: boolean): Promise<void> {
    const segments = (await readdir(this.dir))
      .map(parseSegmentFileName)
      .filter((s): s is { base: string; sealed: boolean } => s !== null)
      .sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : Number(a.sealed) - Number(b.sealed)));
    const seen = new Set<string>();
    let changed = false;
    for (const segment of segments) {
      if (seen.has(segment.base)) continue; // a .log and a .sealed of one base cannot both exist
      seen.add(segment.base);
      if (segment.sealed) {
        this.sealedQueue.push(join(this.dir, segment.base + SEALED_SUFFIX));
        continue;
      }
      const recovered = await sealCrashedSegment(this.dir, segment.base);
      changed = true;
      this.recovered.segments++;
      this.recovered.records += recovered.records;
      this.recovered.truncatedBytes += recovered.truncatedBytes;
      if (recovered.path) this.sealedQueue.push(recovered.path);
      if (recovered.truncatedBytes > 0) {
        this.logger.warn('event log: cut a torn tail off a segment left by a crash', {
          segment: segment.base,
          bytes: recovered.truncatedBytes,
        });
      }
    }
    if (changed) await fsyncDir(this.dir);

    const ids = this.ids;
    if (rebuildFromLake) {
      await readRecentLakeIds(this.lakeDir, {
        sinceMs: this.now() - ids.windowMs,
        maxIds: Math.floor(ids.maxIds / 4),
        onId: (table, id) => {
          ids.hash(TABLE_INDEX[table]!, id);
          ids.add(ids.hi, ids.lo);
        },
        onError: (path, err) =>
          this.logger.warn('event log: could not read the ids of a lake file; skipped', { path, error: String(err) }),
      });
    }
    for (const path of this.sealedQueue) {
      scanSegment(
        await readFile(path),
        (table, json) => {
          let id: unknown;
          try {
            id = (JSON.parse(json) as Record<string, unknown>)[CODECS[table]!.idColumn];
          } catch {
            return; // the compactor reports rows it cannot read
          }
          if (typeof id !== 'string') return;
          ids.hash(TABLE_INDEX[table]!, id);
          ids.add(ids.hi, ids.lo);
        },
        { stopAtBadLine: false },
      );
    }
  }

  private start(): void {
    const tickMs = Math.max(10, Math.min(1_000, Math.floor(this.maxSegmentAgeMs / 4)));
    this.timer = setInterval(() => this.onTimer(), tickMs);
    this.timer.unref();
    this.scheduleCompaction();
  }

  private onTimer(): void {
    this.ids.tick();
    if (this.segmentExpired()) this.kick();
    if (this.sealedQueue.length > 0 && this.now() >= this.compactionRetryAt) this.scheduleCompaction();
  }

  private async doClose(): Promise<void> {
    this.state = 'closing';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let error: unknown = null;
    try {
      await this.flush();
    } catch (err) {
      error ??= err;
    }
    await this.requestSeal();
    if (this.writing) await this.writing;
    try {
      await this.drainCompaction();
    } catch (err) {
      error ??= err;
    }
    if (this.compacting) await this.compacting;
    await this.compactor.close();
    await rm(join(this.dir, LOCK_FILE), { force: true });
    OPEN_DIRS.delete(this.dir);
    this.state = 'closed';
    if (error !== null) throw error;
  }

  // ------------------------------------------------------------------ group commit

  /** The promise of the last batch that holds rows: everything appended so far is durable then. */
  private tail(): Promise<void> | null {
    return this.pending?.promise ?? this.inflight?.promise ?? null;
  }

  private requestSeal(): Promise<void> {
    return new Promise((resolveSeal) => {
      this.sealWaiters.push(resolveSeal);
      this.kick();
    });
  }

  private segmentExpired(): boolean {
    return this.active !== null && this.now() - this.active.createdAt >= this.maxSegmentAgeMs;
  }

  /** Starts the writer after the current I/O phase, so that appends arriving together share a write. */
  private kick(): void {
    if (this.writing !== null || this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      if (this.writing !== null) return;
      this.writing = this.writeLoop().finally(() => {
        this.writing = null;
        if ((this.pending !== null && this.pending.rows > 0) || this.sealWaiters.length > 0) this.kick();
      });
    });
  }

  private async writeLoop(): Promise<void> {
    for (;;) {
      if (this.sealWaiters.length > 0 || this.segmentExpired()) {
        const waiters = this.sealWaiters;
        this.sealWaiters = [];
        await this.sealActive();
        for (const done of waiters) done();
      }
      const batch = this.pending;
      if (batch === null || batch.rows === 0) return;
      this.pending = null;
      this.inflight = batch;
      await this.writeBatch(batch);
      this.inflight = null;
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const bytes = this.encoder.encode(batch.lines);
    batch.lines = [];
    try {
      let segment = this.active;
      if (segment !== null && segment.size > 0 && segment.size + bytes.length > this.maxSegmentBytes) {
        await this.sealActive();
        segment = null;
      }
      segment ??= await this.openSegment();
      const at = segment.size;
      try {
        let offset = 0;
        while (offset < bytes.length) {
          const { bytesWritten } = await segment.fh.write(bytes, offset, bytes.length - offset, at + offset);
          offset += bytesWritten;
        }
        this.counters.writes++;
        if (this.beforeSync) await this.beforeSync(segment.path);
        await segment.fh.datasync();
        this.counters.syncs++;
      } catch (err) {
        await this.undoWrite(segment, at, err);
        throw err;
      }
      segment.size += bytes.length;
      this.counters.bytesWritten += bytes.length;
      this.counters.rowsAppended += batch.rows;
      batch.resolve();
    } catch (err) {
      this.failBatch(batch, err);
    }
  }

  /**
   * A failed write is cut off so the segment holds only acknowledged rows; if even that fails,
   * the log stops accepting appends (the segment is recovered at the next open).
   */
  private async undoWrite(segment: ActiveSegment, at: number, cause: unknown): Promise<void> {
    try {
      await segment.fh.truncate(at);
      await segment.fh.datasync();
    } catch (err) {
      this.failure = new EventLogUnavailableError('event log is unusable: a failed write could not be undone', {
        cause: err,
      });
      this.logger.error('event log: a failed write could not be undone; refusing appends', {
        segment: segment.path,
        write: String(cause),
        truncate: String(err),
      });
    }
  }

  /**
   * Rejects the failed batch and the pending one (a duplicate in it may point at a row of the
   * failed batch), and forgets their ids so that the callers' retries are not taken for duplicates.
   */
  private failBatch(batch: Batch, err: unknown): void {
    // Unavailable, not a bug: the caller gets a 503 (nothing was kept, so a retry is safe), not a 500.
    const error = new EventLogUnavailableError(`event log write failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
    const pending = this.pending;
    this.pending = null;
    for (const b of pending ? [batch, pending] : [batch]) {
      const h = b.hashes;
      for (let i = 0; i < h.length; i += 2) this.ids.delete(h[i]!, h[i + 1]!);
      b.reject(
        b === batch
          ? error
          : new EventLogUnavailableError('event log write failed for an earlier batch', { cause: error }),
      );
    }
    this.logger.error('event log: write failed', { error: String(error) });
  }

  private async openSegment(): Promise<ActiveSegment> {
    const createdAt = this.now();
    const base = segmentBase(createdAt, this.instance, this.segmentCounter++);
    const path = join(this.dir, base + ACTIVE_SUFFIX);
    const fh = await open(path, 'wx');
    try {
      await fsyncDir(this.dir);
    } catch (err) {
      await fh.close().catch(noop);
      await rm(path, { force: true }).catch(noop);
      throw err;
    }
    this.active = { base, path, fh, createdAt, size: 0 };
    return this.active;
  }

  /** Seals the active segment and queues it for compaction; never throws (problems are logged). */
  private async sealActive(): Promise<void> {
    const segment = this.active;
    if (segment === null) return;
    this.active = null;
    let path = segment.path;
    try {
      await segment.fh.close();
      if (segment.size === 0) {
        await rm(segment.path, { force: true });
        return;
      }
      const sealed = join(this.dir, segment.base + SEALED_SUFFIX);
      await rename(segment.path, sealed);
      path = sealed;
      await fsyncDir(this.dir);
    } catch (err) {
      this.logger.error('event log: could not seal a segment; it is compacted as it is', {
        segment: segment.path,
        error: String(err),
      });
    }
    if (segment.size > 0) {
      this.sealedQueue.push(path);
      this.scheduleCompaction();
    }
  }

  // ------------------------------------------------------------------ compaction

  private scheduleCompaction(force = false): void {
    if ((!force && !this.compactInBackground) || this.compacting !== null || this.sealedQueue.length === 0) return;
    this.compacting = this.compactLoop().finally(() => {
      this.compacting = null;
    });
  }

  private async compactLoop(): Promise<void> {
    while (this.sealedQueue.length > 0) {
      const segment = this.sealedQueue[0]!;
      try {
        const result = await this.compactor.compact(segment);
        this.sealedQueue.shift();
        this.counters.segmentsCompacted++;
        this.counters.rowsCompacted += result.rows;
      } catch (err) {
        this.counters.compactionErrors++;
        this.lastCompactionError = err;
        this.compactionRetryAt = this.now() + COMPACTION_RETRY_MS;
        this.logger.error('event log: compaction failed; the segment is kept and retried', {
          segment,
          error: String(err),
        });
        return;
      }
    }
  }

  private async drainCompaction(): Promise<void> {
    if (this.compacting) await this.compacting;
    this.scheduleCompaction(true);
    if (this.compacting) await this.compacting;
    if (this.sealedQueue.length > 0) {
      throw new Error(`event log: ${this.sealedQueue.length} segment(s) could not be compacted`, {
        cause: this.lastCompactionError,
      });
    }
  }
}

function newBatch(): Batch {
  let resolveBatch!: () => void;
  let rejectBatch!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolveBatch = res;
    rejectBatch = rej;
  });
  promise.catch(noop); // every caller gets its own derived promise; this one must not be "unhandled"
  return { lines: [], rows: 0, hashes: [], promise, resolve: resolveBatch, reject: rejectBatch };
}

/** Takes the directory's LOCK file, replacing it when the process that wrote it is gone. */
async function acquireLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(String(process.pid));
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && (await processAlive(pid))) {
      throw new EventLogUnavailableError(`event log ${dir} is locked by process ${pid}`);
    }
    await rm(path, { force: true });
  }
}

/** Whether a process runs (a zombie, killed but not yet reaped by its parent, does not). */
async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // Linux: the state is the field after the parenthesised command name.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return true;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}
