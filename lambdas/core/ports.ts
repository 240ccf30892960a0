/**
 * The ports: what the use cases need from the outside world. Adapters in
 * lambdas/adapters/{local,aws} implement them; core never imports an adapter.
 */
import type { LakeTableName } from './lake/tables.js';
import type { Ad, AdUpsert } from './schemas/ads.js';
import type {
  AdPerformanceCounts,
  AdPerformanceQuery,
  FraudCounts,
  FraudQuery,
  Limited,
  ModelBinCounts,
  ModelsQuery,
  UserSegmentCounts,
  UserSegmentsQuery,
} from './schemas/analytics.js';
import type { Features, FeatureValue } from './schemas/common.js';
import type { ErasureReceipt } from './schemas/erasures.js';
import type { GateReport, HoldoutMetrics, ModelRecord, SegmentMetrics } from './schemas/models.js';
import type { Explanation } from './schemas/predict.js';

export type FeatureMap = Record<string, FeatureValue>;

// ---------------------------------------------------------------- model endpoint

export interface ScoreRow {
  readonly features: FeatureMap;
}

export interface ScoreResult {
  readonly probability: number;
  readonly explanation?: Explanation;
  /** True when the primary endpoint failed and a fallback copy of the model answered. */
  readonly fallback?: boolean;
  /**
   * Only when asked (`uncertainty: true`): how little the model knows about the row; null for a
   * model that keeps no training counts.
   */
  readonly uncertainty?: ScoreUncertainty | null;
}

export interface ScoreUncertainty {
  /** Approximate posterior standard deviation of the logit. */
  readonly logit_sd: number;
  /** Training rows that held each model field's value (0 = never seen). */
  readonly evidence: Readonly<Record<string, number>>;
  /**
   * Each field's own posterior standard deviation (its share of `logit_sd`); absent from a
   * container older than it.
   */
  readonly field_sd?: Readonly<Record<string, number>>;
}

export interface ScoreOptions {
  readonly explain: boolean;
  /** Also return each row's uncertainty (costs the container its shared-batch fast path). */
  readonly uncertainty?: boolean;
}

export interface ModelEndpoint {
  /** Scores rows with the given registered model; results are in row order. */
  score(model: ModelRef, rows: readonly ScoreRow[], options: ScoreOptions): Promise<ScoreResult[]>;
}

export interface ModelRef {
  readonly model_id: string;
  readonly version: string;
  readonly artifact_uri: string;
}

/**
 * Makes models servable by the ModelEndpoint before traffic is routed to them (a SageMaker
 * production variant per model in AWS). Called before a model is promoted and before an
 * experiment's variants are stored, so routing never names a model the endpoint cannot serve.
 */
export interface ModelDeployment {
  /**
   * Resolves once every model can be scored; rejects (DependencyUnavailableError: retry later,
   * ConflictError: an operator must act) when one cannot be yet. Idempotent.
   */
  prepare(models: readonly ModelRef[]): Promise<void>;
}

// ---------------------------------------------------------------- prediction cache

export interface PredictionCacheKey {
  readonly modelVersion: string;
  /** Pseudonym; null when consent was withheld (the score then uses no user feature). */
  readonly userKey: string | null;
  readonly adId: string;
  /** The caller's request-time context for this ad (shared features, then the ad's own). */
  readonly context: FeatureMap;
}

/**
 * Scores kept for a short time (seconds), so a caller asking again for the same user, ad and
 * context skips the model endpoint. A cache never fails a request: a failure is a miss.
 */
export interface PredictionCache {
  getMany(keys: readonly PredictionCacheKey[]): Promise<(ScoreResult | undefined)[]>;
  setMany(entries: readonly { key: PredictionCacheKey; result: ScoreResult }[]): Promise<void>;
}

// ---------------------------------------------------------------- features

export type CounterEvent =
  | {
      readonly kind: 'impression';
      readonly userKey: string;
      readonly adId: string;
      readonly impressionId: string;
      readonly at: Date;
    }
  | { readonly kind: 'click'; readonly impressionId: string; readonly userKey: string | null; readonly at: Date };

export interface FeatureStore {
  /**
   * Features of the user (keyed by pseudonym) and of each ad, from counters kept by the events,
   * with the 1 h and 24 h windows as of `asOf`: the request's time when it gave one (a replay
   * reads the windows of its own moment, as the training set will), else the store's clock.
   */
  get(userKey: string | null, adIds: readonly string[], asOf?: Date): Promise<{ user: FeatureMap; ads: FeatureMap[] }>;
  /**
   * Counts durable, non-duplicate events, a whole batch in one call (one Redis pipeline in AWS).
   * A click names only its impression: the store credits the impression's user and ad.
   */
  record(events: readonly CounterEvent[]): Promise<void>;
}

// ---------------------------------------------------------------- prediction log

export interface PredictionRecord {
  readonly prediction_id: string;
  readonly request_id: string | null;
  /** Pseudonymised; null when consent was false. */
  readonly user_id: string | null;
  readonly ad_id: string;
  readonly probability: number;
  readonly model_id: string;
  readonly model_version: string;
  readonly variant: string;
  readonly experiment_id: string | null;
  readonly fallback: boolean;
  readonly consent: boolean;
  readonly features: FeatureMap;
  readonly explanation: Explanation | null;
  /** Logit bonus of an explored prediction (README "Exploration"); null when not explored. */
  readonly exploration_bonus: number | null;
  /**
   * How long the model call that scored it took (a batch's one call for each of its rows); null
   * when no call was made (a cached score) or the record predates the field.
   */
  readonly model_latency_ms: number | null;
  readonly timestamp: Date;
}

export interface PredictionLog {
  /**
   * Writes the records once each: a record whose prediction_id exists is not written again and
   * its index is reported in `duplicates` (the stored record wins).
   */
  putAll(records: readonly PredictionRecord[]): Promise<{ duplicates: number[] }>;
  getMany(predictionIds: readonly string[]): Promise<(PredictionRecord | undefined)[]>;
}

// ---------------------------------------------------------------- events

export interface LakeRow {
  readonly table: LakeTableName;
  /** Column values keyed by the lake table's column names; timestamps as Date. */
  readonly row: Record<string, string | number | boolean | Date | null>;
}

export interface EventLog {
  /**
   * Appends the rows durably and resolves when they are on disk (or accepted by the stream).
   * A row whose table id was already appended within the adapter's de-duplication window is not
   * appended again: its index is reported in `duplicates`, and it is durable too when the promise
   * resolves. Beyond the window delivery is at least once: readers de-duplicate on the id column.
   */
  append(rows: readonly LakeRow[]): Promise<{ duplicates: number[] }>;
}

// ---------------------------------------------------------------- catalogue, registry, experiments

export interface AdCatalogue {
  put(adId: string, ad: AdUpsert, now: Date): Promise<Ad>;
  get(adId: string): Promise<Ad | undefined>;
  getMany(adIds: readonly string[]): Promise<(Ad | undefined)[]>;
}

export interface ModelRegistry {
  get(modelId: string): Promise<ModelRecord | undefined>;
  list(): Promise<ModelRecord[]>;
  findByVersion(version: string): Promise<ModelRecord | undefined>;
  /** The model with alias champion, if any. */
  champion(): Promise<ModelRecord | undefined>;
  /** Registers a new model; a version that exists already is refused with a ConflictError. */
  create(record: ModelRecord): Promise<void>;
  update(modelId: string, patch: Partial<Omit<ModelRecord, 'model_id'>>): Promise<ModelRecord>;
  /**
   * Makes `modelId` the champion and the current champion (if any) `retired` with
   * previous_champion_id pointing back, atomically.
   */
  promote(modelId: string, now: Date, gate: GateReport | null): Promise<ModelRecord>;
}

export interface ExperimentVariant {
  readonly model_id: string;
  readonly weight: number;
}

export interface Experiment {
  readonly experiment_id: string;
  readonly name: string;
  readonly status: 'running' | 'stopped';
  readonly variants: readonly ExperimentVariant[];
  readonly campaign_ids: readonly string[] | null;
  readonly created_at: string;
  readonly stopped_at: string | null;
}

export interface ExperimentStore {
  /** The running experiments, oldest first (ties by id): routing takes the first that matches. */
  running(): Promise<Experiment[]>;
  /** Stores a new experiment; an experiment_id that exists is refused with a ConflictError. */
  create(experiment: Experiment): Promise<void>;
  get(experimentId: string): Promise<Experiment | undefined>;
  /** Every experiment, newest first (ties by id, descending). */
  list(): Promise<Experiment[]>;
  /**
   * Stops a running experiment at `at`, atomically (only a running one changes). Returns the
   * experiment as stored afterwards: a stopped one unchanged; undefined when it does not exist.
   */
  stop(experimentId: string, at: Date): Promise<Experiment | undefined>;
}

// ---------------------------------------------------------------- model artifacts and the gate

export interface ArtifactManifest {
  readonly format_version: number;
  readonly algorithm: string;
  readonly training_window: { from: string | null; to: string | null } | null;
  readonly metrics: Record<string, unknown> | null;
  readonly negative_sampling_rate: number | null;
  readonly bytes: number;
}

export interface ModelArtifactStore {
  /**
   * Where the client PUTs the artifact (a presigned URL in AWS), and its size limit.
   * `callerBaseUrl` is the scheme and host the caller reached the API at, for stores whose
   * upload URL is the API itself.
   */
  createUploadTarget(
    modelId: string,
    callerBaseUrl?: string,
  ): Promise<{ url: string; maxBytes: number; artifactUri: string }>;
  /** Local deployments only: stores the artifact body PUT by the client. */
  receive?(artifactUri: string, body: Uint8Array): Promise<void>;
  /** Unpacks and loads the uploaded artifact; throws InvalidArtifactError with the reason. */
  inspect(artifactUri: string): Promise<ArtifactManifest>;
}

/** Scores models on a time-later holdout that both see; the gate's decision rule lives in core. */
export interface HoldoutEvaluator {
  evaluate(models: readonly ModelRef[]): Promise<{
    holdout: string;
    results: { overall: HoldoutMetrics; segments: SegmentMetrics[] }[];
  } | null>;
}

// ---------------------------------------------------------------- click fraud

/** What the fraud rules see of a durable, non-duplicate event; ids and IPs are pseudonyms. */
export type FraudEvent =
  | {
      readonly kind: 'impression';
      readonly id: string;
      readonly userId: string;
      readonly ip: string | null;
      readonly siteId: string | null;
      /** Event time, epoch milliseconds (UTC). */
      readonly atMs: number;
    }
  | {
      readonly kind: 'click';
      readonly id: string;
      readonly impressionId: string;
      readonly userId: string | null;
      readonly ip: string | null;
      /** An explicit non-click (false) is not a click: the rules ignore it. */
      readonly clicked: boolean;
      readonly atMs: number;
    };

export type FraudRule =
  | 'user_click_rate'
  | 'ip_click_rate'
  | 'click_before_impression'
  | 'click_too_fast'
  | 'duplicate_click'
  | 'site_ctr_outlier';

/** One flagged event: a `suspicious_events` row. An event is flagged at most once. */
export interface FraudFlag {
  readonly eventId: string;
  readonly eventType: 'impression' | 'click';
  /** The rule with the highest severity; `rules` lists every rule that fired. */
  readonly rule: FraudRule;
  readonly rules: readonly FraudRule[];
  /** Anomaly score in [0.5, 1): higher is more suspicious (docs/fraud.md). */
  readonly score: number;
  readonly userId: string | null;
  readonly ip: string | null;
  readonly siteId: string | null;
  /** Event time of the flagged event, epoch milliseconds (UTC). */
  readonly atMs: number;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface FraudDetector {
  /**
   * Inspects events in the order given (the order they became durable). The flags returned may
   * name these events or earlier ones (a window or a site that crossed its threshold only now).
   */
  inspect(events: readonly FraudEvent[]): Promise<FraudFlag[]>;
}

// ---------------------------------------------------------------- analytics

/**
 * The analytics queries over the lake (sql/analytics/*.sql): DuckDB locally, Athena in AWS.
 * Each returns additive counts in order, at most the query's limit (docs/analytics.md).
 */
export interface Analytics {
  adPerformance(query: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>>;
  userSegments(query: UserSegmentsQuery): Promise<Limited<UserSegmentCounts>>;
  /** Rows per (model_version, variant, reliability bin); `limit` counts the pairs. */
  models(query: ModelsQuery): Promise<Limited<ModelBinCounts>>;
  fraud(query: FraudQuery): Promise<Limited<FraudCounts>>;
}

// ---------------------------------------------------------------- erasure

/** What an eraser is asked to remove: one user's pseudonym, for one erasure. */
export interface ErasureTarget {
  readonly erasureId: string;
  /** The user's pseudonym (keyed HMAC): every store holds this, never the raw id. */
  readonly userKey: string;
  readonly requestedAt: Date;
}

/** What one store removed (the receipt's entry for it). */
export interface StoreErasure {
  /** Counts by kind: rows per lake table, items, keys, ... */
  readonly removed: Readonly<Record<string, number>>;
  /** 'submitted': an asynchronous job (the Glue rewrite in AWS) was started and does the removal. */
  readonly status?: 'completed' | 'submitted';
  /** The jobs a 'submitted' removal waits for, as `confirm` takes them back. */
  readonly jobs?: readonly string[];
  readonly detail?: string;
  /** Event-time range of what was found of the user, if the store knows it. */
  readonly span?: { readonly from: Date; readonly to: Date } | null;
}

/**
 * Removes one user's data from one store. Idempotent: erasing again removes nothing more (a
 * resumed erasure runs a store again if it did not finish). Erasers run in the order the
 * composition root lists them, so one that flushes data in flight runs before those it feeds.
 */
export interface UserDataEraser {
  /** The store's name in the receipt, e.g. `prediction_log`. */
  readonly store: string;
  erase(target: ErasureTarget): Promise<StoreErasure>;
  /**
   * When this store may be erased, if not at once: data still on its way into it (the lake's
   * delivery buffer) would land after the erasure. Until then the erasure stays `running` and
   * this store and the ones after it wait for a later run.
   */
  readyAt?(target: ErasureTarget): Date;
  /**
   * Whether the jobs a 'submitted' removal started have finished: the erasure completes only when
   * they all succeeded, and fails (saying which) when one did not.
   */
  confirm?(jobs: readonly string[]): Promise<{ readonly done: boolean; readonly failed?: string }>;
}

export interface StoredErasure {
  readonly receipt: ErasureReceipt;
  /** The pseudonym while the erasure is unfinished; null once it completed or failed. */
  readonly userKey: string | null;
}

/** Erasure receipts (the `erasures` table), durable before `DELETE /users/{id}` answers. */
export interface ErasureStore {
  /** Stores a new erasure; an id that exists is refused with a ConflictError. */
  create(erasure: StoredErasure): Promise<void>;
  get(erasureId: string): Promise<StoredErasure | undefined>;
  /** Replaces the stored erasure (its receipt and whether the pseudonym is still kept). */
  save(erasure: StoredErasure): Promise<void>;
  /** Erasures pending or running (to resume after a restart), oldest first. */
  unfinished(): Promise<StoredErasure[]>;
}

// ---------------------------------------------------------------- small ports

export interface Pseudonymiser {
  /** Keyed HMAC of a user id or IP; the same input always gives the same pseudonym. */
  pseudonymise(kind: 'user' | 'ip', value: string): string;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A new unique, time-ordered id with the given prefix. */
  next(prefix: string): string;
  /** A stable id derived from a key (idempotency): the same key gives the same id. */
  derive(prefix: string, key: string): string;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type { Features };
