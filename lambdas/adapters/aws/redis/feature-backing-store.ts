import { oldestLiveHour } from '../../../core/features/counter-windows.js';
import { addToHour, type Counter, type CounterDelta, type CounterKey, mergeDeltas } from './counters.js';

/**
 * The durable counters the Redis feature store caches (the DynamoDB features table in AWS).
 * Redis answers reads; a key Redis does not hold is read here and filled into Redis. Every
 * recorded event is added here too, so evicting or losing Redis loses freshness, not counts.
 */
export interface FeatureBackingStore {
  /** Counters in key order, with their hourly buckets; undefined for a key never counted. */
  getMany(keys: readonly CounterKey[]): Promise<(Counter | undefined)[]>;
  /**
   * Adds the deltas, each to the all-time totals and to its hour's bucket (atomic per key:
   * concurrent adds never lose an increment), and drops buckets no window reads any more.
   */
  add(deltas: readonly CounterDelta[]): Promise<void>;
}

interface StoredCounter {
  impressions: number;
  clicks: number;
  hours: Map<number, { impressions: number; clicks: number }>;
}

/** In process memory: for tests and for running the Redis store without a durable table. */
export class MemoryFeatureBackingStore implements FeatureBackingStore {
  private readonly counters = new Map<string, StoredCounter>();
  private readonly now: () => number;

  /** `now` (epoch ms) decides which buckets are dropped; the system clock by default. */
  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async getMany(keys: readonly CounterKey[]): Promise<(Counter | undefined)[]> {
    return keys.map((k) => {
      const c = this.counters.get(`${k.entity}\u0000${k.id}`);
      if (!c) return undefined;
      const hours = new Map([...c.hours].map(([h, b]) => [h, { ...b }]));
      return { impressions: c.impressions, clicks: c.clicks, ...(hours.size > 0 ? { hours } : {}) };
    });
  }

  async add(deltas: readonly CounterDelta[]): Promise<void> {
    const oldest = oldestLiveHour(this.now());
    for (const d of mergeDeltas(deltas)) {
      const key = `${d.entity}\u0000${d.id}`;
      let c = this.counters.get(key);
      if (!c) {
        c = { impressions: 0, clicks: 0, hours: new Map() };
        this.counters.set(key, c);
      }
      c.impressions += d.impressions;
      c.clicks += d.clicks;
      for (const h of c.hours.keys()) if (h < oldest) c.hours.delete(h);
      for (const [h, b] of d.hours) if (h >= oldest) addToHour(c.hours, h, b.impressions, b.clicks);
    }
  }
}
