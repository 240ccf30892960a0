import { ConflictError, DependencyUnavailableError } from '../errors.js';
import type { FeatureMap, PredictionCacheKey, PredictionRecord, ScoreResult } from '../ports.js';
import type { Ad } from '../schemas/ads.js';
import type { Features } from '../schemas/common.js';
import type { PredictBatchRequest, Prediction, PredictRequest } from '../schemas/predict.js';
import type { PredictDeps } from './deps.js';
import { checkedEventTime } from './event-time.js';
import { explorationBonus, explorationOf, withinBudget } from './exploration.js';
import type { Assignment, ModelRouting } from './routing.js';

/**
 * The feature snapshot scored and logged. Request-time context (placement, device, site) comes
 * from the caller, the ad's own request features over the shared ones; what the system knows
 * itself (the ad's id, its catalogue fields, the counters) is authoritative and wins, so a caller
 * cannot make one ad look like another or inflate a CTR feature. With consent withheld no
 * user-level feature enters the snapshot.
 */
export function buildSnapshot(
  adId: string,
  ad: Ad | undefined,
  adCounters: FeatureMap,
  userCounters: FeatureMap,
  requestFeatures: Features | undefined,
  adFeatures: Features | undefined,
): FeatureMap {
  // Plain assignment rather than spreads: this runs for every scored ad.
  const snapshot: FeatureMap = {};
  for (const source of [requestFeatures, adFeatures, userCounters, adCounters]) {
    if (source) for (const key in source) snapshot[key] = source[key]!;
  }
  if (ad) {
    snapshot.campaign_id = ad.campaign_id;
    snapshot.advertiser_id = ad.advertiser_id;
    if (ad.category !== undefined) snapshot.category = ad.category;
    if (ad.attributes) for (const key in ad.attributes) snapshot[`ad_attr_${key}`] = ad.attributes[key]!;
  }
  snapshot.ad_id = adId;
  return snapshot;
}

function toPrediction(r: PredictionRecord, explain: boolean): Prediction {
  const p: Prediction = {
    prediction_id: r.prediction_id,
    ad_id: r.ad_id,
    probability: r.probability,
    model_version: r.model_version,
    variant: r.variant,
  };
  if (r.fallback) p.fallback = true;
  if (explain && r.explanation) p.explanation = r.explanation;
  if (r.exploration_bonus !== null) p.exploration = explorationOf(r.probability, r.exploration_bonus);
  return p;
}

export class PredictUseCase {
  constructor(
    private readonly deps: PredictDeps,
    private readonly routing: ModelRouting,
  ) {}

  async predict(input: PredictRequest): Promise<Prediction> {
    const [prediction] = await this.predictBatch({
      user_id: input.user_id,
      features: input.features,
      request_id: input.request_id,
      consent: input.consent,
      explain: input.explain,
      timestamp: input.timestamp,
      ads: [{ ad_id: input.ad_id }],
    });
    return prediction!;
  }

  async predictBatch(input: PredictBatchRequest): Promise<Prediction[]> {
    const { deps } = this;
    // Checked before any work: a request time out of bounds is the caller's error.
    const requestTime =
      input.timestamp === undefined
        ? undefined
        : checkedEventTime(input.timestamp, 'timestamp', deps.clock.now(), deps.config);
    const consent = input.consent !== false;
    const explain = input.explain === true;
    const userKey = consent ? deps.pseudonymiser.pseudonymise('user', input.user_id) : null;
    const adIds = input.ads.map((a) => a.ad_id);

    // The prediction ids of an idempotent request derive from its request_id, so a replay (or a
    // concurrent duplicate) lands on the same ids and the log's write-once rule keeps one copy.
    const predictionIds = adIds.map((_, i) =>
      input.request_id === undefined ? deps.ids.next('p') : deps.ids.derive('p', `${input.request_id}\u0000${i}`),
    );
    const stored: (PredictionRecord | undefined)[] =
      input.request_id === undefined ? adIds.map(() => undefined) : await deps.predictions.getMany(predictionIds);
    stored.forEach((r, i) => {
      if (r) this.assertSameRequest(r, adIds[i]!, userKey);
    });
    const todo = adIds.map((_, i) => i).filter((i) => stored[i] === undefined);
    if (todo.length === 0) return stored.map((r) => toPrediction(r!, explain));

    const todoAdIds = todo.map((i) => adIds[i]!);
    const [catalogue, featureSets] = await Promise.all([
      deps.ads.getMany(todoAdIds),
      deps.features.get(userKey, todoAdIds, requestTime ?? deps.clock.now()),
    ]);
    const assignments: Assignment[] = [];
    for (const ad of catalogue) {
      const a = await this.routing.assign(userKey, ad);
      if (!a)
        throw new DependencyUnavailableError('No model is active: upload and activate one (PUT /model/activate/{id}).');
      assignments.push(a);
    }
    const snapshots = todo.map((i, k) =>
      buildSnapshot(
        adIds[i]!,
        catalogue[k],
        featureSets.ads[k] ?? {},
        featureSets.user,
        input.features,
        input.ads[i]!.features,
      ),
    );

    // One scoring call per model: a batch usually goes to one model, experiments may split it.
    const byModel = new Map<string, number[]>();
    assignments.forEach((a, k) => {
      const list = byModel.get(a.model.model_id);
      if (list) list.push(k);
      else byModel.set(a.model.model_id, [k]);
    });
    const scores = new Array<ScoreResult>(todo.length);
    // Per row, the time of the model call that scored it: the latency guardrail of experiments.
    const latencies = new Array<number | null>(todo.length).fill(null);
    // Only a prediction within the exploration budget needs the uncertainty, and a fresh score.
    const explore = todo.map((i) => withinBudget(deps.config.exploration, predictionIds[i]!));
    const cache = explain ? undefined : deps.predictionCache;
    const cacheKeys = cache
      ? todo.map(
          (i, k): PredictionCacheKey => ({
            modelVersion: assignments[k]!.model.version,
            userKey,
            adId: adIds[i]!,
            context: { ...input.features, ...input.ads[i]!.features },
          }),
        )
      : undefined;
    if (cache && cacheKeys) {
      const asked = cacheKeys.flatMap((_, k) => (explore[k] ? [] : [k]));
      const cached = asked.length === 0 ? [] : await cache.getMany(asked.map((k) => cacheKeys[k]!)).catch(() => []);
      cached.forEach((hit, j) => {
        if (hit) scores[asked[j]!] = { probability: hit.probability };
      });
    }
    await Promise.all(
      [...byModel.values()].map(async (all) => {
        const ks = cache ? all.filter((k) => scores[k] === undefined) : all;
        if (ks.length === 0) return;
        const model = assignments[ks[0]!]!.model;
        const started = performance.now();
        const results = await deps.model.score(
          model,
          ks.map((k) => ({ features: snapshots[k]! })),
          ks.some((k) => explore[k]) ? { explain, uncertainty: true } : { explain },
        );
        // Microseconds are plenty: the guardrail compares tails of milliseconds.
        const latency = Math.round((performance.now() - started) * 1000) / 1000;
        ks.forEach((k, j) => {
          scores[k] = results[j]!;
          latencies[k] = latency;
        });
        // A fallback score is not cached: it must not outlive the endpoint's outage.
        if (cache && cacheKeys) {
          const fresh = ks.flatMap((k, j) =>
            results[j]!.fallback === true
              ? []
              : [{ key: cacheKeys[k]!, result: { probability: results[j]!.probability } }],
          );
          if (fresh.length > 0) await cache.setMany(fresh).catch(() => undefined);
        }
      }),
    );

    const now = requestTime ?? deps.clock.now();
    const records: PredictionRecord[] = todo.map((i, k) => ({
      prediction_id: predictionIds[i]!,
      request_id: input.request_id ?? null,
      user_id: userKey,
      ad_id: adIds[i]!,
      probability: scores[k]!.probability,
      model_id: assignments[k]!.model.model_id,
      model_version: assignments[k]!.model.version,
      variant: assignments[k]!.variant,
      experiment_id: assignments[k]!.experiment_id,
      fallback: scores[k]!.fallback === true,
      consent,
      features: snapshots[k]!,
      explanation: scores[k]!.explanation ?? null,
      exploration_bonus: explore[k] ? explorationBonus(deps.config.exploration, scores[k]!.uncertainty) : null,
      model_latency_ms: latencies[k] ?? null,
      timestamp: now,
    }));
    const { duplicates } = await deps.predictions.putAll(records);
    if (duplicates.length > 0) {
      // A concurrent twin won the write: serve what it stored, so both callers see one answer.
      const winners = await deps.predictions.getMany(duplicates.map((k) => records[k]!.prediction_id));
      duplicates.forEach((k, j) => {
        const w = winners[j];
        if (w) {
          this.assertSameRequest(w, records[k]!.ad_id, userKey);
          records[k] = w;
        }
      });
    }
    todo.forEach((i, k) => {
      stored[i] = records[k];
    });
    return stored.map((r) => toPrediction(r!, explain));
  }

  private assertSameRequest(r: PredictionRecord, adId: string, userKey: string | null): void {
    if (r.ad_id !== adId || r.user_id !== userKey) {
      throw new ConflictError(
        'request_id was already used for a different request (another user or ad): use a new request_id.',
        [{ path: 'request_id', message: 'was already used for a different request' }],
      );
    }
  }
}
