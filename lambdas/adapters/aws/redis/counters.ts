import {
  type CounterTotals,
  counterFeatures as coreCounterFeatures,
  type HourBuckets,
  type HourCounts,
} from '../../../core/features/counter-windows.js';
import type { FeatureMap } from '../../../core/ports.js';

export type CounterEntity = 'user' | 'ad';

export interface CounterKey {
  readonly entity: CounterEntity;
  readonly id: string;
}

/** All-time totals and the hourly buckets of the windows (core/features/counter-windows.ts). */
export type Counter = CounterTotals;

/** One event's (or several events') share of a counter. */
export type CounterDelta = CounterKey & {
  readonly impressions: number;
  readonly clicks: number;
  /** The event's bucket (hours since the epoch); null or absent: too old for a window, all time only. */
  readonly hour?: number | null;
};

/** Deltas of one key added together: what one write adds. */
export interface MergedDelta extends CounterKey {
  impressions: number;
  clicks: number;
  readonly hours: Map<number, { impressions: number; clicks: number }>;
}

/**
 * The same features as the local store (lambdas/adapters/local/memory-feature-store.ts), from the
 * same core function: a model trained on features from one store must read the same numbers from
 * the other. The integration tests compare both stores over random event sequences.
 */
export function counterFeatures(entity: CounterEntity, c: Counter | undefined, nowMs: number): FeatureMap {
  return coreCounterFeatures(entity, c, nowMs);
}

/** Adds deltas of the same key together, so a batch touches each key (and each bucket) once. */
export function mergeDeltas(deltas: readonly CounterDelta[]): MergedDelta[] {
  const merged = new Map<string, MergedDelta>();
  for (const d of deltas) {
    const k = `${d.entity}\u0000${d.id}`;
    let m = merged.get(k);
    if (!m) {
      m = { entity: d.entity, id: d.id, impressions: 0, clicks: 0, hours: new Map() };
      merged.set(k, m);
    }
    m.impressions += d.impressions;
    m.clicks += d.clicks;
    if (d.hour !== undefined && d.hour !== null) addToHour(m.hours, d.hour, d.impressions, d.clicks);
  }
  return [...merged.values()];
}

export function addToHour(
  hours: Map<number, { impressions: number; clicks: number }>,
  hour: number,
  impressions: number,
  clicks: number,
): void {
  const b = hours.get(hour);
  if (b) {
    b.impressions += impressions;
    b.clicks += clicks;
  } else hours.set(hour, { impressions, clicks });
}

/**
 * Field (Redis hash) and attribute (DynamoDB item) names of a bucket: `i:<hour>` impressions,
 * `c:<hour>` clicks, beside the all-time `i`/`c` (Redis) or `impressions`/`clicks` (DynamoDB).
 */
export function bucketField(kind: 'i' | 'c', hour: number): string {
  return `${kind}:${hour}`;
}

const BUCKET_FIELD = /^([ic]):(\d+)$/;

/** The buckets among a hash's fields or an item's attributes (numbers or numeric strings). */
export function parseBuckets(fields: Readonly<Record<string, unknown>>): Map<number, HourCounts> {
  const hours = new Map<number, { impressions: number; clicks: number }>();
  for (const name in fields) {
    const m = BUCKET_FIELD.exec(name);
    if (!m) continue;
    const n = Number(fields[name]);
    if (!Number.isFinite(n)) continue;
    addToHour(hours, Number(m[2]), m[1] === 'i' ? n : 0, m[1] === 'c' ? n : 0);
  }
  return hours;
}

/** The buckets at or after `oldestHour`, as field/value pairs (what the Lua scripts take). */
export function bucketFieldValues(hours: HourBuckets | undefined, oldestHour: number): (string | number)[] {
  const out: (string | number)[] = [];
  if (hours === undefined) return out;
  for (const [hour, c] of hours) {
    if (hour < oldestHour) continue;
    if (c.impressions !== 0) out.push(bucketField('i', hour), c.impressions);
    if (c.clicks !== 0) out.push(bucketField('c', hour), c.clicks);
  }
  return out;
}
