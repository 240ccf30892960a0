/**
 * Small, honest in-memory implementations of every port in lambdas/core/ports.ts, for unit tests
 * of the core. Each keeps the contract its interface documents (write-once prediction log,
 * de-duplicating event log, atomic promote) and records what it was asked, so tests can assess
 * the calls without reaching into the use cases.
 */
import { createHash, createHmac } from 'node:crypto';
import { type App, createApp } from '../../lambdas/core/app.js';
import { ConflictError, InvalidArtifactError, NotFoundError } from '../../lambdas/core/errors.js';
import { LAKE_TABLES } from '../../lambdas/core/lake/tables.js';
import type {
  AdCatalogue,
  Analytics,
  ArtifactManifest,
  Clock,
  CounterEvent,
  ErasureStore,
  EventLog,
  Experiment,
  ExperimentStore,
  FeatureMap,
  FeatureStore,
  FraudDetector,
  FraudEvent,
  FraudFlag,
  HoldoutEvaluator,
  IdGenerator,
  LakeRow,
  Logger,
  ModelArtifactStore,
  ModelEndpoint,
  ModelRef,
  ModelRegistry,
  PredictionLog,
  PredictionRecord,
  Pseudonymiser,
  ScoreOptions,
  ScoreResult,
  ScoreRow,
  ScoreUncertainty,
  StoredErasure,
} from '../../lambdas/core/ports.js';
import type { Ad, AdUpsert } from '../../lambdas/core/schemas/ads.js';
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
} from '../../lambdas/core/schemas/analytics.js';
import type { GateReport, HoldoutMetrics, ModelRecord, SegmentMetrics } from '../../lambdas/core/schemas/models.js';
import type { Explanation } from '../../lambdas/core/schemas/predict.js';
import { type CoreConfig, DEFAULT_CORE_CONFIG, type Deps } from '../../lambdas/core/usecases/deps.js';
import { versionExists } from '../../lambdas/core/usecases/models.js';

/** The instant every test starts at, unless it moves the clock. */
export const T0 = new Date('2026-12-04T10:00:00Z');

/** The key of the test pseudonymiser; the pseudonyms of a test are reproducible with it. */
export const TEST_HMAC_KEY = 'adclick-unit-test-key';

export function hmacPseudonym(kind: 'user' | 'ip', value: string): string {
  return createHmac('sha256', TEST_HMAC_KEY).update(`${kind}\u0000${value}`).digest('hex');
}

function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// ---------------------------------------------------------------- model endpoint

export interface ScoreCall {
  readonly model: ModelRef;
  readonly rows: readonly ScoreRow[];
  readonly explain: boolean;
  readonly uncertainty?: boolean;
}

/**
 * A deterministic fake scorer: the logit of a row is a sum of one small hashed weight per
 * (model, feature, value), so the probability depends on the model and on every feature, and the
 * explanation is exact (the contributions add up to the logit minus the base value).
 */
export class FakeModelEndpoint implements ModelEndpoint {
  readonly calls: ScoreCall[] = [];
  /** When set, every row is answered as served by a fallback copy. */
  fallback = false;
  /** When set, score() rejects with it. */
  failWith: Error | undefined;

  static readonly BASE_VALUE = -3;

  static explanationOf(modelId: string, features: FeatureMap): Explanation {
    const contributions: Record<string, number> = {};
    for (const [k, v] of Object.entries(features)) {
      contributions[k] = unitHash(`${modelId}\u0000${k}\u0000${JSON.stringify(v)}`) - 0.5;
    }
    return { base_value: FakeModelEndpoint.BASE_VALUE, contributions };
  }

  /**
   * Training counts by ad id, for uncertainty answers (an ad absent here was never seen: 0);
   * null makes the fake a model without counts (uncertainty null).
   */
  adEvidence: Map<string, number> | null = new Map();

  /** The uncertainty this fake answers: the logit spread shrinks as the ad's count grows. */
  uncertaintyOf(features: FeatureMap): ScoreUncertainty | null {
    if (this.adEvidence === null) return null;
    const seen = this.adEvidence.get(String(features.ad_id)) ?? 0;
    return { logit_sd: 1 / Math.sqrt(1 + seen / 100), evidence: { ad_id: seen } };
  }

  static probabilityOf(modelId: string, features: FeatureMap): number {
    const e = FakeModelEndpoint.explanationOf(modelId, features);
    return sigmoid(e.base_value + Object.values(e.contributions).reduce((s, c) => s + c, 0));
  }

  async score(model: ModelRef, rows: readonly ScoreRow[], options: ScoreOptions): Promise<ScoreResult[]> {
    this.calls.push({
      model,
      rows: rows.map((r) => ({ features: { ...r.features } })),
      explain: options.explain,
      ...(options.uncertainty === undefined ? {} : { uncertainty: options.uncertainty }),
    });
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
    return rows.map((r) => {
      const result: {
        probability: number;
        explanation?: Explanation;
        fallback?: boolean;
        uncertainty?: ScoreUncertainty | null;
      } = {
        probability: FakeModelEndpoint.probabilityOf(model.model_id, r.features),
      };
      if (options.explain) result.explanation = FakeModelEndpoint.explanationOf(model.model_id, r.features);
      if (this.fallback) result.fallback = true;
      if (options.uncertainty === true) result.uncertainty = this.uncertaintyOf(r.features);
      return result;
    });
  }

  /** Every row scored so far, flattened, with the model that scored it. */
  scoredRows(): { model_id: string; features: FeatureMap }[] {
    return this.calls.flatMap((c) => c.rows.map((r) => ({ model_id: c.model.model_id, features: r.features })));
  }
}

// ---------------------------------------------------------------- features

interface Counter {
  impressions: number;
  clicks: number;
}

/** Counters per ad and per user (pseudonym), kept by the events, as the real stores do. */
export class MemoryFeatureStore implements FeatureStore {
  readonly ads = new Map<string, Counter>();
  readonly users = new Map<string, Counter>();
  readonly impressions = new Map<string, { userKey: string; adId: string }>();
  readonly getCalls: { userKey: string | null; adIds: string[] }[] = [];
  readonly impressionCalls: { userKey: string; adId: string; impressionId: string; at: Date }[] = [];
  readonly clickCalls: { impressionId: string; userKey: string | null; at: Date }[] = [];
  /** Events per record() call: a batch is counted in one call. */
  readonly recordCalls: number[] = [];
  /** When set, the record* methods reject with it (the counters are a cache). */
  failWith: Error | undefined;

  private counter(map: Map<string, Counter>, key: string): Counter {
    let c = map.get(key);
    if (!c) {
      c = { impressions: 0, clicks: 0 };
      map.set(key, c);
    }
    return c;
  }

  async get(userKey: string | null, adIds: readonly string[]): Promise<{ user: FeatureMap; ads: FeatureMap[] }> {
    this.getCalls.push({ userKey, adIds: [...adIds] });
    const u = userKey === null ? undefined : this.users.get(userKey);
    const user: FeatureMap =
      userKey === null ? {} : { user_impressions: u?.impressions ?? 0, user_clicks: u?.clicks ?? 0 };
    const ads = adIds.map((id): FeatureMap => {
      const a = this.ads.get(id);
      return { ad_impressions: a?.impressions ?? 0, ad_clicks: a?.clicks ?? 0 };
    });
    return { user, ads };
  }

  async record(events: readonly CounterEvent[]): Promise<void> {
    this.recordCalls.push(events.length);
    for (const e of events) {
      if (e.kind === 'impression') await this.recordImpression(e.userKey, e.adId, e.impressionId, e.at);
      else await this.recordClick(e.impressionId, e.userKey, e.at);
    }
  }

  private async recordImpression(userKey: string, adId: string, impressionId: string, at: Date): Promise<void> {
    this.impressionCalls.push({ userKey, adId, impressionId, at });
    if (this.failWith) throw this.failWith;
    this.impressions.set(impressionId, { userKey, adId });
    this.counter(this.ads, adId).impressions++;
    this.counter(this.users, userKey).impressions++;
  }

  private async recordClick(impressionId: string, userKey: string | null, at: Date): Promise<void> {
    this.clickCalls.push({ impressionId, userKey, at });
    if (this.failWith) throw this.failWith;
    const imp = this.impressions.get(impressionId);
    if (!imp) return;
    this.counter(this.ads, imp.adId).clicks++;
    this.counter(this.users, userKey ?? imp.userKey).clicks++;
  }
}

// ---------------------------------------------------------------- prediction log

/** Write-once on prediction_id, like the conditional put of the DynamoDB adapter. */
export class MemoryPredictionLog implements PredictionLog {
  readonly records = new Map<string, PredictionRecord>();
  /** Every record ever offered to putAll, written or not. */
  readonly offered: PredictionRecord[] = [];
  readonly putCalls: number[] = [];

  async putAll(records: readonly PredictionRecord[]): Promise<{ duplicates: number[] }> {
    this.putCalls.push(records.length);
    await Promise.resolve();
    const duplicates: number[] = [];
    records.forEach((r, i) => {
      this.offered.push(r);
      if (this.records.has(r.prediction_id)) duplicates.push(i);
      else this.records.set(r.prediction_id, structuredClone(r));
    });
    return { duplicates };
  }

  async getMany(predictionIds: readonly string[]): Promise<(PredictionRecord | undefined)[]> {
    await Promise.resolve();
    return predictionIds.map((id) => {
      const r = this.records.get(id);
      return r === undefined ? undefined : structuredClone(r);
    });
  }

  all(): PredictionRecord[] {
    return [...this.records.values()];
  }
}

// ---------------------------------------------------------------- events

/** Appends rows, de-duplicating on (table, the table's id column from LAKE_TABLES). */
export class MemoryEventLog implements EventLog {
  readonly rows: LakeRow[] = [];
  private readonly seen = new Set<string>();
  readonly appendCalls: number[] = [];

  async append(rows: readonly LakeRow[]): Promise<{ duplicates: number[] }> {
    this.appendCalls.push(rows.length);
    await Promise.resolve();
    const duplicates: number[] = [];
    rows.forEach((r, i) => {
      const idColumn = LAKE_TABLES[r.table].idColumn;
      const key = `${r.table}\u0000${String(r.row[idColumn])}`;
      if (this.seen.has(key)) {
        duplicates.push(i);
        return;
      }
      this.seen.add(key);
      this.rows.push({ table: r.table, row: { ...r.row } });
    });
    return { duplicates };
  }

  table(name: LakeRow['table']): LakeRow['row'][] {
    return this.rows.filter((r) => r.table === name).map((r) => r.row);
  }
}

// ---------------------------------------------------------------- fraud

/**
 * A detector with no rules of its own: it records what it was shown and returns the flags a test
 * sets (`flagWith`), so tests of other behaviour are not subject to the fraud rules. Tests of the
 * rules inject `RuleFraudDetector` from lambdas/core/fraud instead.
 */
export class MemoryFraudDetector implements FraudDetector {
  readonly inspected: FraudEvent[][] = [];
  /** Returns the flags for one call; none unless set. */
  flagWith: ((events: readonly FraudEvent[]) => FraudFlag[]) | undefined;
  /** When set, inspect() rejects with it. */
  failWith: Error | undefined;

  async inspect(events: readonly FraudEvent[]): Promise<FraudFlag[]> {
    this.inspected.push([...events]);
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
    return this.flagWith ? this.flagWith(events) : [];
  }
}

// ---------------------------------------------------------------- analytics

/**
 * Analytics with no lake behind it: it records each query and answers with the rows a test sets
 * (none by default), so use-case tests assess what is asked and what is derived from the counts.
 * The SQL itself is tested on DuckDB (test/integration/analytics).
 */
export class MemoryAnalytics implements Analytics {
  readonly queries: { kind: string; query: unknown }[] = [];
  adPerformanceRows: Limited<AdPerformanceCounts> = { rows: [], truncated: false };
  userSegmentRows: Limited<UserSegmentCounts> = { rows: [], truncated: false };
  modelRows: Limited<ModelBinCounts> = { rows: [], truncated: false };
  fraudRows: Limited<FraudCounts> = { rows: [], truncated: false };

  async adPerformance(query: AdPerformanceQuery): Promise<Limited<AdPerformanceCounts>> {
    this.queries.push({ kind: 'ad-performance', query });
    return structuredClone(this.adPerformanceRows);
  }

  async userSegments(query: UserSegmentsQuery): Promise<Limited<UserSegmentCounts>> {
    this.queries.push({ kind: 'user-segments', query });
    return structuredClone(this.userSegmentRows);
  }

  async models(query: ModelsQuery): Promise<Limited<ModelBinCounts>> {
    this.queries.push({ kind: 'models', query });
    return structuredClone(this.modelRows);
  }

  async fraud(query: FraudQuery): Promise<Limited<FraudCounts>> {
    this.queries.push({ kind: 'fraud', query });
    return structuredClone(this.fraudRows);
  }
}

// ---------------------------------------------------------------- catalogue

export class MemoryAdCatalogue implements AdCatalogue {
  readonly ads = new Map<string, Ad>();

  async put(adId: string, ad: AdUpsert, now: Date): Promise<Ad> {
    const existing = this.ads.get(adId);
    const stored: Ad = {
      ...ad,
      ad_id: adId,
      created_at: existing?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
    };
    this.ads.set(adId, stored);
    return structuredClone(stored);
  }

  async get(adId: string): Promise<Ad | undefined> {
    const ad = this.ads.get(adId);
    return ad === undefined ? undefined : structuredClone(ad);
  }

  async getMany(adIds: readonly string[]): Promise<(Ad | undefined)[]> {
    return Promise.all(adIds.map((id) => this.get(id)));
  }
}

// ---------------------------------------------------------------- registry

export function modelRecord(patch: Partial<ModelRecord> & Pick<ModelRecord, 'model_id' | 'version'>): ModelRecord {
  return {
    status: 'candidate',
    alias: null,
    algorithm: 'ftrl-fm',
    artifact_uri: `memory://artifacts/${patch.model_id}`,
    artifact_bytes: 1024,
    metadata: {},
    training_window: null,
    holdout_metrics: null,
    negative_sampling_rate: null,
    gate: null,
    previous_champion_id: null,
    created_at: T0.toISOString(),
    activated_at: null,
    ...patch,
  };
}

export class MemoryModelRegistry implements ModelRegistry {
  readonly models = new Map<string, ModelRecord>();
  readonly promoteCalls: { modelId: string; now: Date; gate: GateReport | null }[] = [];
  private sequence = 0;
  private readonly order = new Map<string, number>();

  async get(modelId: string): Promise<ModelRecord | undefined> {
    const m = this.models.get(modelId);
    return m === undefined ? undefined : structuredClone(m);
  }

  /** Newest first (created_at, then registration order). */
  async list(): Promise<ModelRecord[]> {
    return [...this.models.values()]
      .sort(
        (a, b) =>
          b.created_at.localeCompare(a.created_at) ||
          (this.order.get(b.model_id) ?? 0) - (this.order.get(a.model_id) ?? 0),
      )
      .map((m) => structuredClone(m));
  }

  async findByVersion(version: string): Promise<ModelRecord | undefined> {
    await Promise.resolve();
    const m = [...this.models.values()].find((r) => r.version === version);
    return m === undefined ? undefined : structuredClone(m);
  }

  async champion(): Promise<ModelRecord | undefined> {
    const m = [...this.models.values()].find((r) => r.alias === 'champion');
    return m === undefined ? undefined : structuredClone(m);
  }

  /** A conditional put on model_id and a unique version, as the port requires. */
  async create(record: ModelRecord): Promise<void> {
    await Promise.resolve();
    if (this.models.has(record.model_id)) throw new Error(`model ${record.model_id} exists`);
    if ([...this.models.values()].some((m) => m.version === record.version)) throw versionExists(record.version);
    this.models.set(record.model_id, structuredClone(record));
    this.order.set(record.model_id, this.sequence++);
  }

  async update(modelId: string, patch: Partial<Omit<ModelRecord, 'model_id'>>): Promise<ModelRecord> {
    const m = this.models.get(modelId);
    if (!m) throw new NotFoundError(`Model ${modelId} does not exist.`);
    const updated = { ...m, ...structuredClone(patch) };
    this.models.set(modelId, updated);
    return structuredClone(updated);
  }

  async promote(modelId: string, now: Date, gate: GateReport | null): Promise<ModelRecord> {
    this.promoteCalls.push({ modelId, now, gate });
    const m = this.models.get(modelId);
    if (!m) throw new NotFoundError(`Model ${modelId} does not exist.`);
    const current = [...this.models.values()].find((r) => r.alias === 'champion');
    if (current && current.model_id !== modelId) {
      this.models.set(current.model_id, { ...current, status: 'retired', alias: null });
    }
    const promoted: ModelRecord = {
      ...m,
      status: 'champion',
      alias: 'champion',
      // As the real registries: a promotion without a report (forced) keeps the model's last one.
      gate: gate ?? m.gate,
      activated_at: now.toISOString(),
      previous_champion_id: current && current.model_id !== modelId ? current.model_id : m.previous_champion_id,
    };
    this.models.set(modelId, promoted);
    return structuredClone(promoted);
  }
}

// ---------------------------------------------------------------- experiments

export class MemoryExperimentStore implements ExperimentStore {
  experiments: Experiment[] = [];
  runningCalls = 0;

  set(experiments: Experiment[]): void {
    this.experiments = experiments;
  }

  async running(): Promise<Experiment[]> {
    this.runningCalls++;
    return this.experiments
      .filter((e) => e.status === 'running')
      .sort(
        (a, b) =>
          a.created_at.localeCompare(b.created_at) ||
          (a.experiment_id < b.experiment_id ? -1 : a.experiment_id > b.experiment_id ? 1 : 0),
      )
      .map((e) => structuredClone(e));
  }

  async create(experiment: Experiment): Promise<void> {
    if (this.experiments.some((e) => e.experiment_id === experiment.experiment_id)) {
      throw new ConflictError(`Experiment ${experiment.experiment_id} already exists.`);
    }
    this.experiments = [...this.experiments, structuredClone(experiment)];
  }

  async get(experimentId: string): Promise<Experiment | undefined> {
    const found = this.experiments.find((e) => e.experiment_id === experimentId);
    return found === undefined ? undefined : structuredClone(found);
  }

  async list(): Promise<Experiment[]> {
    return this.experiments
      .map((e) => structuredClone(e))
      .sort(
        (a, b) =>
          b.created_at.localeCompare(a.created_at) ||
          (a.experiment_id < b.experiment_id ? 1 : a.experiment_id > b.experiment_id ? -1 : 0),
      );
  }

  async stop(experimentId: string, at: Date): Promise<Experiment | undefined> {
    const index = this.experiments.findIndex((e) => e.experiment_id === experimentId);
    if (index < 0) return undefined;
    const current = this.experiments[index]!;
    if (current.status === 'running') {
      const stopped: Experiment = { ...current, status: 'stopped', stopped_at: at.toISOString() };
      this.experiments = this.experiments.map((e, i) => (i === index ? stopped : e));
    }
    return structuredClone(this.experiments[index]!);
  }
}

export function experiment(patch: Partial<Experiment> & Pick<Experiment, 'experiment_id' | 'variants'>): Experiment {
  return {
    name: patch.experiment_id,
    status: 'running',
    campaign_ids: null,
    created_at: T0.toISOString(),
    stopped_at: null,
    ...patch,
  };
}

// ---------------------------------------------------------------- artifacts

/**
 * Artifacts are stored bytes; inspect() reads them as a JSON manifest, standing in for
 * "unpack the tar.gz and load model.json". Anything else is an InvalidArtifactError.
 */
export class MemoryArtifactStore implements ModelArtifactStore {
  readonly blobs = new Map<string, Uint8Array>();
  readonly maxBytes = 64 * 1024 * 1024;

  static manifest(patch: Partial<ArtifactManifest> = {}): Uint8Array {
    const { bytes: _b, ...rest } = patch;
    return new TextEncoder().encode(
      JSON.stringify({
        format_version: 1,
        algorithm: 'ftrl-fm',
        training_window: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
        metrics: { logloss: 0.1 },
        negative_sampling_rate: 0.5,
        ...rest,
      }),
    );
  }

  async createUploadTarget(modelId: string): Promise<{ url: string; maxBytes: number; artifactUri: string }> {
    return {
      url: `memory://upload/${modelId}`,
      maxBytes: this.maxBytes,
      artifactUri: `memory://artifacts/${modelId}`,
    };
  }

  async receive(artifactUri: string, body: Uint8Array): Promise<void> {
    this.blobs.set(artifactUri, new Uint8Array(body));
  }

  async inspect(artifactUri: string): Promise<ArtifactManifest> {
    const body = this.blobs.get(artifactUri);
    if (!body) throw new InvalidArtifactError(`No artifact was uploaded to ${artifactUri}.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new InvalidArtifactError('The artifact is not a model folder (model.json is unreadable).');
    }
    const m = parsed as Partial<ArtifactManifest> | null;
    if (!m || typeof m !== 'object' || m.format_version !== 1 || typeof m.algorithm !== 'string') {
      throw new InvalidArtifactError('model.json has no supported format_version or algorithm.');
    }
    return {
      format_version: 1,
      algorithm: m.algorithm,
      training_window: m.training_window ?? null,
      metrics: m.metrics ?? null,
      negative_sampling_rate: m.negative_sampling_rate ?? null,
      bytes: body.byteLength,
    };
  }
}

// ---------------------------------------------------------------- holdout

export interface ModelHoldout {
  readonly overall: HoldoutMetrics;
  readonly segments: SegmentMetrics[];
}

export function holdoutMetrics(
  logloss: number,
  calibration: number | null,
  segments: { segment: string; rows: number; positives?: number; calibration: number | null }[] = [],
): ModelHoldout {
  return {
    overall: { rows: 10_000, positives: 500, logloss, calibration, auc: 0.75 },
    segments: segments.map((s) => ({ positives: 1_000, ...s, logloss, auc: 0.75 })),
  };
}

/** Returns the metrics set per model, or null (no holdout) when any model has none. */
export class MemoryHoldoutEvaluator implements HoldoutEvaluator {
  readonly metrics = new Map<string, ModelHoldout>();
  readonly calls: string[][] = [];
  holdout = 'holdout 2026-12-01..2026-12-03';

  set(modelId: string, metrics: ModelHoldout): this {
    this.metrics.set(modelId, metrics);
    return this;
  }

  async evaluate(
    models: readonly ModelRef[],
  ): Promise<{ holdout: string; results: { overall: HoldoutMetrics; segments: SegmentMetrics[] }[] } | null> {
    this.calls.push(models.map((m) => m.model_id));
    const results = models.map((m) => this.metrics.get(m.model_id));
    if (results.some((r) => r === undefined)) return null;
    return { holdout: this.holdout, results: results.map((r) => structuredClone(r!)) };
  }
}

// ---------------------------------------------------------------- small ports

export class HmacPseudonymiser implements Pseudonymiser {
  pseudonymise(kind: 'user' | 'ip', value: string): string {
    return hmacPseudonym(kind, value);
  }
}

export class SettableClock implements Clock {
  constructor(private current: Date = T0) {}

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(at: Date | string): void {
    this.current = new Date(at);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export class SequentialIds implements IdGenerator {
  private n = 0;

  next(prefix: string): string {
    this.n++;
    return `${prefix}_${String(this.n).padStart(12, '0')}`;
  }

  derive(prefix: string, key: string): string {
    return `${prefix}_d${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
  }
}

export class RecordingLogger implements Logger {
  readonly entries: { level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }[] = [];

  info(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, ...(fields ? { fields } : {}) });
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, ...(fields ? { fields } : {}) });
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, ...(fields ? { fields } : {}) });
  }
}

// ---------------------------------------------------------------- erasure receipts

export class MemoryErasureStore implements ErasureStore {
  readonly erasures = new Map<string, StoredErasure>();

  async create(erasure: StoredErasure): Promise<void> {
    if (this.erasures.has(erasure.receipt.erasure_id))
      throw new ConflictError(`Erasure ${erasure.receipt.erasure_id} exists.`);
    this.erasures.set(erasure.receipt.erasure_id, structuredClone(erasure));
  }

  async get(erasureId: string): Promise<StoredErasure | undefined> {
    const e = this.erasures.get(erasureId);
    return e === undefined ? undefined : structuredClone(e);
  }

  async save(erasure: StoredErasure): Promise<void> {
    this.erasures.set(erasure.receipt.erasure_id, structuredClone(erasure));
  }

  async unfinished(): Promise<StoredErasure[]> {
    return [...this.erasures.values()]
      .filter((e) => e.receipt.status === 'pending' || e.receipt.status === 'running')
      .sort((a, b) => a.receipt.requested_at.localeCompare(b.receipt.requested_at))
      .map((e) => structuredClone(e));
  }
}

// ---------------------------------------------------------------- composition

export interface MemoryPorts {
  readonly model: FakeModelEndpoint;
  readonly features: MemoryFeatureStore;
  readonly predictions: MemoryPredictionLog;
  readonly events: MemoryEventLog;
  readonly fraud: MemoryFraudDetector;
  readonly ads: MemoryAdCatalogue;
  readonly models: MemoryModelRegistry;
  readonly experiments: MemoryExperimentStore;
  readonly artifacts: MemoryArtifactStore;
  readonly holdout: MemoryHoldoutEvaluator;
  readonly analytics: MemoryAnalytics;
  readonly pseudonymiser: HmacPseudonymiser;
  readonly clock: SettableClock;
  readonly ids: SequentialIds;
  readonly logger: RecordingLogger;
}

export const CHAMPION_ID = 'm_champion';
export const CHAMPION_VERSION = '2026-12-01.1';

export interface MakeOptions {
  /** Register a champion model (CHAMPION_ID, CHAMPION_VERSION); true unless false. */
  readonly champion?: boolean;
  readonly config?: Partial<CoreConfig>;
}

export function makePorts(): MemoryPorts {
  return {
    model: new FakeModelEndpoint(),
    features: new MemoryFeatureStore(),
    predictions: new MemoryPredictionLog(),
    events: new MemoryEventLog(),
    fraud: new MemoryFraudDetector(),
    ads: new MemoryAdCatalogue(),
    models: new MemoryModelRegistry(),
    experiments: new MemoryExperimentStore(),
    artifacts: new MemoryArtifactStore(),
    holdout: new MemoryHoldoutEvaluator(),
    analytics: new MemoryAnalytics(),
    pseudonymiser: new HmacPseudonymiser(),
    clock: new SettableClock(),
    ids: new SequentialIds(),
    logger: new RecordingLogger(),
  };
}

/** A Deps over fresh in-memory ports (with a champion unless told otherwise); overrides win. */
export function makeDeps(overrides: Partial<Deps> = {}, options: MakeOptions = {}): { deps: Deps; ports: MemoryPorts } {
  const ports = makePorts();
  if (options.champion !== false) {
    ports.models.models.set(
      CHAMPION_ID,
      modelRecord({
        model_id: CHAMPION_ID,
        version: CHAMPION_VERSION,
        status: 'champion',
        alias: 'champion',
        activated_at: T0.toISOString(),
      }),
    );
  }
  const deps: Deps = {
    ...ports,
    health: [],
    config: { ...DEFAULT_CORE_CONFIG, ...options.config },
    ...overrides,
  };
  return { deps, ports };
}

/** createApp over makeDeps. */
export function makeApp(
  overrides: Partial<Deps> = {},
  options: MakeOptions = {},
): { app: App; deps: Deps; ports: MemoryPorts } {
  const { deps, ports } = makeDeps(overrides, options);
  return { app: createApp(deps), deps, ports };
}

/** Registers a candidate model directly in the registry (bypassing the upload). */
export function addCandidate(ports: MemoryPorts, modelId: string, version = `${modelId}.v`): ModelRecord {
  const record = modelRecord({ model_id: modelId, version, created_at: ports.clock.now().toISOString() });
  ports.models.models.set(modelId, record);
  return record;
}
