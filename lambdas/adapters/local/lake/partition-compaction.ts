/**
 * Merges the small Parquet files of closed lake partitions, the local twin of the Glue job
 * (glue-jobs/compact_partition.py). The event log seals a segment every 10 s and each segment
 * makes one file per partition it touches, so an hour of steady traffic leaves ~360 files in each
 * table's partition; DuckDB pays for every file it opens (a query over 3 600 such files took
 * 460–635 ms, over the same rows in 10 files 139–168 ms), and a long-lived data dir collects
 * millions of them.
 *
 * For each table and each partition whose hour ended `closedForMs` ago and which holds at least
 * `minFiles` files (at most `maxBytes` together: larger partitions come from heavy traffic,
 * whose segments are large already):
 *
 * 1. list its Parquet files (files that land later are left for the next run);
 * 2. merge them, each id once, into a file in `stagingDir` (partition-merge.ts, on the compaction
 *    thread), fsynced;
 * 3. with no query of this process reading the lake (LakeDatabase.exclusive): rename it into the
 *    partition as `compacted-<run>.parquet`, delete the listed files, fsync the directory.
 *
 * A crash between the rename and the deletes leaves some rows in two files; every reader
 * de-duplicates on the table's id, as it must anyway (delivery is at least once), and the next
 * run merges them again. A crash before the rename leaves a file in the staging directory, which
 * no reader lists and `clearStaging` (at start, before erasures resume) removes. The caller runs
 * this one at a time with the lake's other rewrite, erasure, so the two never work on the same
 * files.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LAKE_TABLE_NAMES, type LakeTableName } from '../../../core/lake/tables.js';
import type { Logger } from '../../../core/ports.js';
import type { LakeDatabase } from '../duckdb/lake-database.js';
import { fsyncDir } from '../event-log/segment.js';
import type { PartitionMergeJob, PartitionMergeResult } from './partition-merge.js';
import { HOUR_MS, hourPartitions, sortedEntries } from './partitions.js';

export interface PartitionCompactionOptions {
  /**
   * A partition is merged once its hour ended this long ago: late events still land in the
   * recent ones.
   * @default 1 hour
   */
  readonly closedForMs?: number;
  /**
   * Partitions with fewer files are left alone.
   * @default 4
   */
  readonly minFiles?: number;
  /**
   * Partitions whose files add up to more are left alone (heavy traffic writes large files).
   * @default 256 MiB
   */
  readonly maxBytes?: number;
  /** Where DuckDB spills while merging. */
  readonly tempDirectory: string;
  /**
   * Where merged files are written before they are renamed into their partition: a directory of
   * their own on the lake's filesystem (the rename must not cross filesystems).
   */
  readonly stagingDir: string;
  /**
   * While it answers true, no partition's files are replaced (the run stops; the next tries
   * again): for a reader of the lake in another process, such as a retrain, which a deleted input
   * would fail.
   */
  readonly paused?: () => boolean;
  readonly logger?: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface PartitionCompactionResult {
  readonly partitions: number;
  readonly filesMerged: number;
  readonly rows: number;
  /** Partitions whose merge failed (logged; their files are untouched). */
  readonly failed: number;
}

interface Candidate {
  readonly table: LakeTableName;
  readonly dir: string;
  readonly files: string[];
}

export class LakePartitionCompaction {
  private readonly closedForMs: number;
  private readonly minFiles: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(
    private readonly lakeDir: string,
    private readonly merger: { mergePartition(job: PartitionMergeJob): Promise<PartitionMergeResult> },
    private readonly lake: Pick<LakeDatabase, 'exclusive'>,
    private readonly options: PartitionCompactionOptions,
  ) {
    this.closedForMs = options.closedForMs ?? HOUR_MS;
    this.minFiles = Math.max(2, options.minFiles ?? 4);
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  async run(): Promise<PartitionCompactionResult> {
    let partitions = 0;
    let filesMerged = 0;
    let rows = 0;
    let failed = 0;
    const candidates = await this.candidates();
    if (candidates.length > 0) await mkdir(this.options.stagingDir, { recursive: true });
    for (const candidate of candidates) {
      if (this.options.paused?.()) break;
      const run = `${this.now()}-${randomBytes(4).toString('hex')}`;
      const tmp = join(this.options.stagingDir, `${run}.parquet`);
      let merged: PartitionMergeResult;
      try {
        merged = await this.merger.mergePartition({
          table: candidate.table,
          files: candidate.files,
          out: tmp,
          tempDirectory: this.options.tempDirectory,
        });
      } catch (err) {
        failed++;
        await rm(tmp, { force: true }).catch(() => undefined);
        this.options.logger?.warn('lake compaction: a partition could not be merged; its files are untouched', {
          partition: candidate.dir,
          error: String(err),
        });
        continue;
      }
      if (this.options.paused?.()) {
        await rm(tmp, { force: true });
        break;
      }
      await this.lake.exclusive(async () => {
        await rename(tmp, join(candidate.dir, `compacted-${run}.parquet`));
        for (const file of candidate.files) await rm(file, { force: true });
        await fsyncDir(candidate.dir);
      });
      partitions++;
      filesMerged += candidate.files.length;
      rows += merged.rows;
    }
    return { partitions, filesMerged, rows, failed };
  }

  /** Removes the merged files a crash left before they were renamed into their partition. */
  async clearStaging(): Promise<void> {
    await rm(this.options.stagingDir, { recursive: true, force: true });
  }

  /** Closed partitions with enough small files. */
  private async candidates(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const closedBefore = this.now() - this.closedForMs - HOUR_MS;
    for (const table of LAKE_TABLE_NAMES) {
      for (const { dir, start } of await hourPartitions(this.lakeDir, table, (day) => day <= closedBefore)) {
        if (start > closedBefore) continue;
        const files = (await sortedEntries(dir)).filter((n) => n.endsWith('.parquet')).map((n) => join(dir, n));
        if (files.length < this.minFiles) continue;
        const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
        if (sizes.reduce((a, b) => a + b, 0) > this.maxBytes) continue;
        out.push({ table, dir, files });
      }
    }
    return out;
  }
}
