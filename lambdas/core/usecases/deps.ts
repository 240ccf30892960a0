import type {
  AdCatalogue,
  Analytics,
  Clock,
  ErasureStore,
  EventLog,
  ExperimentStore,
  FeatureStore,
  FraudDetector,
  HoldoutEvaluator,
  IdGenerator,
  Logger,
  ModelArtifactStore,
  ModelDeployment,
  ModelEndpoint,
  ModelRegistry,
  PredictionCache,
  PredictionLog,
  Pseudonymiser,
  UserDataEraser,
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
  /** Exploration of new ads (README "Exploration"); a budget of 0 turns it off. */
  readonly exploration: ExplorationConfig;
}

export interface ExplorationConfig {
  /** Share of predictions, in [0, 1], that may carry an optimistic ranking score (0: off). */
  readonly budget: number;
  /** The bonus in posterior standard deviations of the logit (κ). */
  readonly kappa: number;
  /** An ad whose id the model saw in fewer training rows than this counts as new. */
  readonly minEvidence: number;
}

export const DEFAULT_CORE_CONFIG: CoreConfig = {
  maxFutureSkewMs: 5 * 60_000,
  retentionDays: 400,
  routingCacheMs: 1_000,
  exploration: { budget: 0, kappa: 1, minEvidence: 100 },
};

export interface ErasureDeps {
  readonly store: ErasureStore;
  readonly erasers: readonly UserDataEraser[];
  readonly schedule: (run: () => Promise<void>) => void;
}

/** Everything a use case may touch, built once by a composition root. */
export interface Deps {
  readonly model: ModelEndpoint;
  /**
   * Optional: makes a model servable before it is promoted or joins an experiment (SageMaker
   * production variants in AWS). Absent locally: the in-process endpoint loads a model on first use.
   */
  readonly deployment?: ModelDeployment;
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
  /**
   * Optional: user erasure (DELETE /users/{user_id}); without it those routes answer 503. The
   * erasers run in order; `schedule` runs an accepted erasure after the 202 (in the background
   * locally; in AWS the erasures table's stream starts the worker, so it does nothing).
   */
  readonly erasure?: ErasureDeps;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly health: readonly HealthProbe[];
  readonly config: CoreConfig;
}

/** What predicting needs: the predict function in AWS builds only these (handlers/predict.ts). */
export type PredictDeps = Pick<
  Deps,
  | 'model'
  | 'predictionCache'
  | 'features'
  | 'predictions'
  | 'ads'
  | 'models'
  | 'experiments'
  | 'pseudonymiser'
  | 'clock'
  | 'ids'
  | 'logger'
  | 'config'
>;
