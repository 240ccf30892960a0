import type { FeatureMap } from '../ports.js';

/**
 * The feature counters' meaning, shared by every FeatureStore (memory locally, Redis over
 * DynamoDB in AWS) so that a model trained on one store's snapshots reads the same numbers from
 * the other: all-time impressions, clicks and smoothed CTR per user and per ad, plus the same over
 * sliding 1 h and 24 h windows of event time.
 *
 * A window is built from hourly buckets (the UTC hour of the event time, as hours since the epoch)
 * with the sliding window counter approximation: a read at `now`, a fraction `f` into hour H,
 * counts the buckets H−n+1 … H whole and bucket H−n weighted by 1 − f, as if that hour's events
 * had been spread evenly over it. This keeps a counter at 25 pairs of small numbers instead of a
 * log of event times, and moves smoothly across an hour boundary (an exact-bucket window would drop a
 * whole hour at once). Buckets after H count whole only up to the hour of `now` plus the API's
 * clock-skew allowance (events a few minutes in the future): a read as of a past moment (a replay)
 * does not see what happened after it.
 */

export const HOUR_MS = 3_600_000;

/** The 24 h window reaches into the 24th hour back; nothing older is ever read. */
export const WINDOW_HOURS_KEPT = 24;

/** The API accepts events this far in the future (DEFAULT_CORE_CONFIG.maxFutureSkewMs). */
const FUTURE_SKEW_MS = 5 * 60_000;

export interface HourCounts {
  readonly impressions: number;
  readonly clicks: number;
}

/** Bucket per hour since the epoch (UTC). */
export type HourBuckets = ReadonlyMap<number, HourCounts>;

export interface CounterTotals {
  /** All time. */
  readonly impressions: number;
  readonly clicks: number;
  /** Absent: no event in any live bucket. */
  readonly hours?: HourBuckets;
}

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

/** The oldest bucket a read at `nowMs` can still weigh: older ones may be dropped. */
export function oldestLiveHour(nowMs: number): number {
  return hourOf(nowMs) - WINDOW_HOURS_KEPT;
}

/**
 * The bucket an event at `atMs` counts in when it is recorded at `nowMs`, or null for an event
 * too old for any window (it counts in the all-time totals only).
 */
export function bucketOf(atMs: number, nowMs: number): number | null {
  const hour = hourOf(atMs);
  return hour >= oldestLiveHour(nowMs) ? hour : null;
}

/**
 * Smoothed click-through rate: a new user or ad starts at the prior instead of 0/0, so the
 * feature means the same thing at 3 impressions as at 3,000.
 */
const PRIOR_CTR = 0.02;
const PRIOR_WEIGHT = 20;

function smoothedCtr(clicks: number, impressions: number): number {
  return (clicks + PRIOR_CTR * PRIOR_WEIGHT) / (impressions + PRIOR_WEIGHT);
}

/** Impressions and clicks of the `spanHours` window ending at `nowMs`. */
export function windowCounts(hours: HourBuckets | undefined, nowMs: number, spanHours: number): HourCounts {
  if (hours === undefined || hours.size === 0) return { impressions: 0, clicks: 0 };
  const current = hourOf(nowMs);
  const remaining = 1 - (nowMs - current * HOUR_MS) / HOUR_MS;
  const edge = current - spanHours;
  const latest = hourOf(nowMs + FUTURE_SKEW_MS);
  let impressions = 0;
  let clicks = 0;
  let edgeImpressions = 0;
  let edgeClicks = 0;
  for (const [hour, c] of hours) {
    if (hour > latest) continue;
    if (hour > edge) {
      impressions += c.impressions;
      clicks += c.clicks;
    } else if (hour === edge) {
      edgeImpressions = c.impressions;
      edgeClicks = c.clicks;
    }
  }
  // Whole buckets first, the weighted one last: the same result whatever order the store keeps
  // its buckets in, so two stores compare equal to the last bit.
  return { impressions: impressions + edgeImpressions * remaining, clicks: clicks + edgeClicks * remaining };
}

/** The counter features of a user (`user_…`) or an ad (`ad_…`) read at `nowMs`. */
export function counterFeatures(prefix: 'user' | 'ad', c: CounterTotals | undefined, nowMs: number): FeatureMap {
  const impressions = c?.impressions ?? 0;
  const clicks = c?.clicks ?? 0;
  const hour = windowCounts(c?.hours, nowMs, 1);
  const day = windowCounts(c?.hours, nowMs, 24);
  const ctr = smoothedCtr(clicks, impressions);
  const dayCtr = smoothedCtr(day.clicks, day.impressions);
  // Literal keys, one object shape per prefix: keys computed from the prefix cost a string
  // concatenation and a dictionary-mode object per call (1.9 µs against 0.09, twice a prediction).
  return prefix === 'user'
    ? {
        user_impressions: impressions,
        user_clicks: clicks,
        user_ctr: ctr,
        user_impressions_1h: hour.impressions,
        user_clicks_1h: hour.clicks,
        user_impressions_24h: day.impressions,
        user_clicks_24h: day.clicks,
        user_ctr_24h: dayCtr,
      }
    : {
        ad_impressions: impressions,
        ad_clicks: clicks,
        ad_ctr: ctr,
        ad_impressions_1h: hour.impressions,
        ad_clicks_1h: hour.clicks,
        ad_impressions_24h: day.impressions,
        ad_clicks_24h: day.clicks,
        ad_ctr_24h: dayCtr,
      };
}
