/**
 * Offline metrics over predictions p ∈ [0, 1] and labels y ∈ {0, 1}, given as two parallel arrays.
 *
 * - log loss: mean of -[y ln p + (1-y) ln(1-p)], p clipped to [1e-15, 1 - 1e-15];
 * - AUC: the Mann-Whitney statistic, tied predictions get their average rank (null with one class);
 * - normalised entropy: log loss / the entropy of the observed rate (null when the rate is 0 or 1);
 * - calibration: mean predicted / observed rate (null when there are no positives).
 */

export const LOGLOSS_EPSILON = 1e-15;

export type Labels = ArrayLike<number | boolean>;

export interface Evaluation {
  rows: number;
  positives: number;
  observed_rate: number;
  mean_prediction: number;
  logloss: number;
  auc: number | null;
  normalized_entropy: number | null;
  calibration: number | null;
}

function label(y: number | boolean | undefined, i: number): 0 | 1 {
  if (y === 1 || y === true) return 1;
  if (y === 0 || y === false) return 0;
  throw new RangeError(`label ${i} must be 0, 1, true or false, got ${String(y)}`);
}

function check(p: ArrayLike<number>, y: Labels): number {
  if (p.length !== y.length) throw new RangeError(`${p.length} predictions but ${y.length} labels`);
  if (p.length === 0) throw new RangeError('no rows to evaluate');
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (!(v >= 0 && v <= 1)) throw new RangeError(`prediction ${i} must be in [0, 1], got ${v}`);
  }
  return p.length;
}

/** The log loss of one prediction (clipped). */
export function rowLogLoss(p: number, y: 0 | 1): number {
  // Clipping the probability of the observed outcome (not p itself) keeps both tails exact:
  // 1 - 1e-15 is not representable, 1e-15 is.
  const q = y === 1 ? p : 1 - p;
  return -Math.log(Math.max(q, LOGLOSS_EPSILON));
}

export function logLoss(p: ArrayLike<number>, y: Labels): number {
  const n = check(p, y);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += rowLogLoss(p[i]!, label(y[i], i));
  return sum / n;
}

/** The entropy (in nats) of a Bernoulli rate: the log loss of always predicting that rate. */
export function binaryEntropy(rate: number): number {
  if (rate <= 0 || rate >= 1) return 0;
  return -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
}

export function auc(p: ArrayLike<number>, y: Labels): number | null {
  const n = check(p, y);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => p[a]! - p[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    const v = p[order[start]!]!;
    while (end < n && p[order[end]!]! === v) end++;
    // Ranks start..end-1 (0-based) share the average 1-based rank.
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (label(y[order[k]!], order[k]!) === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function rates(p: ArrayLike<number>, y: Labels): { n: number; positives: number; meanPrediction: number } {
  const n = check(p, y);
  let positives = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    positives += label(y[i], i);
    sum += p[i]!;
  }
  return { n, positives, meanPrediction: sum / n };
}

export function normalizedEntropy(p: ArrayLike<number>, y: Labels): number | null {
  const { n, positives } = rates(p, y);
  const h = binaryEntropy(positives / n);
  return h === 0 ? null : logLoss(p, y) / h;
}

export function calibration(p: ArrayLike<number>, y: Labels): number | null {
  const { n, positives, meanPrediction } = rates(p, y);
  return positives === 0 ? null : meanPrediction / (positives / n);
}

/** All the metrics at once. */
export function evaluate(p: ArrayLike<number>, y: Labels): Evaluation {
  const { n, positives, meanPrediction } = rates(p, y);
  const observed = positives / n;
  const loss = logLoss(p, y);
  const h = binaryEntropy(observed);
  return {
    rows: n,
    positives,
    observed_rate: observed,
    mean_prediction: meanPrediction,
    logloss: loss,
    auc: auc(p, y),
    normalized_entropy: h === 0 ? null : loss / h,
    calibration: positives === 0 ? null : meanPrediction / observed,
  };
}
