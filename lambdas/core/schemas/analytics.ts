/**
 * The analytics routes (`GET /analytics/*`): their query parameters and answers. Definitions of
 * every figure (attribution, de-duplication, fraud exclusion, activity levels): docs/analytics.md.
 */
import * as z from 'zod';
import { Id, parseRfc3339, Timestamp } from './common.js';

/** Longest range one analytics request may cover (DESIGN.md "API contract"; issue 4). */
export const MAX_ANALYTICS_RANGE_DAYS = 92;
const DAY_MS = 86_400_000;

export const GRANULARITIES = ['hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const SEGMENT_DIMENSIONS = ['device_type', 'location', 'activity'] as const;
export type SegmentDimension = (typeof SEGMENT_DIMENSIONS)[number];

/**
 * A user's activity level over a request's range, from their counted impressions per day on
 * which they had any (UTC days): light below `medium`, medium below `heavy`, heavy from `heavy`
 * on. Per active day rather than per range, so that a level means the same over an hour and over
 * a quarter. At the design's ~100 impressions a user a day, the bands split typical traffic.
 */
export const ACTIVITY_LEVELS = { medium: 10, heavy: 100 } as const;
export type ActivityLevel = 'light' | 'medium' | 'heavy';

/**
 * Reliability-diagram bins of GET /analytics/models: fixed edges on a 1-2-5 scale, fine where
 * click probabilities live (uniform tenths would put nearly every prediction in the first bin).
 * The SQL (sql/analytics/models.sql) numbers the bins 0..9 with these same edges.
 */
export const RELIABILITY_EDGES = [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1] as const;

const limit = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(fallback)
    .openapi({ description: `Rows returned at most (1-${max}); \`truncated\` says when there were more.` });

const rangeFields = {
  from: Timestamp.openapi({ description: 'Start of the range (inclusive), RFC 3339 with a zone.' }),
  to: Timestamp.openapi({
    description: `End of the range (exclusive), after \`from\` and at most ${MAX_ANALYTICS_RANGE_DAYS} days after it.`,
  }),
};

/** from < to and at most 92 days apart; the issue names `to`, the bound that is wrong. */
function checkRange(q: { from: string; to: string }, ctx: z.RefinementCtx): void {
  const from = parseRfc3339(q.from);
  const to = parseRfc3339(q.to);
  if (Number.isNaN(from) || Number.isNaN(to)) return;
  if (to <= from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  else if (to - from > MAX_ANALYTICS_RANGE_DAYS * DAY_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `must be at most ${MAX_ANALYTICS_RANGE_DAYS} days after from`,
    });
  }
}

const granularity = (fallback: Granularity) =>
  z
    .enum(GRANULARITIES, { message: `must be one of ${GRANULARITIES.join(', ')}` })
    .default(fallback)
    .openapi({ description: 'Length of each period (UTC hours or days).' });

export const AdPerformanceParams = z
  .object({
    ...rangeFields,
    ad_id: Id.optional().openapi({ description: 'One ad only; every ad when absent.' }),
    granularity: granularity('day'),
    limit: limit(10_000, 1_000),
  })
  .strict()
  .superRefine(checkRange);
export type AdPerformanceParams = z.infer<typeof AdPerformanceParams>;

export const UserSegmentsParams = z
  .object({
    ...rangeFields,
    dimension: z.enum(SEGMENT_DIMENSIONS, { message: `must be one of ${SEGMENT_DIMENSIONS.join(', ')}` }).openapi({
      description: "What segments users: the impression's device_type or location, or the user's activity level.",
    }),
    limit: limit(10_000, 100),
  })
  .strict()
  .superRefine(checkRange);
export type UserSegmentsParams = z.infer<typeof UserSegmentsParams>;

export const ModelsParams = z
  .object({ ...rangeFields, limit: limit(1_000, 100) })
  .strict()
  .superRefine(checkRange);
export type ModelsParams = z.infer<typeof ModelsParams>;

export const FraudParams = z
  .object({ ...rangeFields, granularity: granularity('day'), limit: limit(10_000, 1_000) })
  .strict()
  .superRefine(checkRange);
export type FraudParams = z.infer<typeof FraudParams>;

// ---------------------------------------------------------------- what the port returns

export interface AnalyticsRange {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

export interface AdPerformanceQuery extends AnalyticsRange {
  readonly adId: string | null;
  readonly granularity: Granularity;
  readonly limit: number;
  readonly attributionWindowSeconds: number;
}

/** The additive counts of one ad and period; ratios are derived from them in one place. */
export interface AdPerformanceCounts {
  readonly ad_id: string;
  /** Start of the period, ISO 8601 UTC. */
  readonly period_start: string;
  readonly impressions: number;
  readonly clicks: number;
  readonly predicted_impressions: number;
  readonly predicted_clicks: number;
  readonly sum_probability: number;
}

export interface UserSegmentsQuery extends AnalyticsRange {
  readonly dimension: SegmentDimension;
  readonly limit: number;
  readonly attributionWindowSeconds: number;
}

export interface UserSegmentCounts {
  readonly segment: string | null;
  readonly users: number;
  readonly impressions: number;
  readonly clicks: number;
}

export interface ModelsQuery extends AnalyticsRange {
  /** (model_version, variant) pairs at most. */
  readonly limit: number;
  readonly attributionWindowSeconds: number;
}

/** One reliability bin of one model version and variant, with the pair's overall figures. */
export interface ModelBinCounts {
  readonly model_version: string;
  readonly variant: string;
  readonly impressions: number;
  readonly clicks: number;
  readonly sum_probability: number;
  readonly log_loss: number;
  readonly auc: number | null;
  /** 0..9, the index of the bin's lower edge in RELIABILITY_EDGES. */
  readonly bin: number;
  readonly bin_impressions: number;
  readonly bin_clicks: number;
  readonly bin_sum_probability: number;
  /**
   * The pair's serving and exploration figures. Optional only so that a fake may leave them out;
   * both adapters fill them (a row without is read as no predictions).
   */
  readonly serving?: ModelServingCounts;
}

/**
 * Of one model version and variant: its predictions made in the range (shown or not), from the
 * prediction log, and its counted impressions that followed an explored prediction.
 */
export interface ModelServingCounts {
  readonly predictions: number;
  readonly fallback_predictions: number;
  /** Predictions with a measured model latency (a cached score has none). */
  readonly timed_predictions: number;
  /** Approximate percentiles of the model latency over the timed predictions; null without any. */
  readonly latency_p50_ms: number | null;
  readonly latency_p99_ms: number | null;
  /** Predictions that carried an exploration bonus, and the sum of their bonuses. */
  readonly explored_predictions: number;
  readonly sum_exploration_bonus: number;
  /** Of the pair's counted impressions (and their clicks), those that followed an explored prediction. */
  readonly explored_impressions: number;
  readonly explored_clicks: number;
}

export interface FraudQuery extends AnalyticsRange {
  readonly granularity: Granularity;
  readonly limit: number;
  readonly attributionWindowSeconds: number;
}

export interface FraudCounts {
  readonly period_start: string;
  readonly rule: string;
  readonly site_id: string | null;
  readonly flagged_events: number;
  readonly flagged_impressions: number;
  readonly flagged_clicks: number;
  readonly mean_score: number;
  readonly max_score: number;
}

/** Rows in order, at most the query's limit, and whether more were left out. */
export interface Limited<T> {
  readonly rows: T[];
  readonly truncated: boolean;
}

// ---------------------------------------------------------------- responses

const count = z.number().int().nonnegative();
const ratio = z.number().nullable();

const echoed = {
  from: z.string().openapi({ description: 'The range start, UTC.' }),
  to: z.string().openapi({ description: 'The range end (exclusive), UTC.' }),
  truncated: z.boolean().openapi({ description: 'True when `limit` cut rows off.' }),
};

export const AdPerformanceRow = z
  .object({
    ad_id: z.string(),
    period_start: z.string().openapi({ description: 'Start of the hour or day, UTC.' }),
    impressions: count.openapi({ description: 'Impressions shown, each counted once, flagged ones left out.' }),
    clicks: count.openapi({ description: 'Of those, the impressions with a counted click.' }),
    ctr: ratio.openapi({ description: 'clicks / impressions.' }),
    predicted_impressions: count.openapi({ description: 'Impressions that followed a logged prediction.' }),
    predicted_clicks: count,
    mean_predicted_ctr: ratio.openapi({ description: 'Mean predicted probability over predicted impressions.' }),
    calibration: ratio.openapi({
      description: 'Mean predicted / observed CTR over predicted impressions (null without clicks).',
    }),
  })
  .openapi('AdPerformanceRow');
export type AdPerformanceRow = z.infer<typeof AdPerformanceRow>;

export const AdPerformanceResponse = z
  .object({
    ...echoed,
    granularity: z.enum(GRANULARITIES),
    ad_id: z.string().nullable(),
    attribution_window_seconds: z.number().int(),
    rows: z.array(AdPerformanceRow),
  })
  .openapi('AdPerformanceResponse');
export type AdPerformanceResponse = z.infer<typeof AdPerformanceResponse>;

export const UserSegment = z
  .object({
    segment: z
      .string()
      .nullable()
      .openapi({ description: 'The device type, location or activity level (null: not reported).' }),
    users: count,
    impressions: count,
    clicks: count,
    ctr: ratio,
  })
  .openapi('UserSegment');

export const UserSegmentsResponse = z
  .object({ ...echoed, dimension: z.enum(SEGMENT_DIMENSIONS), segments: z.array(UserSegment) })
  .openapi('UserSegmentsResponse');
export type UserSegmentsResponse = z.infer<typeof UserSegmentsResponse>;

export const ReliabilityBin = z
  .object({
    lower: z.number(),
    upper: z.number(),
    impressions: count,
    clicks: count,
    mean_prediction: z.number(),
    observed_rate: z.number(),
  })
  .openapi('ReliabilityBin');

const ImpressionsClicks = z.object({ impressions: count, clicks: count, ctr: ratio });

export const ModelServing = z
  .object({
    predictions: count.openapi({ description: 'Predictions the model made in the range, shown or not.' }),
    fallback_predictions: count.openapi({ description: 'Of those, the ones a fallback model served.' }),
    fallback_rate: ratio.openapi({ description: 'fallback_predictions / predictions.' }),
    timed_predictions: count.openapi({
      description: 'Predictions with a measured model latency (a cached score and an older log row have none).',
    }),
    latency_p50_ms: ratio.openapi({ description: 'Median model call latency (approximate), milliseconds.' }),
    latency_p99_ms: ratio.openapi({
      description: '99th percentile of the model call latency (approximate), milliseconds.',
    }),
  })
  .openapi('ModelServing');

export const ModelExploration = z
  .object({
    predictions: count.openapi({ description: 'Predictions in the range that carried an exploration bonus.' }),
    share: ratio.openapi({ description: 'Of all predictions in the range: the budget spent.' }),
    mean_bonus: ratio.openapi({ description: 'Mean logit bonus of the explored predictions.' }),
    explored: ImpressionsClicks.openapi({ description: 'Counted impressions that followed an explored prediction.' }),
    not_explored: ImpressionsClicks.openapi({ description: 'The other counted impressions of the model.' }),
  })
  .openapi('ModelExploration');

export const ModelOnlineMetrics = z
  .object({
    model_version: z.string(),
    variant: z.string(),
    impressions: count.openapi({ description: 'Counted impressions that followed a prediction of this model.' }),
    clicks: count,
    ctr: ratio,
    mean_predicted_ctr: ratio,
    log_loss: z.number().openapi({ description: 'Mean log loss (probabilities clipped to [1e-15, 1 - 1e-15]).' }),
    auc: ratio.openapi({ description: 'AUC from scores bucketed at 0.01 in log-odds (null with one class).' }),
    calibration: ratio,
    reliability: z.array(ReliabilityBin).openapi({ description: 'Non-empty bins of the fixed 1-2-5 edges.' }),
    serving: ModelServing,
    exploration: ModelExploration,
  })
  .openapi('ModelOnlineMetrics');

export const ModelsAnalyticsResponse = z
  .object({ ...echoed, models: z.array(ModelOnlineMetrics) })
  .openapi('ModelsAnalyticsResponse');
export type ModelsAnalyticsResponse = z.infer<typeof ModelsAnalyticsResponse>;

export const FraudRow = z
  .object({
    period_start: z.string(),
    rule: z.string(),
    site_id: z.string().nullable(),
    flagged_events: count,
    flagged_impressions: count,
    flagged_clicks: count,
    mean_score: z.number(),
    max_score: z.number(),
  })
  .openapi('FraudRow');

export const FraudResponse = z
  .object({ ...echoed, granularity: z.enum(GRANULARITIES), rows: z.array(FraudRow) })
  .openapi('FraudResponse');
export type FraudResponse = z.infer<typeof FraudResponse>;
