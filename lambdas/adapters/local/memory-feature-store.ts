import { GenerationalMap } from '../../core/collections/generational-map.js';
import { bucketOf, counterFeatures, oldestLiveHour } from '../../core/features/counter-windows.js';
import type { Clock, CounterEvent, FeatureStore } from '../../core/ports.js';
import { systemClock } from './ids.js';
import { ImpressionOwners } from './impression-owners.js';

interface HourCounter {
  impressions: number;
  clicks: number;
}

interface Counter extends HourCounter {
  /** The key the counter is stored under (one string instance, which the impressions share). */
  readonly key: string;
  /** Hourly buckets of the windows (core/features/counter-windows.ts); created at the first. */
  hours?: Map<number, HourCounter>;
}

/** Impressions remembered for crediting clicks, by default: as many as the fraud rules match clicks against. */
export const DEFAULT_MAX_IMPRESSIONS = 1 << 19;

/**
 * Per-user and per-ad impression and click counters in process memory, all time and in hourly
 * buckets for the 1 h and 24 h windows, bounded by generations (recently used entries survive;
 * the least recently used half goes at once) and each to the buckets a window can read. They
 * are a cache over the event lake (the training set recomputes from the lake), so losing them on
 * a restart costs freshness, not data. `REDIS_URL` swaps in the Redis store (a later issue).
 */
export class MemoryFeatureStore implements FeatureStore {
  private readonly users: GenerationalMap<string, Counter>;
  private readonly ads: GenerationalMap<string, Counter>;
  /** Recent impressions, so a click (which names only its impression) is credited to user and ad. */
  private readonly impressions: ImpressionOwners;
  private readonly clock: Clock;
  /** The latest event time counted (ms). */
  private watermark = Number.NEGATIVE_INFINITY;

  /**
   * Each bound is the most entries held: users and ads in two generations of half as many; the
   * last `maxImpressions` impressions (default 524 288, ~23 MB, as many as the fraud rules keep).
   */
  constructor(options: { maxUsers?: number; maxAds?: number; maxImpressions?: number; clock?: Clock } = {}) {
    // An LRU's bookkeeping on every event cost more than the counting itself on the ingest path.
    const bounded = <V>(max: number) =>
      new GenerationalMap<string, V>(Number.POSITIVE_INFINITY, Math.max(1, Math.floor(max / 2)));
    this.users = bounded(options.maxUsers ?? 250_000);
    this.ads = bounded(options.maxAds ?? 50_000);
    this.impressions = new ImpressionOwners(options.maxImpressions ?? DEFAULT_MAX_IMPRESSIONS);
    this.clock = options.clock ?? systemClock;
  }

  async get(userKey: string | null, adIds: readonly string[], asOf?: Date) {
    const now = (asOf ?? this.clock.now()).getTime();
    return {
      user: userKey === null ? {} : counterFeatures('user', this.users.get(userKey), now),
      ads: adIds.map((id) => counterFeatures('ad', this.ads.get(id), now)),
    };
  }

  async record(events: readonly CounterEvent[]): Promise<void> {
    // Event time, not the wall clock, decides what is too old for the windows: a replay of past
    // traffic (adclick simulate --start, the demo) fills the windows as live traffic would. The
    // watermark is the latest event time counted; live, it is the clock within seconds.
    for (const e of events) if (e.at.getTime() > this.watermark) this.watermark = e.at.getTime();
    // Never ahead of the clock: an event stamped a few minutes ahead must not retire a bucket
    // the clock still reads (the Redis store decides by the clock; both must keep the same ones).
    const now = Math.min(this.watermark, this.clock.now().getTime());
    const oldest = oldestLiveHour(now);
    for (const e of events) {
      const hour = bucketOf(e.at.getTime(), now);
      if (e.kind === 'impression') {
        const user = this.bump(this.users, e.userKey, 'impressions', hour, oldest);
        const ad = this.bump(this.ads, e.adId, 'impressions', hour, oldest);
        this.impressions.remember(e.impressionId, user.key, ad.key);
      } else {
        const slot = this.impressions.find(e.impressionId);
        if (slot < 0) continue;
        this.bump(this.users, this.impressions.user(slot), 'clicks', hour, oldest);
        this.bump(this.ads, this.impressions.ad(slot), 'clicks', hour, oldest);
      }
    }
  }

  /**
   * Forgets a user: the user's counters and the recent impressions that would credit a later
   * click to them (DELETE /users/{user_id}). The ads' counters are aggregates over every user
   * and stay. Returns what went.
   */
  eraseUser(userKey: string): { user_counters: number; impressions: number } {
    const had = this.users.get(userKey) !== undefined;
    this.users.delete(userKey);
    const impressions = this.impressions.forgetUser(userKey);
    return { user_counters: had ? 1 : 0, impressions };
  }

  private bump(
    counters: GenerationalMap<string, Counter>,
    key: string,
    field: keyof HourCounter,
    hour: number | null,
    oldest: number,
  ): Counter {
    let c = counters.get(key);
    if (!c) {
      c = { key, impressions: 0, clicks: 0 };
      counters.set(key, c);
    }
    c[field]++;
    if (hour === null) return c;
    c.hours ??= new Map();
    const bucket = c.hours.get(hour);
    if (bucket) {
      bucket[field]++;
      return c;
    }
    // New buckets are rare (about one an hour per counter): the moment to drop those no window reads.
    for (const h of c.hours.keys()) if (h < oldest) c.hours.delete(h);
    c.hours.set(hour, { impressions: 0, clicks: 0, [field]: 1 });
    return c;
  }
}
