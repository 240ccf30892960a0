import type { Counter, CounterDelta, CounterKey } from './counters.js';
import { mergeDeltas } from './counters.js';

/**
 * The durable counters the Redis feature store caches (the DynamoDB features table in AWS).
 * Redis answers reads; a key Redis does not hold is read here and filled into Redis. Every
 * recorded event is added here too, so evicting or losing Redis loses freshness, not counts.
 */
export interface FeatureBackingStore {
  /** Counters in key order; undefined for a key never counted. */
  getMany(keys: readonly CounterKey[]): Promise<(Counter | undefined)[]>;
  /** Adds the deltas (atomic per key: concurrent adds never lose an increment). */
  add(deltas: readonly CounterDelta[]): Promise<void>;
}

/** In process memory: for tests and for running the Redis store without a durable table. */
export class MemoryFeatureBackingStore implements FeatureBackingStore {
  private readonly counters = new Map<string, Counter>();

  async getMany(keys: readonly CounterKey[]): Promise<(Counter | undefined)[]> {
    return keys.map((k) => {
      const c = this.counters.get(`${k.entity}\u0000${k.id}`);
      return c ? { ...c } : undefined;
    });
  }

  async add(deltas: readonly CounterDelta[]): Promise<void> {
    for (const d of mergeDeltas(deltas)) {
      const key = `${d.entity}\u0000${d.id}`;
      const c = this.counters.get(key);
      this.counters.set(key, {
        impressions: (c?.impressions ?? 0) + d.impressions,
        clicks: (c?.clicks ?? 0) + d.clicks,
      });
    }
  }
}
