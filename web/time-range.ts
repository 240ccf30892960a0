/** The ranges the dashboard offers, and the periods the analytics routes count them in. */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The server takes events up to 5 minutes ahead of its clock: include them. */
const AHEAD = 5 * 60_000;

export const RANGE_CHOICES = [
  { key: '6h', label: 'Last 6 hours', ms: 6 * HOUR },
  { key: '24h', label: 'Last 24 hours', ms: DAY },
  { key: '7d', label: 'Last 7 days', ms: 7 * DAY },
  { key: '30d', label: 'Last 30 days', ms: 30 * DAY },
] as const;
export type RangeKey = (typeof RANGE_CHOICES)[number]['key'];
export const DEFAULT_RANGE: RangeKey = '24h';

export interface TimeRange {
  /** Inclusive, ISO 8601 UTC. */
  readonly from: string;
  /** Exclusive, ISO 8601 UTC. */
  readonly to: string;
  readonly granularity: 'hour' | 'day';
  /** Start of every period in the range that has begun, epoch ms, ascending. */
  readonly periods: readonly number[];
}

/**
 * Whole UTC hours (up to two days) or days, up to the end of the period that holds now + 5
 * minutes, so that the newest events are counted; the charts plot the periods begun by now.
 */
export function timeRange(key: RangeKey, nowMs: number): TimeRange {
  const choice = RANGE_CHOICES.find((c) => c.key === key) ?? RANGE_CHOICES[1];
  const granularity = choice.ms <= 2 * DAY ? 'hour' : 'day';
  const step = granularity === 'hour' ? HOUR : DAY;
  const to = Math.ceil((nowMs + AHEAD) / step) * step;
  const from = to - Math.max(step, Math.round(choice.ms / step) * step);
  const periods: number[] = [];
  for (let t = from; t < to && t <= nowMs; t += step) periods.push(t);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), granularity, periods };
}

export function isRangeKey(value: string): value is RangeKey {
  return RANGE_CHOICES.some((c) => c.key === value);
}
