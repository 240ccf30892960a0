/**
 * Streaming trainer: FTRL-Proximal logistic regression over hashed sparse features
 * (McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013, algorithm 1).
 *
 * Per coordinate i (one hashed slot), with accumulated z_i and squared gradients n_i:
 *
 *   w_i = 0                                                  if |z_i| <= l1
 *   w_i = -(z_i - sign(z_i)·l1) / ((beta + √n_i)/alpha + l2)  otherwise
 *
 * and after each example with gradient g = p - y (every active feature has x_i = 1):
 *
 *   σ_i = (√(n_i + g²) - √n_i) / alpha,   z_i += g - σ_i·w_i,   n_i += g².
 *
 * The bias is one more coordinate with the same per-coordinate learning rate and no
 * regularisation. The source is read several times (one pass each); memory is the z/n state
 * (two Float64Arrays of 2^bits) plus two Float32Array weight snapshots, whatever the row count.
 * After each pass the weights are materialised and scored on the validation source; training
 * stops when the validation log loss has not improved for `patience` passes, and the best
 * pass's weights are returned.
 *
 * Negative down-sampling keeps every positive and each negative with probability r (a seeded
 * draw, so runs are reproducible); the model stores r and the scorer adds ln r to the logit.
 *
 * FTRL's per-coordinate learning rates converge slowly along the one direction every row shares
 * (the overall offset): the iterate spreads it over the bias and the tokens, and rare tokens then
 * over-predict by a few per cent. So, unless `recalibrate: false`, one last read of the training
 * rows (all of them, not down-sampled) refits the bias exactly so that the mean corrected
 * prediction equals the observed click rate; the row logits are kept as a fixed-size histogram.
 * The source is therefore read `passes + 1` times.
 */
import { ALGORITHM, FORMAT_VERSION, type Model } from './artifact.js';
import { DEFAULT_BITS, DEFAULT_HASH_SEED, FeatureEncoder, type FeatureMap } from './encoding.js';
import { rowLogLoss } from './metrics.js';
import { createRandom } from './prng.js';
import { sigmoid } from './scorer.js';

export interface Example {
  readonly features: FeatureMap;
  readonly label: number | boolean;
}

/** Called once per pass; each call must yield the same rows in the same order. */
export type ExampleSource = () => Iterable<Example> | AsyncIterable<Example>;

export interface FtrlHyperparameters {
  /** Learning-rate scale. */
  readonly alpha: number;
  /** Learning-rate smoothing (added to √n). */
  readonly beta: number;
  /** L1 strength: coordinates with |z| <= l1 stay exactly 0. */
  readonly l1: number;
  /** L2 strength. */
  readonly l2: number;
}

export const DEFAULT_FTRL: FtrlHyperparameters = { alpha: 0.1, beta: 1, l1: 1, l2: 1 };

export interface PassReport {
  readonly pass: number;
  /** Training rows read this pass. */
  readonly rows: number;
  /** Rows learned from (after negative down-sampling). */
  readonly used: number;
  /** Progressive (predict-then-learn) log loss on the rows used, on the down-sampled scale. */
  readonly train_logloss: number;
  /** Log loss of this pass's weights on the validation source (corrected for down-sampling). */
  readonly validation_logloss: number | null;
  /** Whether this pass's weights are the best so far (the ones that will be returned). */
  readonly best: boolean;
}

export interface TrainOptions extends Partial<FtrlHyperparameters> {
  /** Hash slots = 2^bits (default 20). */
  readonly bits?: number;
  /** Hash seed (default 0). */
  readonly hashSeed?: number;
  /** Maximum number of passes over the training source (default 3). */
  readonly maxPasses?: number;
  /** Passes without validation improvement before stopping (default 1). */
  readonly patience?: number;
  /** Smallest decrease of the validation log loss that counts as an improvement (default 1e-5). */
  readonly minImprovement?: number;
  /** The validation rows (time-later than the training rows); enables early stopping. */
  readonly validation?: ExampleSource;
  /** Keep each negative with this probability (default 1: keep all). */
  readonly negativeSamplingRate?: number;
  /** Seed of the down-sampling draws (default 1). */
  readonly samplingSeed?: number;
  /**
   * After the last pass, refit the bias so that the mean corrected prediction over the training
   * rows equals their click rate (one more read of the training source; default true).
   */
  readonly recalibrate?: boolean;
  /** Fields known in advance (more are added as they appear in the rows). */
  readonly fields?: readonly string[];
  readonly trainingWindow?: { from: string | null; to: string | null } | null;
  readonly metadata?: Record<string, string | number | boolean | null>;
  /** The model's created_at (default: now). */
  readonly createdAt?: Date;
  readonly onPass?: (report: PassReport) => void;
}

function labelOf(example: Example, row: number): 0 | 1 {
  const y = example.label;
  if (y === 1 || y === true) return 1;
  if (y === 0 || y === false) return 0;
  throw new RangeError(`row ${row}: label must be 0, 1, true or false, got ${String(y)}`);
}

async function forEach(source: ExampleSource, visit: (example: Example) => void): Promise<void> {
  const rows = source();
  if (Symbol.asyncIterator in rows) {
    for await (const example of rows) visit(example);
  } else {
    for (const example of rows) visit(example);
  }
}

function positiveNumber(name: string, value: number, allowZero: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${value}`);
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** FTRL-Proximal state over 2^bits coordinates plus a bias. */
class Ftrl {
  readonly z: Float64Array;
  readonly n: Float64Array;
  biasZ = 0;
  biasN = 0;
  readonly #alpha: number;
  readonly #beta: number;
  readonly #l1: number;
  readonly #l2: number;

  constructor(size: number, h: FtrlHyperparameters) {
    this.z = new Float64Array(size);
    this.n = new Float64Array(size);
    this.#alpha = h.alpha;
    this.#beta = h.beta;
    this.#l1 = h.l1;
    this.#l2 = h.l2;
  }

  weight(i: number): number {
    const z = this.z[i]!;
    const l1 = this.#l1;
    if (z <= l1 && z >= -l1) return 0;
    return -(z - (z > 0 ? l1 : -l1)) / ((this.#beta + Math.sqrt(this.n[i]!)) / this.#alpha + this.#l2);
  }

  bias(): number {
    return -this.biasZ / ((this.#beta + Math.sqrt(this.biasN)) / this.#alpha);
  }

  /** One predict-then-learn step; `w` is scratch for the active weights. Returns p. */
  learn(slots: Uint32Array, count: number, y: 0 | 1, w: Float64Array): number {
    const z = this.z;
    const n = this.n;
    const alpha = this.#alpha;
    let logit = this.bias();
    for (let k = 0; k < count; k++) {
      const wi = this.weight(slots[k]!);
      w[k] = wi;
      logit += wi;
    }
    const p = sigmoid(logit);
    const g = p - y;
    const g2 = g * g;
    for (let k = 0; k < count; k++) {
      const i = slots[k]!;
      const ni = n[i]!;
      const sigma = (Math.sqrt(ni + g2) - Math.sqrt(ni)) / alpha;
      z[i] = z[i]! + g - sigma * w[k]!;
      n[i] = ni + g2;
    }
    const bias = this.bias();
    const sigma = (Math.sqrt(this.biasN + g2) - Math.sqrt(this.biasN)) / alpha;
    this.biasZ += g - sigma * bias;
    this.biasN += g2;
    return p;
  }

  /** Writes every coordinate's current weight into `out`. */
  materialise(out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.weight(i);
  }
}

const HISTOGRAM_MIN = -40;
const HISTOGRAM_BINS_PER_UNIT = 64;
const HISTOGRAM_BINS = 80 * HISTOGRAM_BINS_PER_UNIT;

/**
 * The bias b that makes Σ σ(b + offset + t_i) = positives over the rows, where t_i is a row's sum
 * of token weights. The t_i are kept as a fixed histogram (1/64 logit wide bins), so memory does
 * not grow with the rows; the binning error is far below the noise of any click rate.
 */
function solveBias(histogram: Float64Array, offset: number, positives: number): number {
  let lo = -60;
  let hi = 60;
  for (let iteration = 0; iteration < 60; iteration++) {
    const mid = (lo + hi) / 2;
    let expected = 0;
    for (let k = 0; k < HISTOGRAM_BINS; k++) {
      const c = histogram[k]!;
      if (c > 0) expected += c * sigmoid(mid + offset + HISTOGRAM_MIN + (k + 0.5) / HISTOGRAM_BINS_PER_UNIT);
    }
    if (expected < positives) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Trains a model; the result is what saveModel writes. */
export async function trainModel(source: ExampleSource, options: TrainOptions = {}): Promise<Model> {
  const hyper: FtrlHyperparameters = {
    alpha: positiveNumber('alpha', options.alpha ?? DEFAULT_FTRL.alpha, false),
    beta: positiveNumber('beta', options.beta ?? DEFAULT_FTRL.beta, true),
    l1: positiveNumber('l1', options.l1 ?? DEFAULT_FTRL.l1, true),
    l2: positiveNumber('l2', options.l2 ?? DEFAULT_FTRL.l2, true),
  };
  const maxPasses = positiveInteger('maxPasses', options.maxPasses ?? 3);
  const patience = positiveInteger('patience', options.patience ?? 1);
  const minImprovement = positiveNumber('minImprovement', options.minImprovement ?? 1e-5, true);
  const rate = options.negativeSamplingRate ?? 1;
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`negativeSamplingRate must be in (0, 1], got ${rate}`);
  const samplingSeed = options.samplingSeed ?? 1;
  const logRate = Math.log(rate);

  const encoder = new FeatureEncoder({
    bits: options.bits ?? DEFAULT_BITS,
    seed: options.hashSeed ?? DEFAULT_HASH_SEED,
    fields: options.fields ?? [],
  });
  const size = 2 ** encoder.bits;
  const ftrl = new Ftrl(size, hyper);
  let slots = new Uint32Array(Math.max(16, encoder.fields.length));
  let active = new Float64Array(slots.length);

  let current: Float32Array = new Float32Array(size);
  let best: Float32Array | null = null;
  let bestBias = 0;
  let bestPass = 0;
  let bestLoss = Number.POSITIVE_INFINITY;
  let stale = 0;
  let firstPassRows = -1;
  let trainingPositives = 0;
  let lastTrainLoss = Number.NaN;
  let validationRows = 0;
  const history: { pass: number; train_logloss: number; validation_logloss: number | null }[] = [];

  /** The log loss of (weights, bias) on a source, corrected for down-sampling; sets validationRows. */
  const validate = async (rows: ExampleSource, weights: Float32Array, bias: number): Promise<number> => {
    let sum = 0;
    let count = 0;
    const validationSlots = new Uint32Array(encoder.fields.length);
    await forEach(rows, (example) => {
      const y = labelOf(example, count);
      const k = encoder.encodeInto(example.features, validationSlots);
      let logit = bias + logRate;
      for (let j = 0; j < k; j++) logit += weights[validationSlots[j]!]!;
      sum += rowLogLoss(sigmoid(logit), y);
      count++;
    });
    if (count === 0) throw new RangeError('the validation source yielded no rows');
    validationRows = count;
    return sum / count;
  };

  let pass = 0;
  while (pass < maxPasses) {
    pass++;
    const draw = createRandom(samplingSeed, pass);
    let rows = 0;
    let used = 0;
    let positives = 0;
    let lossSum = 0;
    await forEach(source, (example) => {
      const y = labelOf(example, rows);
      rows++;
      positives += y;
      if (y === 0 && rate < 1 && draw.next() >= rate) return;
      const fieldCount = encoder.observe(example.features);
      if (fieldCount > slots.length) {
        slots = new Uint32Array(fieldCount * 2);
        active = new Float64Array(fieldCount * 2);
      }
      const count = encoder.encodeInto(example.features, slots);
      const p = ftrl.learn(slots, count, y, active);
      lossSum += rowLogLoss(p, y);
      used++;
    });
    if (pass === 1) {
      if (rows === 0) throw new RangeError('the training source yielded no rows');
      firstPassRows = rows;
      trainingPositives = positives;
    } else if (rows !== firstPassRows) {
      throw new RangeError(
        `the training source yielded ${firstPassRows} rows on pass 1 but ${rows} on pass ${pass}: it must replay the same rows on every call`,
      );
    }
    lastTrainLoss = used > 0 ? lossSum / used : Number.NaN;

    ftrl.materialise(current);
    const bias = ftrl.bias();
    const validationLoss = options.validation ? await validate(options.validation, current, bias) : null;
    const improved = validationLoss === null || validationLoss < bestLoss - minImprovement;
    if (improved) {
      // Keep this pass's weights; reuse the previous best's buffer for the next pass.
      const previous = best;
      best = current;
      bestBias = bias;
      bestPass = pass;
      if (validationLoss !== null) bestLoss = validationLoss;
      current = previous ?? new Float32Array(size);
      stale = 0;
    } else {
      stale++;
    }
    history.push({ pass, train_logloss: lastTrainLoss, validation_logloss: validationLoss });
    options.onPass?.({
      pass,
      rows,
      used,
      train_logloss: lastTrainLoss,
      validation_logloss: validationLoss,
      best: improved,
    });
    if (stale >= patience) break;
  }

  // Refit the bias on all training rows (not down-sampled, with the ln r correction), then
  // re-measure the validation loss of the model actually returned.
  let recalibrated = false;
  const weights = best!;
  if (options.recalibrate ?? true) {
    const histogram = new Float64Array(HISTOGRAM_BINS);
    const rowSlots = new Uint32Array(encoder.fields.length);
    let positives = 0;
    let rows = 0;
    await forEach(source, (example) => {
      positives += labelOf(example, rows);
      rows++;
      const k = encoder.encodeInto(example.features, rowSlots);
      let t = 0;
      for (let j = 0; j < k; j++) t += weights[rowSlots[j]!]!;
      const bin = Math.floor((t - HISTOGRAM_MIN) * HISTOGRAM_BINS_PER_UNIT);
      histogram[bin < 0 ? 0 : bin >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : bin]! += 1;
    });
    if (positives > 0 && positives < rows) {
      bestBias = solveBias(histogram, logRate, positives);
      recalibrated = true;
      if (options.validation) bestLoss = await validate(options.validation, weights, bestBias);
    }
  }

  return {
    format_version: FORMAT_VERSION,
    algorithm: ALGORITHM,
    hashing: encoder.hashing,
    fields: [...encoder.fields],
    hyperparameters: {
      optimizer: 'ftrl-proximal',
      alpha: hyper.alpha,
      beta: hyper.beta,
      l1: hyper.l1,
      l2: hyper.l2,
      max_passes: maxPasses,
      patience,
      min_improvement: minImprovement,
      sampling_seed: samplingSeed,
      recalibrate: options.recalibrate ?? true,
    },
    training_window: options.trainingWindow ?? null,
    metrics: {
      training_rows: firstPassRows,
      training_positives: trainingPositives,
      passes: pass,
      best_pass: bestPass,
      bias_recalibrated: recalibrated,
      train_logloss: lastTrainLoss,
      validation_rows: options.validation ? validationRows : null,
      validation_logloss: options.validation ? bestLoss : null,
      history,
    },
    negative_sampling_rate: rate,
    weights,
    bias: bestBias,
    created_at: (options.createdAt ?? new Date()).toISOString(),
    metadata: { ...(options.metadata ?? {}) },
  };
}
