import { LRUCache } from 'lru-cache';
import type { CounterEvent, FeatureMap, FeatureStore } from '../../core/ports.js';

interface Counter {
  impressions: number;
  clicks: number;
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
  private readonly users: LRUCache<string, Counter>;
  private readonly ads: LRUCache<string, Counter>;
  /** Recent impressions, so a click (which names only its impression) is credited to user and ad. */
  private readonly impressions: LRUCache<string, { user: string; ad: string }>;

  constructor(options: { maxUsers?: number; maxAds?: number; maxImpressions?: number } = {}) {
    this.users = new LRUCache({ max: options.maxUsers ?? 250_000 });
    this.ads = new LRUCache({ max: options.maxAds ?? 50_000 });
    this.impressions = new LRUCache({ max: options.maxImpressions ?? 250_000 });
  }

  async get(userKey: string | null, adIds: readonly string[]) {
    return {
      user: userKey === null ? {} : features('user', this.users.get(userKey)),
      ads: adIds.map((id) => features('ad', this.ads.get(id))),
    };
  }

  async record(events: readonly CounterEvent[]): Promise<void> {
    for (const e of events) {
      if (e.kind === 'impression') {
        this.bump(this.users, e.userKey, 'impressions');
        this.bump(this.ads, e.adId, 'impressions');
        this.impressions.set(e.impressionId, { user: e.userKey, ad: e.adId });
      } else {
        const impression = this.impressions.get(e.impressionId);
        if (!impression) continue;
        this.bump(this.users, impression.user, 'clicks');
        this.bump(this.ads, impression.ad, 'clicks');
      }
    }
  }

  private bump(lru: LRUCache<string, Counter>, key: string, field: keyof Counter): void {
    const c = lru.get(key);
    if (c) c[field]++;
    else lru.set(key, { impressions: 0, clicks: 0, [field]: 1 });
  }
}
