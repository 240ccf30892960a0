/** Fixed-sample intervals used by the experiment results: the CTR lift and the calibration. */

/** The 97.5 % quantile of the standard normal: two-sided 95 % intervals. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
}

/**
 * Relative lift of a variant's CTR over the control's, (x1/n1)/(x0/n0) − 1, with a 95 % interval
 * from the delta method on the log of the ratio (Katz et al. 1978):
 *
 *   Var(ln(p̂1/p̂0)) ≈ (1 − p̂1)/x1 + (1 − p̂0)/x0 = 1/x1 − 1/n1 + 1/x0 − 1/n0.
 *
 * Chosen over Fieller's interval because it is always a finite interval (Fieller's is unbounded
 * whenever the control's CTR is not itself clearly above zero, which is the early life of every
 * experiment), it is asymmetric the way a ratio is, and at the click counts where decisions are
 * taken (hundreds of clicks per arm) the two agree to the third digit.
 *
 * When either arm has no clicks the ratio or its log is undefined, so both arms get the
 * Haldane-Anscombe correction: half a click and half a non-click added to each (x + 0.5,
 * n + 1). Null when either arm has no impressions.
 */
export function relativeLift(
  controlClicks: number,
  controlImpressions: number,
  variantClicks: number,
  variantImpressions: number,
): Interval | null {
  if (controlImpressions <= 0 || variantImpressions <= 0) return null;
  const corrected = controlClicks === 0 || variantClicks === 0;
  const x0 = corrected ? controlClicks + 0.5 : controlClicks;
  const n0 = corrected ? controlImpressions + 1 : controlImpressions;
  const x1 = corrected ? variantClicks + 0.5 : variantClicks;
  const n1 = corrected ? variantImpressions + 1 : variantImpressions;
  const logRatio = Math.log(x1 / n1) - Math.log(x0 / n0);
  const se = Math.sqrt(Math.max(0, 1 / x1 - 1 / n1 + 1 / x0 - 1 / n0));
  return {
    estimate: Math.exp(logRatio) - 1,
    lower: Math.exp(logRatio - Z_95 * se) - 1,
    upper: Math.exp(logRatio + Z_95 * se) - 1,
  };
}

/**
 * 95 % bounds on the mean of a Poisson count from one observation x, by Byar's approximation
 * (Rothman & Boice 1979), within 1 % of the exact (Garwood) bounds from x = 0 on: for x = 0 the
 * upper bound is 3.67 (exact 3.69).
 */
export function poissonBounds(x: number): { lower: number; upper: number } {
  const lower = x === 0 ? 0 : x * (1 - 1 / (9 * x) - Z_95 / (3 * Math.sqrt(x))) ** 3;
  const y = x + 1;
  const upper = y * (1 - 1 / (9 * y) + Z_95 / (3 * Math.sqrt(y))) ** 3;
  return { lower: Math.max(0, lower), upper };
}
