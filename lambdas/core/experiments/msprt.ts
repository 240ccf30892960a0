/**
 * The mixture sequential probability ratio test (mSPRT) of Johari, Pekelis & Walsh, "Always valid
 * inference: continuous monitoring of A/B tests" (Operations Research 70(3), 2022; arXiv 1512.04922,
 * 2015/2017), for an estimate θ̂ of a difference that is approximately normal with variance V.
 *
 * Under the normal approximation, θ̂/V observed in "information time" 1/V is a Brownian motion
 * with drift θ. Mixing the likelihood ratio exp(θ·θ̂/V − θ²/(2V)) over θ ~ N(0, τ²) gives
 *
 *   Λ = sqrt(V / (V + τ²)) · exp( τ² θ̂² / (2 V (V + τ²)) ),
 *
 * a non-negative martingale with mean 1 under θ = 0, whatever the (outcome-independent) path of
 * V. Ville's inequality then bounds P(Λ ever reaches 1/α) ≤ α: a test that rejects the first time
 * 1/Λ ≤ α keeps its error rate however often the results are looked at. With equal arms of n
 * observations and per-observation variance σ² (V = 2σ²/n) this is the two-stream mSPRT of the paper.
 */

/** ln Λ, computed in logs so that huge samples do not overflow. */
export function msprtLogRatio(estimate: number, variance: number, mixingVariance: number): number {
  if (!(variance > 0) || !(mixingVariance > 0)) return 0;
  const total = variance + mixingVariance;
  return 0.5 * Math.log(variance / total) + (mixingVariance * estimate * estimate) / (2 * variance * total);
}

/** min(1, 1/Λ): the always-valid p-value at this look. */
export function msprtPValue(estimate: number, variance: number, mixingVariance: number): number {
  return Math.min(1, Math.exp(-msprtLogRatio(estimate, variance, mixingVariance)));
}

/**
 * The factor s ≥ 1 by which every arm's sample must grow for 1/Λ to reach `alpha`, supposing the
 * estimate and the per-observation variances stay as observed (so V shrinks as V/s), or null when
 * no growth will do (no observed difference) or more than a million-fold would be needed.
 */
export function msprtGrowthToSignificance(
  estimate: number,
  variance: number,
  mixingVariance: number,
  alpha: number,
): number | null {
  if (estimate === 0 || !(variance > 0) || !(mixingVariance > 0)) return null;
  const target = Math.log(1 / alpha);
  const reached = (s: number) => msprtLogRatio(estimate, variance / s, mixingVariance) >= target;
  if (reached(1)) return 1;
  let high = 2;
  while (!reached(high)) {
    high *= 2;
    if (high > 1e6) return null;
  }
  // ln Λ(s) has one minimum and then grows without bound, and reached(high / 2) was false
  // (or high / 2 = 1), so bisection between them finds the first crossing to within 1 %.
  let low = high / 2;
  while (high / low > 1.01) {
    const mid = Math.sqrt(low * high);
    if (reached(mid)) high = mid;
    else low = mid;
  }
  return high;
}
