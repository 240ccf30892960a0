/**
 * When each simulated request happens: `n` requests spread over the window [start, end) along a
 * daily traffic curve (quiet nights, busy evenings, UTC). Request i falls in the i-th of n equal
 * slices of the window's cumulative traffic, at a random point of it, so times increase with i,
 * the window is filled exactly, and busy hours get more requests than quiet ones.
 */

/** Relative traffic of each hour of the day (UTC). */
export const HOUR_TRAFFIC = [
  0.45, 0.3, 0.22, 0.18, 0.18, 0.25, 0.45, 0.75, 0.95, 1.0, 1.0, 1.05, 1.2, 1.15, 1.0, 0.95, 1.0, 1.1, 1.3, 1.5, 1.65,
  1.6, 1.3, 0.85,
] as const;

const HOUR_MS = 3_600_000;

export interface Timeline {
  readonly startMs: number;
  readonly endMs: number;
  readonly requests: number;
  /** Event time (ms since the epoch) of request `i`, `u` in [0, 1) placing it inside its slice. */
  timeOf(i: number, u: number): number;
}

export function createTimeline(startMs: number, endMs: number, requests: number): Timeline {
  if (!(Number.isFinite(startMs) && Number.isFinite(endMs) && endMs > startMs)) {
    throw new RangeError('the simulated window must end after it starts');
  }
  if (!Number.isInteger(requests) || requests < 1) throw new RangeError(`requests must be >= 1, got ${requests}`);
  // Pieces of constant traffic: the window cut at every hour boundary.
  const starts: number[] = [];
  const weights: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (let t = startMs; t < endMs; ) {
    const next = Math.min(endMs, (Math.floor(t / HOUR_MS) + 1) * HOUR_MS);
    const hour = new Date(t).getUTCHours();
    starts.push(t);
    weights.push(HOUR_TRAFFIC[hour]!);
    cumulative.push(total);
    total += (next - t) * HOUR_TRAFFIC[hour]!;
    t = next;
  }
  const perRequest = total / requests;
  return {
    startMs,
    endMs,
    requests,
    timeOf(i: number, u: number): number {
      const x = (i + u) * perRequest;
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (cumulative[mid]! <= x) lo = mid;
        else hi = mid - 1;
      }
      return Math.min(endMs, starts[lo]! + (x - cumulative[lo]!) / weights[lo]!);
    },
  };
}
