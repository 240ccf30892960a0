/**
 * The merging of small lake files (lambdas/adapters/local/lake/partition-compaction.ts). A lake
 * as steady light traffic leaves it: every table partition (an hour) holds one small Parquet file
 * per 10 s segment. Baseline, measured in the same run on the same rows: the analytics queries
 * over those files. Then the compaction runs (timed), and the same queries again over the merged
 * files; their answers must be equal (the benchmark stops otherwise). See bench/README.md.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbAnalytics } from '../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../lambdas/adapters/local/duckdb/lake-database.js';
import { writeLakeParquetFile } from '../lambdas/adapters/local/lake/parquet-writer.js';
import { LakePartitionCompaction } from '../lambdas/adapters/local/lake/partition-compaction.js';
import { mergePartitionFiles } from '../lambdas/adapters/local/lake/partition-merge.js';
import { partitionDir } from '../lambdas/adapters/local/lake/partitions.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../lambdas/core/lake/attribution.js';
import { createRandom } from '../sagemaker/model/prng.js';
import { fmtInt, fmtMs, fmtRatio, log, median, table, waitQuiet } from './support.js';

const HOUR_MS = 3_600_000;
const SEGMENT_MS = 10_000;

export interface LakeCompactionBenchOptions {
  /** Closed hours of traffic in the lake. */
  readonly hours: number;
  /** Impressions per second of the simulated traffic (one file per 10 s segment and table). */
  readonly impressionsPerSecond: number;
  /** Measured runs of each query (the median is reported). */
  readonly runs: number;
  readonly keepData: boolean;
  readonly quietWaitS: number;
}

export interface LakeCompactionBenchResult {
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly rows: number;
  readonly compactionMs: number;
  /** Median milliseconds of each query, before and after. */
  readonly queries: readonly { readonly name: string; readonly beforeMs: number; readonly afterMs: number }[];
}

function countParquet(dir: string): number {
  return readdirSync(dir, { recursive: true }).filter((n) => String(n).endsWith('.parquet')).length;
}

/** Writes the lake: per segment, one impressions file and (when it has any) one clicks file. */
async function writeLake(lakeDir: string, from: Date, o: LakeCompactionBenchOptions): Promise<number> {
  const rng = createRandom(7);
  const devices = ['mobile', 'desktop', 'tablet'];
  const perSegment = Math.round((o.impressionsPerSecond * SEGMENT_MS) / 1000);
  let n = 0;
  for (let t = from.getTime(); t < from.getTime() + o.hours * HOUR_MS; t += SEGMENT_MS) {
    const impressions = [];
    const clicks = [];
    for (let k = 0; k < perSegment; k++) {
      const at = new Date(t + Math.floor((k * SEGMENT_MS) / perSegment));
      const id = `i${n++}`;
      impressions.push({
        impression_id: id,
        prediction_id: null,
        user_id: `u_${rng.int(5_000)}`,
        ad_id: `ad${rng.int(200)}`,
        timestamp: at,
        device_type: devices[rng.int(3)]!,
        location: `L${rng.int(20)}`,
        ip: null,
        features: null,
        received_at: at,
      });
      if (rng.next() < 0.02)
        clicks.push({ click_id: `c${id}`, impression_id: id, clicked: true, timestamp: at, received_at: at });
    }
    const name = `seg-${String(t).padStart(13, '0')}.parquet`;
    const dir = partitionDir(lakeDir, 'ad_impressions', new Date(t));
    mkdirSync(dir, { recursive: true });
    await writeLakeParquetFile(join(dir, name), 'ad_impressions', impressions);
    if (clicks.length > 0) {
      const cdir = partitionDir(lakeDir, 'clicks', new Date(t));
      mkdirSync(cdir, { recursive: true });
      await writeLakeParquetFile(join(cdir, name), 'clicks', clicks);
    }
  }
  return n;
}

export async function runLakeCompactionBench(o: LakeCompactionBenchOptions): Promise<LakeCompactionBenchResult> {
  log('\n== lake compaction: merging the small files of closed partitions ==');
  const root = join(tmpdir(), `adclick-bench-lake-compaction-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  const lakeDir = join(root, 'lake');
  const from = new Date(Date.UTC(2026, 10, 2));
  const to = new Date(from.getTime() + o.hours * HOUR_MS);
  const rows = await writeLake(lakeDir, from, o);
  const filesBefore = countParquet(lakeDir);
  log(
    `lake: ${fmtInt(rows)} impressions over ${o.hours} h at ${o.impressionsPerSecond}/s, ${fmtInt(filesBefore)} files`,
  );

  const db = await LakeDatabase.open({ lakeDir, tempDirectory: join(root, 'duckdb-tmp') });
  try {
    // The plain queries: the ad-performance rollup would hide the files behind its cache.
    const analytics = new DuckDbAnalytics(db, { rollup: false });
    const range = { from, to, attributionWindowSeconds: DEFAULT_ATTRIBUTION_WINDOW_SECONDS };
    const queries = [
      {
        name: 'user segments by device type',
        run: () => analytics.userSegments({ ...range, dimension: 'device_type', limit: 100 }),
      },
      {
        name: 'ad performance by day, every ad',
        run: () => analytics.adPerformance({ ...range, adId: null, granularity: 'day', limit: 10_000 }),
      },
    ];
    const measure = async () => {
      const out: { ms: number; answer: string }[] = [];
      for (const q of queries) {
        const times: number[] = [];
        let answer = '';
        for (let i = 0; i < o.runs; i++) {
          const t = performance.now();
          answer = JSON.stringify(await q.run());
          times.push(performance.now() - t);
        }
        out.push({ ms: median(times), answer });
      }
      return out;
    };

    const quiet = await waitQuiet(o.quietWaitS);
    log(`cores busy before measuring: ${quiet.busy.map((b) => `${(b * 100).toFixed(0)}%`).join(', ')}`);
    const before = await measure();
    const compaction = new LakePartitionCompaction(lakeDir, { mergePartition: mergePartitionFiles }, db, {
      tempDirectory: join(root, 'duckdb-tmp'),
      stagingDir: join(root, 'staging'),
      now: () => to.getTime() + 2 * HOUR_MS,
    });
    const t = performance.now();
    const merged = await compaction.run();
    const compactionMs = performance.now() - t;
    const filesAfter = countParquet(lakeDir);
    const after = await measure();
    queries.forEach((q, i) => {
      if (before[i]!.answer !== after[i]!.answer) throw new Error(`${q.name}: the answer changed after compaction`);
    });

    const result: LakeCompactionBenchResult = {
      filesBefore,
      filesAfter,
      rows,
      compactionMs,
      queries: queries.map((q, i) => ({ name: q.name, beforeMs: before[i]!.ms, afterMs: after[i]!.ms })),
    };
    log(
      `compaction: ${merged.partitions} partitions, ${fmtInt(merged.filesMerged)} files merged into ${fmtInt(filesAfter)} in ${fmtMs(compactionMs)}` +
        ' (DuckDB on this thread here; the server runs it on its low-priority compaction thread)',
    );
    log(
      table(
        ['query (median of runs; same answers)', 'small files (baseline)', 'compacted', 'ratio'],
        result.queries.map((q) => [q.name, fmtMs(q.beforeMs), fmtMs(q.afterMs), fmtRatio(q.afterMs / q.beforeMs)]),
      ),
    );
    return result;
  } finally {
    db.close();
    if (!o.keepData) rmSync(root, { recursive: true, force: true });
  }
}
