import type { FeatureMap, FeatureStore } from '../../core/ports.js';

interface Counter {
  impressions: number;
  clicks: number;
}

/** A Map used as an LRU: reads move an entry to the back, inserts past the cap drop the front. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly cap: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.cap) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * Smoothed click-through rate: a new user or ad starts at the prior instead of 0/0, so the
 * feature means the same thing at 3 impressions as at 3,000.
 */
const PRIOR_CTR = 0.02;
const PRIOR_WEIGHT = 20;

function features(prefix: 'user' | 'ad', c: Counter | undefined): FeatureMap {
  const impressions = c?.impressions ?? 0;
  const clicks = c?.clicks ?? 0;
  return {
    [`${prefix}_impressions`]: impressions,
    [`${prefix}_clicks`]: clicks,
    [`${prefix}_ctr`]: (clicks + PRIOR_CTR * PRIOR_WEIGHT) / (impressions + PRIOR_WEIGHT),
  };
}

/**
 * Per-user and per-ad impression and click counters in process memory, bounded by LRU. They are
 * a cache over the event lake (the training set recomputes from the lake), so losing them on a
 * restart costs freshness, not data. `REDIS_URL` swaps in the Redis store (a later issue).
 */
export class MemoryFeatureStore implements FeatureStore {
  private readonly users: Lru<Counter>;
  private readonly ads: Lru<Counter>;
  /** Recent impressions, so a click (which names only its impression) is credited to user and ad. */
  private readonly impressions: Lru<{ user: string; ad: string }>;

  constructor(options: { maxUsers?: number; maxAds?: number; maxImpressions?: number } = {}) {
    this.users = new Lru(options.maxUsers ?? 1_000_000);
    this.ads = new Lru(options.maxAds ?? 100_000);
    this.impressions = new Lru(options.maxImpressions ?? 1_000_000);
  }

  async get(userKey: string | null, adIds: readonly string[]) {
    return {
      user: userKey === null ? {} : features('user', this.users.get(userKey)),
      ads: adIds.map((id) => features('ad', this.ads.get(id))),
    };
  }

  async recordImpression(userKey: string, adId: string, impressionId: string): Promise<void> {
    this.bump(this.users, userKey, 'impressions');
    this.bump(this.ads, adId, 'impressions');
    this.impressions.set(impressionId, { user: userKey, ad: adId });
  }

  async recordClick(impressionId: string): Promise<void> {
    const impression = this.impressions.get(impressionId);
    if (!impression) return;
    this.bump(this.users, impression.user, 'clicks');
    this.bump(this.ads, impression.ad, 'clicks');
  }

  private bump(lru: Lru<Counter>, key: string, field: keyof Counter): void {
    const c = lru.get(key) ?? { impressions: 0, clicks: 0 };
    c[field]++;
    lru.set(key, c);
  }
}
