/**
 * Exact hourly rollups of the ad-performance query.
 *
 * The rollup holds, per closed hour and ad, the additive counts that sql/analytics/ad-performance.sql
 * returns at hourly granularity (impressions, clicks, predicted impressions and clicks, the sum
 * of predicted probabilities), built by running that same query over the hour. A request adds
 * up the rollup's hours and computes the rest from the raw tables with the same query: the
 * partial hours at its ends, the hours not yet closed (clicks may still come), and any hour
 * whose input partitions changed since it was rolled up. So the answer equals the plain query's:
 * the counts exactly, the sums of probabilities up to the order of floating-point additions.
 *
 * Why it stays exact:
 * - An hour's answer depends only on the partitions it reads (shared/analytics-sql.ts
 *   `labelledImpressionInputs`): its impressions, the clicks and flags up to one attribution
 *   window later, the predictions within one window either side. De-duplication is per hour
 *   partition, so nothing outside those partitions can change it.
 * - Each of those partition directories is fingerprinted (inode and modification time) before the
 *   hour is built. Lake files are renamed into place whole, which changes their directory's
 *   modification time, so a late event, a fraud flag, a compaction or an erasure rewrite in any
 *   input partition makes the hour stale: it is rebuilt before it is used again.
 * - A directory modified less than `settleMs` before a build is not trusted to be finished (and
 *   coarse file-system clocks could hide a second change in the same tick): that hour is
 *   computed from the raw tables this time and rolled up later.
 *
 * The rollup lives in the lake database's memory and is rebuilt on demand after a restart.
 * Queries run one at a time through it, so a rebuild never races a read.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../core/lake/attribution.js';
import type { AdPerformanceCounts, AdPerformanceQuery, Limited } from '../../../core/schemas/analytics.js';
import {
  adPerformanceCounts,
  adPerformanceParams,
  hourKey,
  labelledImpressionInputs,
  limited,
  sqlTimestamp,
} from '../../shared/analytics-sql.js';
import { loadSql } from '../../shared/sql-files.js';
import { type LakeDatabase, plainRows } from './lake-database.js';

const HOUR_MS = 3_600_000;
/** Rows a build or live step may return: every ad of every hour it covers. */
const ALL_ROWS = 2_147_483_647;
/** Each rollup has its own table: its fingerprints describe that table's rows only. */
let tables = 0;
const COUNT_COLUMNS = 'impressions, clicks, predicted_impressions, predicted_clicks, sum_probability';

export interface AdPerformanceRollupOptions {
  /** The attribution window it is built for (default 1 h); a query with another runs plainly. */
  readonly windowSeconds?: number;
  /** The clock deciding which hours are closed (tests move it). */
  readonly now?: () => Date;
  /** A partition modified less than this long before a build is not rolled up yet (default 5 s). */
  readonly settleMs?: number;
  /**
   * Impression Parquet bytes one build step reads at most, unless one hour alone has more
   * (default 16 MB, about half a million impressions): bounds DuckDB's memory while building.
   */
  readonly maxBuildBytes?: number;
}

/** What the last query did, hour by hour (for tests and the benchmark). */
export interface RollupUse {
  readonly rolledUp: number;
  readonly rebuilt: number;
  readonly live: number;
}

type Range = readonly [from: number, to: number];

/** Adjacent or overlapping ranges joined, in order. */
function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** A query's values as JSON-friendly data, as LakeDatabase.query gives them. */
export class AdPerformanceRollup {
  private readonly windowSeconds: number;
  private readonly now: () => Date;
  private readonly settleMs: number;
  private readonly maxBuildBytes: number;
  /** Hour start (ms) → the fingerprint of its input partitions when it was rolled up. */
  private readonly built = new Map<number, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;
  private readonly table = `ad_performance_hourly_${++tables}`;
  lastUse: RollupUse = { rolledUp: 0, rebuilt: 0, live: 0 };

  constructor(
    private readonly db: LakeDatabase,
    options: AdPerformanceRollupOptions = {},
  ) {
    this.windowSeconds = options.windowSeconds ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
    this.now = options.now ?? (() => new Date());
    this.settleMs = options.settleMs ?? 5_000;
    this.maxBuildBytes = options.maxBuildBytes ?? 16 * 1024 * 1024;
  }

  /** True when the rollup was built for the query's attribution window. */
  serves(q: AdPerformanceQuery): boolean {
    return q.attributionWindowSeconds === this.windowSeconds;
  }

  query(q: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    const run = this.queue.then(() => this.answer(q));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async answer(q: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    this.ready ??= this.db.exec(
      `CREATE TABLE IF NOT EXISTS ${this.table} (ad_id VARCHAR NOT NULL, hour_start TIMESTAMP NOT NULL,
        impressions BIGINT NOT NULL, clicks BIGINT NOT NULL, predicted_impressions BIGINT NOT NULL,
        predicted_clicks BIGINT NOT NULL, sum_probability DOUBLE NOT NULL)`,
    );
    await this.ready;
    const from = q.from.getTime();
    const to = q.to.getTime();
    const firstFull = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const endFull = Math.floor(to / HOUR_MS) * HOUR_MS;
    const live: Range[] = [];
    const closed: number[] = [];
    if (firstFull >= endFull) live.push([from, to]);
    else {
      if (from < firstFull) live.push([from, firstFull]);
      if (endFull < to) live.push([endFull, to]);
      // An hour is closed once every click it can be credited with is due (and settled).
      const closedBefore = this.now().getTime() - (this.windowSeconds * 1000 + this.settleMs);
      for (let h = firstFull; h < endFull; h += HOUR_MS) {
        if (h + HOUR_MS <= closedBefore) closed.push(h);
        else live.push([h, h + HOUR_MS]);
      }
    }
    const { unsettled, rebuilt } = await this.refresh(closed);
    for (const h of unsettled) live.push([h, h + HOUR_MS]);
    this.lastUse = {
      rolledUp: closed.length - unsettled.length,
      rebuilt,
      live: Math.ceil(live.reduce((s, [a, b]) => s + (b - a), 0) / HOUR_MS),
    };
    return this.combine(q, firstFull, endFull, mergeRanges(live));
  }

  /** Sums the rollup's hours and the live ranges into periods, in one connection. */
  private combine(
    q: AdPerformanceQuery,
    firstFull: number,
    endFull: number,
    live: readonly Range[],
  ): Promise<Limited<AdPerformanceCounts>> {
    return this.db.withConnection(async (c) => {
      await c.run(`CREATE TEMP TABLE live_hours AS SELECT * FROM ${this.table} WHERE false`);
      for (const [a, b] of live) {
        await this.insertHours(c, 'live_hours', { ...q, from: new Date(a), to: new Date(b), granularity: 'hour' });
      }
      const reader = await c.runAndReadAll(
        `SELECT
           ad_id,
           CASE WHEN ? = 'day' THEN date_trunc('day', hour_start) ELSE hour_start END AS period_start,
           CAST(sum(impressions) AS BIGINT) AS impressions,
           CAST(sum(clicks) AS BIGINT) AS clicks,
           CAST(sum(predicted_impressions) AS BIGINT) AS predicted_impressions,
           CAST(sum(predicted_clicks) AS BIGINT) AS predicted_clicks,
           sum(sum_probability) AS sum_probability
         FROM (
           SELECT * FROM ${this.table}
           WHERE hour_start >= CAST(? AS TIMESTAMP) AND hour_start < CAST(? AS TIMESTAMP)
             AND (CAST(? AS VARCHAR) IS NULL OR ad_id = CAST(? AS VARCHAR))
           UNION ALL
           SELECT * FROM live_hours
         ) AS hours
         GROUP BY 1, 2
         ORDER BY period_start, ad_id
         LIMIT ?`,
        [
          q.granularity,
          sqlTimestamp(new Date(firstFull)),
          sqlTimestamp(new Date(Math.max(firstFull, endFull))),
          q.adId,
          q.adId,
          q.limit + 1,
        ] as DuckDBValue[],
      );
      return limited(plainRows(reader.getRowObjectsJS()).map(adPerformanceCounts), q.limit);
    });
  }

  /** Runs the ad-performance query hourly over a range and appends its counts to `table`. */
  private async insertHours(c: DuckDBConnection, table: string, q: AdPerformanceQuery): Promise<void> {
    await this.db.narrowViews(c, labelledImpressionInputs(q, q.attributionWindowSeconds));
    const sql = loadSql('analytics/ad-performance', 'duckdb');
    await c.run(
      `INSERT INTO ${table} SELECT ad_id, period_start, ${COUNT_COLUMNS} FROM (\n${sql}\n) AS hourly`,
      adPerformanceParams({ ...q, granularity: 'hour' }, ALL_ROWS) as DuckDBValue[],
    );
  }

  /** Rebuilds the closed hours whose inputs changed; returns those that could not be, yet. */
  private async refresh(closed: readonly number[]): Promise<{ unsettled: number[]; rebuilt: number }> {
    // Every input directory stated once, off the event loop (a 92-day range has thousands).
    const dirsOf = new Map(closed.map((h) => [h, this.inputDirs(h)] as const));
    const unique = [...new Set([...dirsOf.values()].flat())];
    const states = await Promise.all(
      unique.map(async (dir) => {
        const st = await stat(dir, { bigint: true }).catch(() => undefined);
        return st
          ? { fingerprint: `${st.ino}:${st.mtimeNs}`, modifiedMs: Number(st.mtimeNs / 1_000_000n), absent: false }
          : { fingerprint: '-', modifiedMs: 0, absent: true };
      }),
    );
    const stats = new Map(unique.map((dir, i) => [dir, states[i]!] as const));
    const inputsOf = (h: number) => (dirsOf.get(h) ?? []).map((dir) => stats.get(dir)!);
    const fingerprint = (h: number) =>
      inputsOf(h)
        .map((s) => s.fingerprint)
        .join('|');

    const stale = closed.filter((h) => this.built.get(h) !== fingerprint(h));
    if (stale.length === 0) return { unsettled: [], rebuilt: 0 };

    const settledBefore = Date.now() - this.settleMs;
    const unsettled: number[] = [];
    const empty: number[] = [];
    const toBuild: number[] = [];
    for (const h of stale) {
      const inputs = inputsOf(h);
      if (inputs.some((s) => s.modifiedMs > settledBefore)) unsettled.push(h);
      // Impressions drive every row: an hour without an impression partition has none.
      else if (inputs[0]!.absent) empty.push(h);
      else toBuild.push(h);
    }
    await this.db.withConnection(async (c) => {
      // Hours that cannot be used now must not be summed either (only a built hour has rows).
      for (const h of [...unsettled, ...empty]) {
        if (this.built.delete(h)) await this.deleteHours(c, h, h + HOUR_MS);
      }
      for (const h of empty) this.built.set(h, fingerprint(h));
      for (const [a, b] of await this.buildSteps(toBuild)) {
        await c.run('BEGIN TRANSACTION');
        try {
          await this.deleteHours(c, a, b);
          await this.insertHours(c, this.table, {
            from: new Date(a),
            to: new Date(b),
            adId: null,
            granularity: 'hour',
            limit: ALL_ROWS,
            attributionWindowSeconds: this.windowSeconds,
          });
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK');
          for (let h = a; h < b; h += HOUR_MS) this.built.delete(h);
          throw err;
        }
        for (let h = a; h < b; h += HOUR_MS) this.built.set(h, fingerprint(h));
      }
    });
    return { unsettled, rebuilt: toBuild.length };
  }

  private deleteHours(c: DuckDBConnection, a: number, b: number): Promise<unknown> {
    return c.run(
      `DELETE FROM ${this.table} WHERE hour_start >= CAST(? AS TIMESTAMP) AND hour_start < CAST(? AS TIMESTAMP)`,
      [sqlTimestamp(new Date(a)), sqlTimestamp(new Date(b))],
    );
  }

  /**
   * Consecutive hours grouped into ranges of at most `maxBuildBytes` of impression files, so
   * that a long history is built in steps DuckDB can hold in memory.
   */
  private async buildSteps(hours: readonly number[]): Promise<Range[]> {
    const steps: [number, number][] = [];
    let bytes = 0;
    for (const h of [...hours].sort((a, b) => a - b)) {
      const size = await this.impressionBytes(h);
      const last = steps.at(-1);
      if (last && last[1] === h && bytes + size <= this.maxBuildBytes) {
        last[1] = h + HOUR_MS;
        bytes += size;
      } else {
        steps.push([h, h + HOUR_MS]);
        bytes = size;
      }
    }
    return steps;
  }

  private async impressionBytes(h: number): Promise<number> {
    const dir = this.partitionDir('ad_impressions', new Date(h));
    try {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet'));
      const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
      return sizes.reduce((sum, size) => sum + size, 0);
    } catch {
      return 0;
    }
  }

  /** Every partition directory the hour's answer reads (present or not). */
  private inputDirs(h: number): string[] {
    const dirs: string[] = [];
    const range = { from: new Date(h), to: new Date(h + HOUR_MS) };
    for (const [table, first, last] of labelledImpressionInputs(range, this.windowSeconds)) {
      const end = Math.floor(last.getTime() / HOUR_MS) * HOUR_MS;
      for (let t = Math.floor(first.getTime() / HOUR_MS) * HOUR_MS; t <= end; t += HOUR_MS) {
        dirs.push(this.partitionDir(table, new Date(t)));
      }
    }
    return dirs;
  }

  private partitionDir(table: string, at: Date): string {
    const key = hourKey(at);
    return join(this.db.lakeDir, table, `dt=${key.slice(0, 10)}`, `hour=${key.slice(11, 13)}`);
  }
}
