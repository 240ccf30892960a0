/**
 * The ad-performance query (GET /analytics/ad-performance) over a synthetic lake of 10 M
 * impressions, as the local server runs it: DuckDB on one thread with the server's memory limit,
 * through `DuckDbAnalytics` and its exact hourly rollups. Baselines measured in the same run, on
 * the same files: the plain query over the raw tables (what the rollups replace), and a bare
 * `count(*)` over the impressions (the fixed cost of touching the lake at all).
 *
 * Figures: the first request (which builds the rollup of every closed hour), warm requests
 * (median of `runs`), and a request after a late click landed in an old partition (the hours
 * that read that partition are rebuilt first). See bench/README.md.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbAnalytics } from '../lambdas/adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../lambdas/adapters/local/duckdb/lake-database.js';
import { writeLakeParquetFile } from '../lambdas/adapters/local/lake/parquet-writer.js';
import { partitionDir } from '../lambdas/adapters/local/lake/partitions.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../lambdas/core/lake/attribution.js';
import type { AdPerformanceQuery } from '../lambdas/core/schemas/analytics.js';
import { cachedLake } from './lake/cached-lake.js';
import type { LakeSummary } from './lake/generate-lake.js';
import type { Target } from './predict-http.js';
import { fmtInt, fmtMs, fmtRatio, log, median, sleep, table, waitQuiet } from './support.js';

export const ANALYTICS_TARGET_MS = 200;
const HOUR_MS = 3_600_000;

export interface AnalyticsBenchOptions {
  readonly impressions: number;
  readonly days: number;
  readonly seed: number;
  /** Warm requests measured (the median is reported). */
  readonly runs: number;
  /** Runs of the plain query (0 skips it; one takes tens of seconds at 10 M impressions). */
  readonly plainRuns: number;
  /** Where the lake is generated, and reused by later runs with the same options. */
  readonly lakeDir: string;
  readonly keepData: boolean;
  /** Wait up to this long for both cores to be idle before measuring. */
  readonly quietWaitS: number;
}

export interface AnalyticsBenchResult {
  readonly lake: LakeSummary & { readonly reused: boolean };
  /** Milliseconds. */
  readonly coldMs: number;
  readonly warmMs: number;
  readonly warmHourlyOneAdMs: number;
  readonly afterLateClickMs: number;
  readonly plainMs: number | null;
  readonly bareCountMs: number;
  readonly rows: number;
  /** Busy share of each core just before measuring (other processes). */
  readonly busyBefore: number[];
  readonly targets: Target[];
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

export async function runAnalyticsBench(o: AnalyticsBenchOptions): Promise<AnalyticsBenchResult> {
  log('\n== analytics: GET /analytics/ad-performance over the lake ==');
  const lake = await cachedLake(o.lakeDir, o);
  const lakeDir = join(o.lakeDir, 'lake');
  log(
    `lake: ${fmtInt(lake.impressions)} impressions, ${fmtInt(lake.clicks)} clicks, ${fmtInt(lake.predictions)} predictions, ` +
      `${fmtInt(lake.flagged)} flagged, ${lake.from.toISOString()} .. ${lake.to.toISOString()}${lake.reused ? ' (reused)' : ''}`,
  );
  const query: AdPerformanceQuery = {
    from: lake.from,
    to: lake.to,
    adId: null,
    granularity: 'day',
    limit: 10_000,
    attributionWindowSeconds: DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
  };
  const oneAdHourly: AdPerformanceQuery = { ...query, adId: 'ad1', granularity: 'hour' };

  // The rollup trusts a partition once it has not changed for a few seconds (settleMs, 5 s):
  // a lake generated just now is read raw until then.
  if (!lake.reused) await sleep(6_000);
  const quiet = await waitQuiet(o.quietWaitS);
  log(`cores busy before measuring: ${quiet.busy.map((b) => `${(b * 100).toFixed(0)}%`).join(', ')}`);
  // What the local server opens: one thread, the default memory limit.
  const db = await LakeDatabase.open({ lakeDir, tempDirectory: join(o.lakeDir, 'duckdb-tmp') });
  let result: Omit<AnalyticsBenchResult, 'plainMs' | 'targets' | 'lake' | 'busyBefore'>;
  try {
    const analytics = new DuckDbAnalytics(db);
    const bare = [];
    for (let i = 0; i < o.runs; i++)
      bare.push((await timed(() => db.query('SELECT count(*) AS n FROM ad_impressions'))).ms);

    const cold = await timed(() => analytics.adPerformance(query));
    const warm = [];
    for (let i = 0; i < o.runs; i++) warm.push((await timed(() => analytics.adPerformance(query))).ms);
    const hourly = [];
    for (let i = 0; i < o.runs; i++) hourly.push((await timed(() => analytics.adPerformance(oneAdHourly))).ms);

    // A late click lands in an old hour's partition each time: the hours reading it are rebuilt.
    const late = [];
    for (let i = 0; i < o.runs; i++) {
      const at = new Date(lake.from.getTime() + (24 + 5 * i) * HOUR_MS + 30 * 60_000);
      const dir = partitionDir(lakeDir, 'clicks', at);
      await writeLakeParquetFile(join(dir, `bench-late-${i}.parquet`), 'clicks', [
        { click_id: `bench-late-${i}`, impression_id: 'i1', clicked: true, timestamp: at, received_at: new Date() },
      ]);
      late.push((await timed(() => analytics.adPerformance(query))).ms);
    }
    for (let i = 0; i < o.runs; i++) {
      const at = new Date(lake.from.getTime() + (24 + 5 * i) * HOUR_MS + 30 * 60_000);
      rmSync(join(partitionDir(lakeDir, 'clicks', at), `bench-late-${i}.parquet`), { force: true });
    }
    result = {
      coldMs: cold.ms,
      warmMs: median(warm),
      warmHourlyOneAdMs: median(hourly),
      afterLateClickMs: median(late),
      bareCountMs: median(bare),
      rows: cold.value.rows.length,
    };
  } finally {
    db.close();
  }

  // The plain query needs the whole range's impressions and predictions in hash tables: it gets
  // the memory it needs (it would spill for minutes at the server's 256 MB).
  let plainMs: number | null = null;
  if (o.plainRuns > 0) {
    const big = await LakeDatabase.open({ lakeDir, memoryLimit: '4GB', tempDirectory: join(o.lakeDir, 'duckdb-tmp') });
    try {
      const plain = new DuckDbAnalytics(big, { rollup: false });
      const runs = [];
      for (let i = 0; i < o.plainRuns; i++) runs.push((await timed(() => plain.adPerformance(query))).ms);
      plainMs = median(runs);
    } finally {
      big.close();
    }
  }
  if (!o.keepData) rmSync(join(o.lakeDir, 'duckdb-tmp'), { recursive: true, force: true });

  const r = result;
  const vsPlain = (ms: number) =>
    plainMs === null
      ? ['', '']
      : [
          fmtMs(plainMs),
          `${fmtRatio(ms / plainMs)} (${ms <= plainMs ? `${(plainMs / ms).toFixed(0)}× faster` : `${(ms / plainMs).toFixed(1)}× slower`})`,
        ];
  const rows: string[][] = [
    ['bare count(*) over the impressions', fmtMs(r.bareCountMs), '', ''],
    ['first request (builds every hour)', fmtMs(r.coldMs), ...vsPlain(r.coldMs)],
    ['warm: 7 days × every ad, by day', fmtMs(r.warmMs), ...vsPlain(r.warmMs)],
    ['warm: one ad, by hour', fmtMs(r.warmHourlyOneAdMs), ...vsPlain(r.warmHourlyOneAdMs)],
    ['after a late click (its 2 hours read raw)', fmtMs(r.afterLateClickMs), ...vsPlain(r.afterLateClickMs)],
  ];
  log(`${fmtInt(r.rows)} rows a request; medians of ${o.runs} runs (plain query: ${o.plainRuns} run(s), 4 GB)`);
  log(table(['request', 'with rollups', 'plain query', 'ratio'], rows));
  log(`warm request / bare count(*): ${fmtRatio(r.warmMs / r.bareCountMs)}`);
  const targets: Target[] = [
    {
      name: `ad-performance over ${fmtInt(lake.impressions)} impressions (warm)`,
      value: fmtMs(r.warmMs),
      target: `≤ ${ANALYTICS_TARGET_MS} ms`,
      met: r.warmMs <= ANALYTICS_TARGET_MS,
    },
  ];
  return { lake, ...r, busyBefore: quiet.busy, plainMs, targets };
}
