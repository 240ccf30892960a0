import { GenerationalMap } from '../../core/collections/generational-map.js';
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
 * Per-user and per-ad impression and click counters in process memory, bounded by generations
 * (recently used entries survive; the least recently used half goes at once). They are
 * a cache over the event lake (the training set recomputes from the lake), so losing them on a
 * restart costs freshness, not data. `REDIS_URL` swaps in the Redis store (a later issue).
 */
export class MemoryFeatureStore implements FeatureStore {
  private readonly users: GenerationalMap<string, Counter>;
  private readonly ads: GenerationalMap<string, Counter>;
  /** Recent impressions, so a click (which names only its impression) is credited to user and ad. */
  private readonly impressions: GenerationalMap<string, { user: string; ad: string }>;

  /** Each bound is the most entries held (two generations of half as many). */
  constructor(options: { maxUsers?: number; maxAds?: number; maxImpressions?: number } = {}) {
    // An LRU's bookkeeping on every event cost more than the counting itself on the ingest path.
    const bounded = <V>(max: number) =>
      new GenerationalMap<string, V>(Number.POSITIVE_INFINITY, Math.max(1, Math.floor(max / 2)));
    this.users = bounded(options.maxUsers ?? 250_000);
    this.ads = bounded(options.maxAds ?? 50_000);
    this.impressions = bounded(options.maxImpressions ?? 250_000);
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

  private bump(counters: GenerationalMap<string, Counter>, key: string, field: keyof Counter): void {
    const c = counters.get(key);
    if (c) c[field]++;
    else counters.set(key, { impressions: 0, clicks: 0, [field]: 1 });
  }
}
