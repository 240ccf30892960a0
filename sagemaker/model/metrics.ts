/**
 * Offline metrics over predictions p ∈ [0, 1] and labels y ∈ {0, 1}, given as two parallel arrays.
 *
 * The definitions are those of the peer benchmark (shared/bench/score_preds.py), so that a model
 * scored here and there gets the same numbers:
 *
 * - log loss: mean of -[y ln p + (1-y) ln(1-p)], with p clipped to [1e-15, 1 - 1e-15] first;
 * - AUC: the Mann-Whitney statistic, tied predictions get their average rank (null with one class);
 * - normalised entropy: log loss / the entropy of the observed rate (null when the rate is 0 or 1);
 * - calibration: mean predicted / observed rate (null when there are no positives);
 * - reliability diagram: rows grouped by prediction, each group's mean prediction against its
 *   observed click rate.
 *
 * Sums are compensated (Neumaier), so a mean over millions of rows is exact to the last digit or
 * two, whatever the order of the rows; numpy's pairwise sums are as close, which is what makes
 * the two implementations agree digit for digit.
 */

export const LOGLOSS_EPSILON = 1e-15;
const LOGLOSS_CEILING = 1 - LOGLOSS_EPSILON;

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

/** One point of a reliability diagram: the rows whose prediction falls in [lower, upper]. */
export interface ReliabilityBin {
  /** Uniform bins: the bin's lower edge; quantile bins: the smallest prediction in the bin. */
  lower: number;
  /** Uniform bins: the bin's upper edge; quantile bins: the largest prediction in the bin. */
  upper: number;
  rows: number;
  positives: number;
  mean_prediction: number;
  observed_rate: number;
}

export interface ReliabilityOptions {
  /** How many bins (default 10). Empty bins are left out, so there may be fewer. */
  readonly bins?: number;
  /**
   * `uniform`: bins of equal width over [0, 1]; `quantile` (default): bins of about equal row
   * counts, cut between distinct predictions only. At click rates of a few per cent nearly every
   * prediction falls in the first uniform bin, so the quantile bins are the informative default.
   */
  readonly strategy?: 'uniform' | 'quantile';
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

/** Neumaier's compensated sum: the rounding error of each addition is carried, not lost. */
class Sum {
  #sum = 0;
  #compensation = 0;

  add(x: number): void {
    const t = this.#sum + x;
    if (Math.abs(this.#sum) >= Math.abs(x)) this.#compensation += this.#sum - t + x;
    else this.#compensation += x - t + this.#sum;
    this.#sum = t;
  }

  get value(): number {
    return this.#sum + this.#compensation;
  }
}

/** The log loss of one prediction, with p clipped to [1e-15, 1 - 1e-15] as the peers clip it. */
export function rowLogLoss(p: number, y: 0 | 1): number {
  const q = Math.min(Math.max(p, LOGLOSS_EPSILON), LOGLOSS_CEILING);
  // log1p(-q), not log(1 - q): 1 - q drops the low digits of a small q.
  return y === 1 ? -Math.log(q) : -Math.log1p(-q);
}

export function logLoss(p: ArrayLike<number>, y: Labels): number {
  const n = check(p, y);
  const sum = new Sum();
  for (let i = 0; i < n; i++) sum.add(rowLogLoss(p[i]!, label(y[i], i)));
  return sum.value / n;
}

/** The entropy (in nats) of a Bernoulli rate: the log loss of always predicting that rate. */
export function binaryEntropy(rate: number): number {
  if (rate <= 0 || rate >= 1) return 0;
  return -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
}

/** The predictions of the positives and of the negatives, each sorted ascending. */
interface SortedByClass {
  readonly positives: Float64Array;
  readonly negatives: Float64Array;
}

function sortByClass(p: ArrayLike<number>, y: Labels, n: number): SortedByClass {
  let positiveCount = 0;
  for (let i = 0; i < n; i++) positiveCount += label(y[i], i);
  const positives = new Float64Array(positiveCount);
  const negatives = new Float64Array(n - positiveCount);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (label(y[i], i) === 1) positives[a++] = p[i]!;
    else negatives[b++] = p[i]!;
  }
  // Typed arrays sort numerically in native code: far faster than an index sort with a comparator.
  positives.sort();
  negatives.sort();
  return { positives, negatives };
}

/**
 * Walks the distinct prediction values in ascending order and calls `visit` with each value and
 * how many positives and negatives share it.
 */
function forEachDistinct(
  { positives, negatives }: SortedByClass,
  visit: (value: number, positives: number, negatives: number) => void,
): void {
  let i = 0;
  let j = 0;
  while (i < positives.length || j < negatives.length) {
    const value =
      j >= negatives.length || (i < positives.length && positives[i]! <= negatives[j]!) ? positives[i]! : negatives[j]!;
    let pos = 0;
    let neg = 0;
    while (i < positives.length && positives[i] === value) {
      pos++;
      i++;
    }
    while (j < negatives.length && negatives[j] === value) {
      neg++;
      j++;
    }
    visit(value, pos, neg);
  }
}

function aucOf(sorted: SortedByClass): number | null {
  const positives = sorted.positives.length;
  const negatives = sorted.negatives.length;
  if (positives === 0 || negatives === 0) return null;
  // Rank sum of the positives, each tie group at its average 1-based rank. Every term is a
  // half-integer far below 2^52, so the sum is exact, as numpy's is: the two agree to the bit.
  let below = 0;
  let positiveRankSum = 0;
  forEachDistinct(sorted, (_value, pos, neg) => {
    const count = pos + neg;
    positiveRankSum += pos * (below + (count + 1) / 2);
    below += count;
  });
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function auc(p: ArrayLike<number>, y: Labels): number | null {
  const n = check(p, y);
  return aucOf(sortByClass(p, y, n));
}

function rates(p: ArrayLike<number>, y: Labels): { n: number; positives: number; meanPrediction: number } {
  const n = check(p, y);
  let positives = 0;
  const sum = new Sum();
  for (let i = 0; i < n; i++) {
    positives += label(y[i], i);
    sum.add(p[i]!);
  }
  return { n, positives, meanPrediction: sum.value / n };
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

class BinAccumulator {
  rows = 0;
  positives = 0;
  readonly sum = new Sum();

  add(value: number, positives: number, negatives: number): void {
    this.rows += positives + negatives;
    this.positives += positives;
    this.sum.add(value * (positives + negatives));
  }

  bin(lower: number, upper: number): ReliabilityBin {
    return {
      lower,
      upper,
      rows: this.rows,
      positives: this.positives,
      mean_prediction: this.sum.value / this.rows,
      observed_rate: this.positives / this.rows,
    };
  }
}

/** The reliability diagram: per bin of predictions, the mean prediction and the observed rate. */
export function reliabilityDiagram(
  p: ArrayLike<number>,
  y: Labels,
  options: ReliabilityOptions = {},
): ReliabilityBin[] {
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const strategy = options.strategy ?? 'quantile';
  const n = check(p, y);
  const sorted = sortByClass(p, y, n);
  const out: ReliabilityBin[] = [];

  if (strategy === 'uniform') {
    // Bin k holds [k/bins, (k+1)/bins); the last one also holds p = 1.
    let current = -1;
    let acc = new BinAccumulator();
    const close = () => {
      if (acc.rows > 0) out.push(acc.bin(current / bins, (current + 1) / bins));
    };
    forEachDistinct(sorted, (value, pos, neg) => {
      const k = Math.min(Math.floor(value * bins), bins - 1);
      if (k !== current) {
        close();
        current = k;
        acc = new BinAccumulator();
      }
      acc.add(value, pos, neg);
    });
    close();
    return out;
  }
  if (strategy !== 'quantile') throw new RangeError(`strategy must be uniform or quantile, got ${String(strategy)}`);

  // Close bin k once it reaches the (k+1)/bins quantile; a tie group is never split.
  let acc = new BinAccumulator();
  let lower = 0;
  let seen = 0;
  let k = 0;
  forEachDistinct(sorted, (value, pos, neg) => {
    if (acc.rows === 0) lower = value;
    acc.add(value, pos, neg);
    seen += pos + neg;
    if (seen * bins >= (k + 1) * n) {
      out.push(acc.bin(lower, value));
      acc = new BinAccumulator();
      while (seen * bins >= (k + 1) * n) k++;
    }
  });
  return out;
}
