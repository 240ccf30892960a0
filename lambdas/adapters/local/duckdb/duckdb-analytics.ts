/**
 * The analytics port over the local lake: the shared queries of sql/analytics/ run by DuckDB
 * (the same texts Athena will run in AWS), with the ad-performance query served from exact
 * hourly rollups where the lake has not changed since they were built (ad-performance-rollup.ts).
 */
import type { Analytics } from '../../../core/ports.js';
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
} from '../../../core/schemas/analytics.js';
import { AdPerformanceRollup, type AdPerformanceRollupOptions } from './ad-performance-rollup.js';
import {
  adPerformanceCounts,
  adPerformanceParams,
  labelledImpressionInputs,
  labelledImpressionParams,
  partitionBounds,
  queryNarrowed,
  sqlTimestamp,
} from './analytics-sql.js';
import type { LakeDatabase } from './lake-database.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const text = (v: unknown): string => String(v);
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The first `limit` rows and whether the query (asked for one more) had more. */
function limited<T>(rows: T[], limit: number): Limited<T> {
  return { rows: rows.slice(0, limit), truncated: rows.length > limit };
}

export interface DuckDbAnalyticsOptions {
  /**
   * Serve ad performance from hourly rollups (default true). Off, every request runs the plain
   * query over the raw tables: the reference the rollups are tested and benchmarked against.
   */
  readonly rollup?: boolean;
  readonly rollupOptions?: AdPerformanceRollupOptions;
}

export class DuckDbAnalytics implements Analytics {
  private readonly rollup: AdPerformanceRollup | undefined;

  constructor(
    private readonly db: LakeDatabase,
    options: DuckDbAnalyticsOptions = {},
  ) {
    this.rollup = options.rollup === false ? undefined : new AdPerformanceRollup(db, options.rollupOptions);
  }

  async adPerformance(q: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    if (this.rollup?.serves(q)) return this.rollup.query(q);
    const rows = await queryNarrowed(
      this.db,
      'analytics/ad-performance',
      adPerformanceParams(q, q.limit + 1),
      labelledImpressionInputs(q, q.attributionWindowSeconds),
    );
    return limited(rows.map(adPerformanceCounts), q.limit);
  }

  async userSegments(q: UserSegmentsQuery): Promise<Limited<UserSegmentCounts>> {
    const rows = await queryNarrowed(
      this.db,
      'analytics/user-segments',
      [
        ...labelledImpressionParams(q, q.attributionWindowSeconds),
        q.dimension,
        ACTIVITY_LEVELS.medium,
        ACTIVITY_LEVELS.heavy,
        q.limit + 1,
      ],
      labelledImpressionInputs(q, q.attributionWindowSeconds),
    );
    const segments = rows.map(
      (r): UserSegmentCounts => ({
        segment: textOrNull(r.segment),
        users: num(r.users),
        impressions: num(r.impressions),
        clicks: num(r.clicks),
      }),
    );
    return limited(segments, q.limit);
  }

  async models(q: ModelsQuery): Promise<Limited<ModelBinCounts>> {
    const rows = await queryNarrowed(
      this.db,
      'analytics/models',
      labelledImpressionParams(q, q.attributionWindowSeconds),
      labelledImpressionInputs(q, q.attributionWindowSeconds),
    );
    const out: ModelBinCounts[] = [];
    const pairs = new Set<string>();
    for (const r of rows) {
      const pair = `${text(r.model_version)}\u0000${text(r.variant)}`;
      if (!pairs.has(pair)) {
        if (pairs.size === q.limit) return { rows: out, truncated: true };
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
      });
    }
    return { rows: out, truncated: false };
  }

  async fraud(q: FraudQuery): Promise<Limited<FraudCounts>> {
    const windowMs = q.attributionWindowSeconds * 1000;
    const last = new Date(q.to.getTime() - 1);
    const sitesFrom = new Date(q.from.getTime() - windowMs);
    const sitesTo = new Date(last.getTime() + windowMs);
    const own = partitionBounds(q.from, last);
    const rows = await queryNarrowed(
      this.db,
      'analytics/fraud',
      [
        ...own,
        sqlTimestamp(q.from),
        sqlTimestamp(q.to),
        ...own,
        ...partitionBounds(sitesFrom, sitesTo),
        q.granularity,
        q.limit + 1,
      ],
      [
        ['suspicious_events', q.from, last],
        ['clicks', q.from, last],
        ['ad_impressions', sitesFrom, sitesTo],
      ],
    );
    const flagged = rows.map(
      (r): FraudCounts => ({
        period_start: text(r.period_start),
        rule: text(r.rule),
        site_id: textOrNull(r.site_id),
        flagged_events: num(r.flagged_events),
        flagged_impressions: num(r.flagged_impressions),
        flagged_clicks: num(r.flagged_clicks),
        mean_score: num(r.mean_score),
        max_score: num(r.max_score),
      }),
    );
    return limited(flagged, q.limit);
  }
}
