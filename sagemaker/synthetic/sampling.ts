/**
 * Discrete sampling for the synthetic generator: cumulative tables searched by bisection, and
 * Zipf-like popularity. Populations run to millions of users, so tables are typed arrays.
 */
import type { Random } from '../model/prng.js';

export { cumulative, sample } from '../model/prng.js';

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
