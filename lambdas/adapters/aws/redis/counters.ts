import type { FeatureMap } from '../../../core/ports.js';

export type CounterEntity = 'user' | 'ad';

export interface CounterKey {
  readonly entity: CounterEntity;
  readonly id: string;
}

export interface Counter {
  readonly impressions: number;
  readonly clicks: number;
}

export type CounterDelta = CounterKey & Counter;

/**
 * The same smoothed CTR as the local store (lambdas/adapters/local/memory-feature-store.ts): a
 * model trained on features from one store must read the same numbers from the other. The
 * integration test compares both stores over random event sequences, so a drift fails it.
 */
const PRIOR_CTR = 0.02;
const PRIOR_WEIGHT = 20;

export function counterFeatures(entity: CounterEntity, c: Counter | undefined): FeatureMap {
  const impressions = c?.impressions ?? 0;
  const clicks = c?.clicks ?? 0;
  return {
    [`${entity}_impressions`]: impressions,
    [`${entity}_clicks`]: clicks,
    [`${entity}_ctr`]: (clicks + PRIOR_CTR * PRIOR_WEIGHT) / (impressions + PRIOR_WEIGHT),
  };
}

/** Adds deltas of the same key together, so a batch touches each key once. */
export function mergeDeltas(deltas: readonly CounterDelta[]): CounterDelta[] {
  const merged = new Map<string, { entity: CounterEntity; id: string; impressions: number; clicks: number }>();
  for (const d of deltas) {
    const k = `${d.entity}\u0000${d.id}`;
    const m = merged.get(k);
    if (m) {
      m.impressions += d.impressions;
      m.clicks += d.clicks;
    } else merged.set(k, { entity: d.entity, id: d.id, impressions: d.impressions, clicks: d.clicks });
  }
  return [...merged.values()];
}
