import type {
  AdCatalogue,
  Analytics,
  Clock,
  EventLog,
  ExperimentStore,
  FeatureStore,
  FraudDetector,
  HoldoutEvaluator,
  IdGenerator,
  Logger,
  ModelArtifactStore,
  ModelEndpoint,
  ModelRegistry,
  PredictionCache,
  PredictionLog,
  Pseudonymiser,
} from '../ports.js';

export interface HealthProbe {
  readonly name: string;
  check(): Promise<{ status: 'ok' | 'degraded' | 'down'; detail?: string }>;
}

export interface CoreConfig {
  /** Events further in the future than this are refused (clock skew allowance). */
  readonly maxFutureSkewMs: number;
  /** Events older than the lake's retention are refused. */
  readonly retentionDays: number;
  /** How long the champion and running experiments are cached between registry reads. */
  readonly routingCacheMs: number;
}

export const DEFAULT_CORE_CONFIG: CoreConfig = {
  maxFutureSkewMs: 5 * 60_000,
  retentionDays: 400,
  routingCacheMs: 1_000,
};

/** Everything a use case may touch, built once by a composition root. */
export interface Deps {
  readonly model: ModelEndpoint;
  /**
   * Optional: recent scores by model version, user, ad and context (Redis in AWS). Locally the
   * model answers in-process in microseconds, so no cache is worth its staleness there.
   */
  readonly predictionCache?: PredictionCache;
  readonly features: FeatureStore;
  readonly predictions: PredictionLog;
  readonly events: EventLog;
  /** Click-fraud rules over the events once durable; flags go to `suspicious_events`. */
  readonly fraud: FraudDetector;
  readonly ads: AdCatalogue;
  readonly models: ModelRegistry;
  readonly experiments: ExperimentStore;
  readonly artifacts: ModelArtifactStore;
  readonly holdout: HoldoutEvaluator;
  /** The analytics queries over the lake. */
  readonly analytics: Analytics;
  readonly pseudonymiser: Pseudonymiser;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly health: readonly HealthProbe[];
  readonly config: CoreConfig;
}
