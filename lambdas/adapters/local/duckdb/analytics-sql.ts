/**
 * What the analytics SQL (sql/analytics/*.sql) takes and gives: its positional parameters, in the
 * order each file's header lists them, and its rows as the port's types. Engine-neutral: DuckDB
 * binds these here, and Athena's execution parameters take the same values (issue 5).
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { AdPerformanceCounts, AdPerformanceQuery } from '../../../core/schemas/analytics.js';
import { loadSql } from '../../shared/sql-files.js';
import { type LakeDatabase, type PartitionRange, plain, type SqlParam, type SqlRow } from './lake-database.js';

export interface TimeRange {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

/** `YYYY-MM-DD HH:MM:SS.mmm`: what `CAST(? AS TIMESTAMP)` reads on both engines (UTC). */
export const sqlTimestamp = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '');

const day = (d: Date) => d.toISOString().slice(0, 10);
/** `YYYY-MM-DDTHH`: `concat(dt, 'T', hour)` of the partition holding this instant. */
export const hourKey = (d: Date): string => d.toISOString().slice(0, 13);

/** dt bounds then hour bounds of the partitions holding the instants first .. last (inclusive). */
export function partitionBounds(first: Date, last: Date): SqlParam[] {
  return [day(first), day(last), hourKey(first), hourKey(last)];
}

const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);

/**
 * The partitions analytics/labelled-impressions reads for a range, as (table, first instant,
 * last instant): the impressions of the range, the clicks and flags up to one attribution window
 * after it, and the predictions within one window either side. The rollups watch exactly these.
 */
export function labelledImpressionInputs(range: TimeRange, windowSeconds: number): PartitionRange[] {
  const windowMs = windowSeconds * 1000;
  // Range ends are exclusive and carry millisecond precision: the last instant in range is 1 ms before.
  const lastShown = plus(range.to, -1);
  const lastClicked = plus(lastShown, windowMs);
  return [
    ['ad_impressions', range.from, lastShown],
    ['suspicious_events', range.from, lastClicked],
    ['clicks', range.from, lastClicked],
    ['model_predictions', plus(range.from, -windowMs), lastClicked],
  ];
}

/** The 25 parameters of analytics/labelled-impressions. */
export function labelledImpressionParams(range: TimeRange, windowSeconds: number): SqlParam[] {
  const [impressions, flags, clicks, predictions] = labelledImpressionInputs(range, windowSeconds).map(
    ([, first, last]) => partitionBounds(first, last),
  ) as [SqlParam[], SqlParam[], SqlParam[], SqlParam[]];
  return [
    ...impressions,
    ...flags,
    sqlTimestamp(range.from),
    sqlTimestamp(range.to),
    ...clicks,
    ...impressions,
    windowSeconds,
    ...predictions,
    windowSeconds,
    windowSeconds,
  ];
}

/** The parameters of analytics/ad-performance. */
export function adPerformanceParams(q: AdPerformanceQuery, rowLimit: number): SqlParam[] {
  return [...labelledImpressionParams(q, q.attributionWindowSeconds), q.granularity, q.adId, q.adId, rowLimit];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

export function adPerformanceCounts(r: SqlRow): AdPerformanceCounts {
  return {
    ad_id: String(r.ad_id),
    period_start: String(r.period_start),
    impressions: num(r.impressions),
    clicks: num(r.clicks),
    predicted_impressions: num(r.predicted_impressions),
    predicted_clicks: num(r.predicted_clicks),
    sum_probability: num(r.sum_probability),
  };
}

/** Runs `sql/<name>.sql` with the lake's views narrowed to the partitions it reads. */
export function queryNarrowed(
  db: LakeDatabase,
  name: string,
  params: readonly SqlParam[],
  inputs: readonly PartitionRange[],
): Promise<SqlRow[]> {
  return db.withConnection(async (c) => {
    await db.narrowViews(c, inputs);
    const reader = await c.runAndReadAll(loadSql(name, 'duckdb'), params as DuckDBValue[]);
    return reader.getRowObjectsJS().map((row) => {
      const out: SqlRow = {};
      for (const [k, v] of Object.entries(row)) out[k] = plain(v);
      return out;
    });
  });
}
