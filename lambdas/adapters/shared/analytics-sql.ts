/**
 * What the analytics SQL (sql/analytics/*.sql) takes and gives, for both engines: its positional
 * parameters, in the order each file's header lists them, and its rows as the port's types.
 * DuckDB binds these parameters locally (local/duckdb/duckdb-analytics.ts); Athena receives the
 * same values as execution parameters (aws/athena/athena-analytics.ts). Both engines' rows reach
 * the mappers below in the same shapes (sql-values.ts `SqlRow`), so an answer is built once.
 */
import {
  ACTIVITY_LEVELS,
  type AdPerformanceCounts,
  type AdPerformanceQuery,
  type FraudCounts,
  type FraudQuery,
  type Limited,
  type ModelBinCounts,
  type ModelsQuery,
  type UserSegmentCounts,
  type UserSegmentsQuery,
} from '../../core/schemas/analytics.js';
import type { PartitionRange, SqlParam, SqlRow } from './sql-values.js';

export interface TimeRange {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

/** A query file, the values of its `?` in order, and the partitions it reads. */
export interface AnalyticsStatement {
  readonly name: string;
  readonly params: SqlParam[];
  readonly inputs: PartitionRange[];
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

// Each query asks for one row more than the limit, to tell whether it had more.

export function adPerformanceStatement(q: AdPerformanceQuery): AnalyticsStatement {
  return {
    name: 'analytics/ad-performance',
    params: adPerformanceParams(q, q.limit + 1),
    inputs: labelledImpressionInputs(q, q.attributionWindowSeconds),
  };
}

export function userSegmentsStatement(q: UserSegmentsQuery): AnalyticsStatement {
  return {
    name: 'analytics/user-segments',
    params: [
      ...labelledImpressionParams(q, q.attributionWindowSeconds),
      q.dimension,
      ACTIVITY_LEVELS.medium,
      ACTIVITY_LEVELS.heavy,
      q.limit + 1,
    ],
    inputs: labelledImpressionInputs(q, q.attributionWindowSeconds),
  };
}

/** Every row: `limit` counts (model_version, variant) pairs, which `modelBins` applies. */
export function modelsStatement(q: ModelsQuery): AnalyticsStatement {
  return {
    name: 'analytics/models',
    // The serving figures count the predictions made in the range itself.
    params: [...labelledImpressionParams(q, q.attributionWindowSeconds), sqlTimestamp(q.from), sqlTimestamp(q.to)],
    inputs: labelledImpressionInputs(q, q.attributionWindowSeconds),
  };
}

export function fraudStatement(q: FraudQuery): AnalyticsStatement {
  const windowMs = q.attributionWindowSeconds * 1000;
  const last = plus(q.to, -1);
  const sitesFrom = plus(q.from, -windowMs);
  const sitesTo = plus(last, windowMs);
  const own = partitionBounds(q.from, last);
  return {
    name: 'analytics/fraud',
    params: [
      ...own,
      sqlTimestamp(q.from),
      sqlTimestamp(q.to),
      ...own,
      ...partitionBounds(sitesFrom, sitesTo),
      q.granularity,
      q.limit + 1,
    ],
    inputs: [
      ['suspicious_events', q.from, last],
      ['clicks', q.from, last],
      ['ad_impressions', sitesFrom, sitesTo],
    ],
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const text = (v: unknown): string => String(v);
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The first `limit` rows and whether the query (asked for one more) had more. */
export function limited<T>(rows: T[], limit: number): Limited<T> {
  return { rows: rows.slice(0, limit), truncated: rows.length > limit };
}

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

export function userSegmentCounts(r: SqlRow): UserSegmentCounts {
  return {
    segment: textOrNull(r.segment),
    users: num(r.users),
    impressions: num(r.impressions),
    clicks: num(r.clicks),
  };
}

export function fraudCounts(r: SqlRow): FraudCounts {
  return {
    period_start: text(r.period_start),
    rule: text(r.rule),
    site_id: textOrNull(r.site_id),
    flagged_events: num(r.flagged_events),
    flagged_impressions: num(r.flagged_impressions),
    flagged_clicks: num(r.flagged_clicks),
    mean_score: num(r.mean_score),
    max_score: num(r.max_score),
  };
}

/** The rows of the first `limit` (model_version, variant) pairs (rows arrive grouped by pair). */
export function modelBins(rows: readonly SqlRow[], limit: number): Limited<ModelBinCounts> {
  const out: ModelBinCounts[] = [];
  const pairs = new Set<string>();
  for (const r of rows) {
    const pair = `${text(r.model_version)}\u0000${text(r.variant)}`;
    if (!pairs.has(pair)) {
      if (pairs.size === limit) return { rows: out, truncated: true };
      pairs.add(pair);
    }
    out.push({
      model_version: text(r.model_version),
      variant: text(r.variant),
      impressions: num(r.impressions),
      clicks: num(r.clicks),
      sum_probability: num(r.sum_probability),
      log_loss: num(r.log_loss),
      auc: numOrNull(r.auc),
      bin: num(r.bin),
      bin_impressions: num(r.bin_impressions),
      bin_clicks: num(r.bin_clicks),
      bin_sum_probability: num(r.bin_sum_probability),
      serving: {
        predictions: num(r.predictions),
        fallback_predictions: num(r.fallback_predictions),
        timed_predictions: num(r.timed_predictions),
        latency_p50_ms: numOrNull(r.latency_p50_ms),
        latency_p99_ms: numOrNull(r.latency_p99_ms),
        explored_predictions: num(r.explored_predictions),
        sum_exploration_bonus: num(r.sum_exploration_bonus),
        explored_impressions: num(r.explored_impressions),
        explored_clicks: num(r.explored_clicks),
      },
    });
  }
  return { rows: out, truncated: false };
}
