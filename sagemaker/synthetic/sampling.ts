/**
 * Discrete sampling for the synthetic generator: cumulative tables searched by bisection, and
 * Zipf-like popularity. Populations run to millions of users, so tables are typed arrays.
 */
import type { Random } from '../model/prng.js';

/** A cumulative distribution (normalised to end at 1) for O(log n) sampling. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    out[i] = sum;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** The index whose cumulative interval holds `u` (u in [0, 1)). */
export function sample(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u < cdf[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Zipf-like weights over n items (rank r gets 1 / r^s), shuffled so that popularity is not
 * tied to the item's index. Returned unnormalised; `cumulative` normalises.
 */
export function zipfWeights(n: number, s: number, rng: Random): Float64Array {
  const weights = new Float64Array(n);
  for (let r = 0; r < n; r++) weights[r] = 1 / (r + 1) ** s;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = weights[i]!;
    weights[i] = weights[j]!;
    weights[j] = t;
  }
  return weights;
}

/** Each weight divided by their sum. */
export function shares(weights: Float64Array): Float64Array {
  let sum = 0;
  for (const w of weights) sum += w;
  return weights.map((w) => w / sum);
}
