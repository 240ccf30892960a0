import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../lake/attribution.js';
import type {
  AdPerformanceCounts,
  AdPerformanceParams,
  AdPerformanceResponse,
  AdPerformanceRow,
  FraudParams,
  FraudResponse,
  ModelBinCounts,
  ModelServingCounts,
  ModelsAnalyticsResponse,
  ModelsParams,
  UserSegmentsParams,
  UserSegmentsResponse,
} from '../schemas/analytics.js';
import { RELIABILITY_EDGES } from '../schemas/analytics.js';
import { parseTimestamp } from '../schemas/common.js';
import type { Deps } from './deps.js';

/** a / b, or null when b is 0 (no impressions, no clicks: the ratio does not exist). */
export const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** The derived figures of an ad and period, from its additive counts (the one place they are derived). */
export function adPerformanceRow(c: AdPerformanceCounts): AdPerformanceRow {
  return {
    ad_id: c.ad_id,
    period_start: c.period_start,
    impressions: c.impressions,
    clicks: c.clicks,
    ctr: ratio(c.clicks, c.impressions),
    predicted_impressions: c.predicted_impressions,
    predicted_clicks: c.predicted_clicks,
    mean_predicted_ctr: ratio(c.sum_probability, c.predicted_impressions),
    calibration: ratio(c.sum_probability, c.predicted_clicks),
  };
}

type ModelMetrics = ModelsAnalyticsResponse['models'][number];

const NO_SERVING: ModelServingCounts = {
  predictions: 0,
  fallback_predictions: 0,
  timed_predictions: 0,
  latency_p50_ms: null,
  latency_p99_ms: null,
  explored_predictions: 0,
  sum_exploration_bonus: 0,
  explored_impressions: 0,
  explored_clicks: 0,
};

/** The pair's serving and exploration figures, derived from its counts. */
function servingAndExploration(r: ModelBinCounts): Pick<ModelMetrics, 'serving' | 'exploration'> {
  const s = r.serving ?? NO_SERVING;
  const notExploredImpressions = r.impressions - s.explored_impressions;
  const notExploredClicks = r.clicks - s.explored_clicks;
  return {
    serving: {
      predictions: s.predictions,
      fallback_predictions: s.fallback_predictions,
      fallback_rate: ratio(s.fallback_predictions, s.predictions),
      timed_predictions: s.timed_predictions,
      latency_p50_ms: s.latency_p50_ms,
      latency_p99_ms: s.latency_p99_ms,
    },
    exploration: {
      predictions: s.explored_predictions,
      share: ratio(s.explored_predictions, s.predictions),
      mean_bonus: ratio(s.sum_exploration_bonus, s.explored_predictions),
      explored: {
        impressions: s.explored_impressions,
        clicks: s.explored_clicks,
        ctr: ratio(s.explored_clicks, s.explored_impressions),
      },
      not_explored: {
        impressions: notExploredImpressions,
        clicks: notExploredClicks,
        ctr: ratio(notExploredClicks, notExploredImpressions),
      },
    },
  };
}

/** Rows per (model_version, variant, bin), in that order, into one entry per pair with its bins. */
export function modelMetrics(rows: readonly ModelBinCounts[]): ModelMetrics[] {
  const out: ModelMetrics[] = [];
  let current: ModelMetrics | undefined;
  for (const r of rows) {
    if (!current || current.model_version !== r.model_version || current.variant !== r.variant) {
      current = {
        model_version: r.model_version,
        variant: r.variant,
        impressions: r.impressions,
        clicks: r.clicks,
        ctr: ratio(r.clicks, r.impressions),
        mean_predicted_ctr: ratio(r.sum_probability, r.impressions),
        log_loss: r.log_loss,
        auc: r.auc,
        calibration: ratio(r.sum_probability, r.clicks),
        reliability: [],
        ...servingAndExploration(r),
      };
      out.push(current);
    }
    current.reliability.push({
      lower: RELIABILITY_EDGES[r.bin] ?? Number.NaN,
      upper: RELIABILITY_EDGES[r.bin + 1] ?? Number.NaN,
      impressions: r.bin_impressions,
      clicks: r.bin_clicks,
      mean_prediction: r.bin_sum_probability / r.bin_impressions,
      observed_rate: r.bin_clicks / r.bin_impressions,
    });
  }
  return out;
}

const range = (q: { from: string; to: string }) => ({ from: parseTimestamp(q.from), to: parseTimestamp(q.to) });
const echo = (r: { from: Date; to: Date }) => ({ from: r.from.toISOString(), to: r.to.toISOString() });

/**
 * The analytics routes: validated parameters in, the port's additive counts out, with the
 * ratios derived here so that every engine behind the port answers with the same arithmetic.
 */
export class AnalyticsUseCase {
  constructor(
    private readonly deps: Deps,
    private readonly attributionWindowSeconds = DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
  ) {}

  async adPerformance(params: AdPerformanceParams): Promise<AdPerformanceResponse> {
    const r = range(params);
    const { rows, truncated } = await this.deps.analytics.adPerformance({
      ...r,
      adId: params.ad_id ?? null,
      granularity: params.granularity,
      limit: params.limit,
      attributionWindowSeconds: this.attributionWindowSeconds,
    });
    return {
      ...echo(r),
      granularity: params.granularity,
      ad_id: params.ad_id ?? null,
      attribution_window_seconds: this.attributionWindowSeconds,
      rows: rows.map(adPerformanceRow),
      truncated,
    };
  }

  async userSegments(params: UserSegmentsParams): Promise<UserSegmentsResponse> {
    const r = range(params);
    const { rows, truncated } = await this.deps.analytics.userSegments({
      ...r,
      dimension: params.dimension,
      limit: params.limit,
      attributionWindowSeconds: this.attributionWindowSeconds,
    });
    return {
      ...echo(r),
      dimension: params.dimension,
      segments: rows.map((s) => ({ ...s, ctr: ratio(s.clicks, s.impressions) })),
      truncated,
    };
  }

  async models(params: ModelsParams): Promise<ModelsAnalyticsResponse> {
    const r = range(params);
    const { rows, truncated } = await this.deps.analytics.models({
      ...r,
      limit: params.limit,
      attributionWindowSeconds: this.attributionWindowSeconds,
    });
    return { ...echo(r), models: modelMetrics(rows), truncated };
  }

  async fraud(params: FraudParams): Promise<FraudResponse> {
    const r = range(params);
    const { rows, truncated } = await this.deps.analytics.fraud({
      ...r,
      granularity: params.granularity,
      limit: params.limit,
      attributionWindowSeconds: this.attributionWindowSeconds,
    });
    return { ...echo(r), granularity: params.granularity, rows, truncated };
  }
}
