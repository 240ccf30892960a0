/**
 * Streaming trainer: a factorization machine over hashed sparse features (Rendle 2010), with the
 * linear part trained by FTRL-Proximal (McMahan et al., KDD 2013) and the pairwise factors by
 * AdaGrad, over several passes with early stopping on a validation log loss.
 *
 * Memory is fixed by 2^bits and the factor count, never by the row count: the FTRL state (z, n:
 * Float64Array per slot), the factors (Float32Array, k per slot) and their row-wise AdaGrad
 * accumulators (one per slot), the slot counts, and at most one snapshot of the best pass's
 * parameters.
 *
 * The source is read several times:
 *
 * 1. a counting pass: the rows, the click rate, the fields, and how many rows hold each slot. A
 *    value seen in fewer than `minCount` rows is trained and scored as its field's rare token
 *    `field#rare`: one well-estimated weight for "some rare value of this field" instead of many
 *    noisy ones, which is also the estimate a never-seen user or ad gets at serving;
 * 2. training passes (up to `maxPasses`) with early stopping. Without a `validation` source, the
 *    time-latest `validationFraction` of the rows is held out for it and, with `refit`, the model
 *    is then trained again on all rows for the best number of passes (like the XGBoost peer);
 * 3. a recalibration read: FTRL converges slowly along the offset every row shares, so the bias is
 *    refit exactly so that the mean corrected prediction equals the observed click rate. The same
 *    read counts the rows each rare token stood for.
 *
 * With `warmStart` (warm-start.ts), every run begins from an earlier model's parameters and
 * optimizer state instead of from zero, and its slot counts join the counting pass's, so the rare
 * mapping and the factor threshold see the union of both training sets. The returned model carries
 * its own optimizer state (of the best pass), which saveModel writes for the next warm start.
 *
 * Only values seen in at least `factorMinCount` rows get factors: an interaction needs far more
 * evidence than a main effect, and the factors of rare ids otherwise fit noise.
 *
 * Negative down-sampling keeps every positive and each negative with probability r (a seeded draw,
 * so runs are reproducible); the model stores r and the scorer adds ln r to the logit. Rows whose
 * negatives were already down-sampled at a rate d before they reached the trainer (a training set
 * built with `--negative-rate d`) declare it with `dataNegativeRate`: the model stores d·r, and
 * the recalibration and the validation losses count each negative row as 1/d rows of the traffic.
 */
import { ALGORITHM, FORMAT_VERSION, MAX_COUNT, MAX_FACTOR_DIM, type Model } from './artifact.js';
import { CrossScreen, KEEP_MIN_SE, PairedGain, type ScreenedCross, trainingFold } from './cross-selection.js';
import {
  CROSS_SEPARATOR,
  type Cross,
  DEFAULT_BITS,
  DEFAULT_HASH_SEED,
  FeatureEncoder,
  type FeatureMap,
} from './encoding.js';
import { applyRareSlots, rowScore, sigmoid } from './kernel.js';
import { rowLogLoss } from './metrics.js';
import type { OptimizerState } from './optimizer-state.js';
import { createRandom } from './prng.js';
import {
  checkWarmStart,
  fallbackDecision,
  NOT_REQUESTED,
  usedDecision,
  type WarmStart,
  type WarmStartDecision,
} from './warm-start.js';

export interface Example {
  readonly features: FeatureMap;
  readonly label: number | boolean;
}

/** Called once per pass; each call must yield the same rows in the same order. */
export type ExampleSource = () => Iterable<Example> | AsyncIterable<Example>;

export interface FtrlHyperparameters {
  /** Learning-rate scale of the linear weights. */
  readonly alpha: number;
  /** Learning-rate smoothing (added to √n). */
  readonly beta: number;
  /** L1 strength: linear weights with |z| <= l1 stay exactly 0. */
  readonly l1: number;
  /** L2 strength of the linear weights. */
  readonly l2: number;
}

export interface FactorHyperparameters {
  /** Latent factors per slot, k (0 = plain logistic regression). */
  readonly factors: number;
  /** AdaGrad learning rate of the factors. */
  readonly factorLearningRate: number;
  /** L2 strength of the factors (applied on each update of an active slot). */
  readonly factorL2: number;
  /** Factors start uniform in ±factorInitScale (drawn from the slot's hash: order independent). */
  readonly factorInitScale: number;
  /**
   * Only values seen in at least this many training rows get factors; the others keep their
   * linear weight and take no part in the pairwise terms (their factors stay exactly 0).
   */
  readonly factorMinCount: number;
}

export const DEFAULT_FTRL: FtrlHyperparameters = { alpha: 0.05, beta: 1, l1: 0.5, l2: 1 };
/**
 * Measured on the benchmark's synthetic data and the Criteo / Avazu samples (sagemaker/README.md):
 * factors for every value let the many rare ids (users, ads, sites) fit noise, and the pairwise
 * terms then lost to plain logistic regression; keeping factors to values with 5 000+ rows (about
 * 100 clicks at a 2 % click rate) lets a larger, faster-learning k pay off.
 */
export const DEFAULT_FACTORS: FactorHyperparameters = {
  factors: 8,
  factorLearningRate: 0.05,
  factorL2: 0.001,
  factorInitScale: 0.01,
  factorMinCount: 5000,
};
export const DEFAULT_MIN_COUNT = 1;
/** Crosses chosen on the training rows, at most (see cross-selection.ts); 0 = none. */
export const DEFAULT_MAX_CROSSES = 8;
/** Crosses a model may hold, at most. */
export const MAX_CROSSES = 64;
export const DEFAULT_MAX_PASSES = 10;
export const DEFAULT_VALIDATION_FRACTION = 0.1;
/**
 * Training rows (of fold 1) that choose crosses, at most: their base logits are kept (8 MB), and
 * each selection step reads the rows only up to the last of them. A million rows estimate a
 * pair's gain to about 2·10⁻⁵ (on 10 M synthetic rows the chosen pairs gained 1–16·10⁻⁵, with
 * standard errors of 0.2–0.9·10⁻⁵ on 4 M choosing rows).
 */
const MAX_CHOOSE_ROWS = 2 ** 20;
/** Fewer held-out rows than this give too noisy a loss to stop on: train the fixed passes. */
const MIN_VALIDATION_ROWS = 200;

export interface PassReport {
  readonly pass: number;
  /** Whether this pass is the final refit on all rows (after early stopping chose the passes). */
  readonly refit: boolean;
  /** Training rows read this pass (held-out rows excluded). */
  readonly rows: number;
  /** Rows learned from (after negative down-sampling). */
  readonly used: number;
  /** Progressive (predict-then-learn) log loss on the rows used, on the down-sampled scale. */
  readonly train_logloss: number;
  /** Log loss of this pass's parameters on the validation rows (corrected for down-sampling). */
  readonly validation_logloss: number | null;
  /** Whether this pass's parameters are the best so far. */
  readonly best: boolean;
}

export interface TrainOptions extends Partial<FtrlHyperparameters>, Partial<FactorHyperparameters> {
  /** Hash slots = 2^bits (default 20). */
  readonly bits?: number;
  /** Hash seed (default 0). */
  readonly hashSeed?: number;
  /** Values seen in fewer training rows share their field's rare token (default 1: only never-seen values; 0 = off). */
  readonly minCount?: number;
  /** Maximum number of training passes (default 10). */
  readonly maxPasses?: number;
  /** Passes without validation improvement before stopping (default 1). */
  readonly patience?: number;
  /** Smallest decrease of the validation log loss that counts as an improvement (default 1e-5). */
  readonly minImprovement?: number;
  /** The validation rows (time-later than the training rows); enables early stopping. */
  readonly validation?: ExampleSource;
  /**
   * Without `validation`: hold out this time-latest fraction of the training rows for early
   * stopping (default 0.1; 0 = no early stopping, `maxPasses` passes on all rows).
   */
  readonly validationFraction?: number;
  /** After early stopping on held-out rows, retrain on all rows for the best pass count (default true). */
  readonly refit?: boolean;
  /** Keep each negative with this probability (default 1: keep all). */
  readonly negativeSamplingRate?: number;
  /** Seed of the down-sampling draws and of the factor initialisation (default 1). */
  readonly samplingSeed?: number;
  /**
   * The rate at which the rows' negatives were already down-sampled upstream (default 1: not at
   * all); it applies to the validation rows too. See the module comment.
   */
  readonly dataNegativeRate?: number;
  /** Refit the bias so the mean corrected prediction equals the click rate (default true). */
  readonly recalibrate?: boolean;
  /**
   * Choose at most this many crosses (pairs of fields whose value pairs get a weight of their own)
   * on the training rows, and keep them only if the model with them beats the model without on
   * the held-out rows, by a paired test (cross-selection.ts; default 8, 0 = none). Needs
   * early stopping's held-out rows or a `validation` source; ignored when `crosses` is given or a
   * warm start is used.
   */
  readonly maxCrosses?: number;
  /** These crosses, exactly (no selection): each a pair of distinct fields of the rows. */
  readonly crosses?: readonly Cross[];
  /** Fields known in advance (more are added as they appear in the rows). */
  readonly fields?: readonly string[];
  readonly trainingWindow?: { from: string | null; to: string | null } | null;
  readonly metadata?: Record<string, string | number | boolean | null>;
  /** The model's created_at (default: now). */
  readonly createdAt?: Date;
  readonly onPass?: (report: PassReport) => void;
  /**
   * Keep the training rows' encoded slots in memory when they number at most this many (default
   * 2^24: 64 MB), so that every read after the first skips parsing and hashing; larger sources are
   * read again on every pass. 0 always streams. Either way the model is the same.
   */
  readonly maxCachedSlots?: number;
  /**
   * Continue from this model's parameters and optimizer state (warm-start.ts) instead of from
   * zero, when its encoding is compatible; otherwise train fresh and record why. Its slot counts
   * are added to the new rows' (the vocabulary is the union of both).
   */
  readonly warmStart?: WarmStart;
  /** Told, after the counting read, whether the warm start is used and if not why. */
  readonly onWarmStart?: (decision: WarmStartDecision) => void;
  /** Told what cross screening chose (before the crossed training) and what the held-out rows decided. */
  readonly onCrosses?: (event: CrossEvent) => void;
}

/** A step of cross selection, as `metrics.crosses` records it (cross-selection.ts). */
export type CrossEvent =
  | {
      readonly stage: 'chosen';
      /** Pairs screened, and the training rows that learned the corrections and chose among them. */
      readonly pairs: number;
      readonly learnRows: number;
      readonly chooseRows: number;
      /** The pairs chosen, in order; none means no training with crosses follows. */
      readonly crosses: readonly Cross[];
    }
  | {
      readonly stage: 'decided';
      readonly crosses: readonly Cross[];
      readonly kept: boolean;
      /** The held-out rows' paired log-loss gain of the crossed model, its standard error, the rows. */
      readonly gain: number;
      readonly se: number;
      readonly rows: number;
      /** The gain must be at least this many standard errors above 0. */
      readonly minSe: number;
    };

/** The parameters and optimizer state a warm-started machine begins from (each run begins there). */
interface WarmInit {
  readonly state: OptimizerState;
  readonly factors: Float32Array;
  /** FTRL z of the bias that gives the earlier model's bias, moved to this training's sampling rate. */
  readonly biasZ: number;
  /** The earlier model's crosses: its cross slots' z and n mean those crosses, so they are kept. */
  readonly crosses: readonly Cross[];
}

function labelOf(example: Example, row: number): 0 | 1 {
  const y = example.label;
  if (y === 1 || y === true) return 1;
  if (y === 0 || y === false) return 0;
  throw new RangeError(`row ${row}: label must be 0, 1, true or false, got ${String(y)}`);
}

/** Visits the source's rows in order; a visit that returns false ends the read (and closes the source). */
async function forEach(source: ExampleSource, visit: (example: Example) => unknown): Promise<void> {
  const rows = source();
  if (Symbol.asyncIterator in rows) {
    for await (const example of rows) if (visit(example) === false) break;
  } else {
    for (const example of rows) if (visit(example) === false) break;
  }
}

function nonNegative(name: string, value: number, allowZero = true): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${value}`);
  }
  return value;
}

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/** The deterministic initial value of factor f of a slot: uniform in ±scale, from a hash. */
function initialFactor(slot: number, f: number, seed: number, scale: number): number {
  let h = (Math.imul(slot, 0x9e3779b1) ^ Math.imul(f + 1, 0x85ebca6b) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) / 0x1_0000_0000 - 0.5) * 2 * scale;
}

/**
 * The parameters being learned: FTRL linear part and bias, AdaGrad factors.
 *
 * The factors use row-wise AdaGrad: one accumulator per slot (the mean of its k squared
 * gradients) instead of one per factor. That is one square root per active field instead of k,
 * 4 bytes per slot instead of 4k, and on the benchmarks the same log loss.
 */
class FactorMachine {
  readonly z: Float64Array;
  readonly n: Float64Array;
  /** The factors (k per slot), updated in place; a slot's factors stay 0 until it is first trained. */
  readonly v: Float32Array;
  /** Row-wise AdaGrad accumulators of the factors; 0 marks a slot never trained. */
  readonly g: Float32Array;
  /** The slots trained so far, in first-touch order (the only ones with non-zero parameters). */
  touched: Uint32Array;
  touchedCount = 0;
  biasZ = 0;
  biasN = 0;
  readonly #ftrl: FtrlHyperparameters;
  readonly #fm: FactorHyperparameters;
  readonly #seed: number;
  readonly #sums: Float64Array;
  readonly #w: Float64Array;
  /** Training rows per slot: a slot under factorMinCount keeps zero factors and is never updated. */
  readonly #counts: Uint32Array;
  /** Only a row's first this many slots (its fields) have factors; the crosses after them are linear. */
  readonly #factorSlots: number;

  constructor(
    size: number,
    ftrl: FtrlHyperparameters,
    fm: FactorHyperparameters,
    seed: number,
    maxSlots: number,
    counts: Uint32Array,
    factorSlots: number,
  ) {
    this.#counts = counts;
    this.#factorSlots = factorSlots;
    this.z = new Float64Array(size);
    this.n = new Float64Array(size);
    this.v = new Float32Array(size * fm.factors);
    this.g = new Float32Array(size);
    this.touched = new Uint32Array(1024);
    this.#ftrl = ftrl;
    this.#fm = fm;
    this.#seed = seed;
    this.#sums = new Float64Array(Math.max(1, fm.factors));
    this.#w = new Float64Array(Math.max(1, maxSlots));
  }

  weight(i: number): number {
    const z = this.z[i]!;
    const { l1, alpha, beta, l2 } = this.#ftrl;
    if (z <= l1 && z >= -l1) return 0;
    return -(z - (z > 0 ? l1 : -l1)) / ((beta + Math.sqrt(this.n[i]!)) / alpha + l2);
  }

  bias(): number {
    return -this.biasZ / ((this.#ftrl.beta + Math.sqrt(this.biasN)) / this.#ftrl.alpha);
  }

  /**
   * Starts from an earlier model: its z, n, accumulators and factors on every slot it trained.
   * A slot below this training's factor threshold gets zero factors (the training skips them, so
   * the scorer must too); one that reaches it now but had none draws them as a first touch would.
   */
  warmFrom(init: WarmInit): void {
    const { state, factors } = init;
    const k = this.#fm.factors;
    const threshold = this.#fm.factorMinCount;
    const size = this.z.length;
    for (let slot = 0; slot < size; slot++) {
      const gi = state.g[slot]!;
      if (gi === 0 && state.z[slot] === 0 && state.n[slot] === 0) continue;
      this.z[slot] = state.z[slot]!;
      this.n[slot] = state.n[slot]!;
      // The touch marker: a slot with state counts as trained even if its accumulator was 0.
      this.g[slot] = gi > 0 ? gi : 1;
      const base = slot * k;
      if (this.#counts[slot]! >= threshold) {
        let zero = true;
        for (let f = 0; f < k; f++) {
          const x = factors[base + f]!;
          this.v[base + f] = x;
          if (x !== 0) zero = false;
        }
        if (zero) {
          for (let f = 0; f < k; f++) this.v[base + f] = initialFactor(slot, f, this.#seed, this.#fm.factorInitScale);
        }
      }
      this.#track(slot);
    }
    this.biasN = state.bias_n;
    this.biasZ = init.biasZ;
  }

  #track(slot: number): void {
    if (this.touchedCount === this.touched.length) {
      const grown = new Uint32Array(this.touched.length * 2);
      grown.set(this.touched);
      this.touched = grown;
    }
    this.touched[this.touchedCount++] = slot;
  }

  /** The optimizer state of the trained slots, into `into` (reused) or new arrays. */
  snapshotState(into?: StateSnapshot): StateSnapshot {
    const size = this.z.length;
    const out = into ?? { z: new Float32Array(size), n: new Float32Array(size), g: new Float32Array(size), biasN: 0 };
    for (let t = 0; t < this.touchedCount; t++) {
      const slot = this.touched[t]!;
      out.z[slot] = this.z[slot]!;
      out.n[slot] = this.n[slot]!;
      out.g[slot] = this.g[slot]!;
    }
    out.biasN = this.biasN;
    return out;
  }

  /** Marks a slot trained: draws its factors and starts its AdaGrad accumulator at 1. */
  #touch(slot: number): void {
    const k = this.#fm.factors;
    const scale = this.#fm.factorInitScale;
    const base = slot * k;
    if (this.#counts[slot]! >= this.#fm.factorMinCount) {
      for (let f = 0; f < k; f++) this.v[base + f] = initialFactor(slot, f, this.#seed, scale);
    }
    // Starting at 1 rather than 0 keeps the first steps small (libFFM's choice).
    this.g[slot] = 1;
    this.#track(slot);
  }

  /** One predict-then-learn step on the row's (rare-mapped) slots. Returns p. */
  learn(slots: Uint32Array, count: number, y: 0 | 1): number {
    const { z, n, v, g } = this;
    const k = this.#fm.factors;
    const w = this.#w;
    const sums = this.#sums;
    let logit = this.bias();
    // weight(), inlined with its constants hoisted: this loop runs once per field of every row.
    const { l1, alpha: a, beta, l2 } = this.#ftrl;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (g[slot] === 0) this.#touch(slot);
      const zi = z[slot]!;
      const wi = zi <= l1 && zi >= -l1 ? 0 : -(zi - (zi > 0 ? l1 : -l1)) / ((beta + Math.sqrt(n[slot]!)) / a + l2);
      w[i] = wi;
      logit += wi;
    }
    const counts = this.#counts;
    const minFactorCount = this.#fm.factorMinCount;
    const factorSlots = Math.min(count, this.#factorSlots);
    if (k > 0) {
      for (let f = 0; f < k; f++) sums[f] = 0;
      let squares = 0;
      for (let i = 0; i < factorSlots; i++) {
        // A value below the factor threshold has factors that are exactly 0: nothing to add.
        if (counts[slots[i]!]! < minFactorCount) continue;
        const base = slots[i]! * k;
        for (let f = 0; f < k; f++) {
          const x = v[base + f]!;
          sums[f]! += x;
          squares += x * x;
        }
      }
      let total = 0;
      for (let f = 0; f < k; f++) total += sums[f]! * sums[f]!;
      logit += 0.5 * (total - squares);
    }
    const p = sigmoid(logit);
    const grad = p - y;
    const grad2 = grad * grad;
    const alpha = this.#ftrl.alpha;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      const ni = n[slot]!;
      const sigma = (Math.sqrt(ni + grad2) - Math.sqrt(ni)) / alpha;
      z[slot] = z[slot]! + grad - sigma * w[i]!;
      n[slot] = ni + grad2;
    }
    if (k > 0) {
      const eta = this.#fm.factorLearningRate;
      const lambda = this.#fm.factorL2;
      for (let i = 0; i < factorSlots; i++) {
        const slot = slots[i]!;
        if (counts[slot]! < minFactorCount) continue;
        const base = slot * k;
        let squared = 0;
        for (let f = 0; f < k; f++) {
          const x = v[base + f]!;
          const d = grad * (sums[f]! - x) + lambda * x;
          squared += d * d;
        }
        const acc = g[slot]! + squared / k;
        g[slot] = acc;
        const step = eta / Math.sqrt(acc);
        for (let f = 0; f < k; f++) {
          const x = v[base + f]!;
          v[base + f] = x - step * (grad * (sums[f]! - x) + lambda * x);
        }
      }
    }
    const bias = this.bias();
    const sigma = (Math.sqrt(this.biasN + grad2) - Math.sqrt(this.biasN)) / alpha;
    this.biasZ += grad - sigma * bias;
    this.biasN += grad2;
    return p;
  }

  /**
   * Writes the current linear weight of every trained slot into `out`. The other slots are 0 in
   * any buffer this machine wrote before, since the trained set only grows.
   */
  materialise(out: Float32Array): void {
    const touched = this.touched;
    for (let t = 0; t < this.touchedCount; t++) {
      const slot = touched[t]!;
      out[slot] = this.weight(slot);
    }
  }

  /** Copies the factors of every trained slot into `out` (same reasoning as materialise). */
  copyFactors(out: Float32Array): void {
    const k = this.#fm.factors;
    if (k === 0) return;
    const touched = this.touched;
    const v = this.v;
    for (let t = 0; t < this.touchedCount; t++) {
      const base = touched[t]! * k;
      for (let f = 0; f < k; f++) out[base + f] = v[base + f]!;
    }
  }
}

const HISTOGRAM_MIN = -40;
const HISTOGRAM_BINS_PER_UNIT = 64;
const HISTOGRAM_BINS = 80 * HISTOGRAM_BINS_PER_UNIT;

/**
 * The bias b that makes Σ σ(b + offset + t_i) = positives over the rows, where t_i is a row's
 * score without the bias. The t_i are kept as a fixed histogram (1/64 logit wide bins), so memory
 * does not grow with the rows; the binning error is far below the noise of any click rate.
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

/** The optimizer state of the best pass (a copy, or the live machine when nothing trains after it). */
interface StateSnapshot {
  z: Float32Array | Float64Array;
  n: Float32Array | Float64Array;
  g: Float32Array;
  biasN: number;
}

interface Parameters {
  weights: Float32Array;
  factors: Float32Array;
  bias: number;
  state: StateSnapshot;
}

function crossName([a, b]: Cross): string {
  return `${a}${CROSS_SEPARATOR}${b}`;
}

function describeScreened(s: ScreenedCross): { cross: string; gain: number; se: number } {
  return { cross: crossName(s.cross), gain: s.gain, se: s.se };
}

/** Trains a model; the result is what saveModel writes. */
export const DEFAULT_MAX_CACHED_SLOTS = 2 ** 24;

/** The training rows as raw (pre-rare-mapping) slots and labels, appended during the first read. */
class SlotCache {
  slots = new Uint32Array(1024);
  /** Row r's slots are slots[ends[r-1] .. ends[r]). */
  ends = new Uint32Array(256);
  labels = new Uint8Array(256);
  rows = 0;
  length = 0;
  constructor(private readonly maxSlots: number) {}

  /** Appends a row; false (and the cache should be dropped) once it would pass maxSlots. */
  add(slots: Uint32Array, n: number, y: 0 | 1): boolean {
    if (this.length + n > this.maxSlots) return false;
    if (this.length + n > this.slots.length) {
      const grown = new Uint32Array(Math.min(this.maxSlots, Math.max(this.slots.length * 2, this.length + n)));
      grown.set(this.slots.subarray(0, this.length));
      this.slots = grown;
    }
    if (this.rows === this.ends.length) {
      const ends = new Uint32Array(this.ends.length * 2);
      ends.set(this.ends);
      this.ends = ends;
      const labels = new Uint8Array(this.labels.length * 2);
      labels.set(this.labels);
      this.labels = labels;
    }
    for (let i = 0; i < n; i++) this.slots[this.length + i] = slots[i]!;
    this.length += n;
    this.ends[this.rows] = this.length;
    this.labels[this.rows] = y;
    this.rows++;
    return true;
  }
}

export async function trainModel(source: ExampleSource, options: TrainOptions = {}): Promise<Model> {
  const ftrl: FtrlHyperparameters = {
    alpha: nonNegative('alpha', options.alpha ?? DEFAULT_FTRL.alpha, false),
    beta: nonNegative('beta', options.beta ?? DEFAULT_FTRL.beta),
    l1: nonNegative('l1', options.l1 ?? DEFAULT_FTRL.l1),
    l2: nonNegative('l2', options.l2 ?? DEFAULT_FTRL.l2),
  };
  const fm: FactorHyperparameters = {
    factors: integerIn('factors', options.factors ?? DEFAULT_FACTORS.factors, 0, MAX_FACTOR_DIM),
    factorLearningRate: nonNegative(
      'factorLearningRate',
      options.factorLearningRate ?? DEFAULT_FACTORS.factorLearningRate,
      false,
    ),
    factorL2: nonNegative('factorL2', options.factorL2 ?? DEFAULT_FACTORS.factorL2),
    factorInitScale: nonNegative('factorInitScale', options.factorInitScale ?? DEFAULT_FACTORS.factorInitScale, false),
    factorMinCount: integerIn(
      'factorMinCount',
      options.factorMinCount ?? DEFAULT_FACTORS.factorMinCount,
      0,
      2 ** 32 - 1,
    ),
  };
  const minCount = integerIn('minCount', options.minCount ?? DEFAULT_MIN_COUNT, 0, MAX_COUNT);
  const maxPasses = integerIn('maxPasses', options.maxPasses ?? DEFAULT_MAX_PASSES, 1, 1000);
  const patience = integerIn('patience', options.patience ?? 1, 1, 1000);
  const minImprovement = nonNegative('minImprovement', options.minImprovement ?? 1e-5);
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new RangeError(`validationFraction must be in [0, 1), got ${validationFraction}`);
  }
  const refit = options.refit ?? true;
  const rate = options.negativeSamplingRate ?? 1;
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`negativeSamplingRate must be in (0, 1], got ${rate}`);
  const samplingSeed = options.samplingSeed ?? 1;
  const dataRate = options.dataNegativeRate ?? 1;
  if (!(dataRate > 0 && dataRate <= 1)) throw new RangeError(`dataNegativeRate must be in (0, 1], got ${dataRate}`);
  /** How many rows of the traffic a negative row stands for. */
  const negativeWeight = 1 / dataRate;
  const logRate = Math.log(rate * dataRate);
  const recalibrate = options.recalibrate ?? true;

  const encoder = new FeatureEncoder({
    bits: options.bits ?? DEFAULT_BITS,
    seed: options.hashSeed ?? DEFAULT_HASH_SEED,
    fields: options.fields ?? [],
  });
  const size = 2 ** encoder.bits;
  const k = fm.factors;

  // 1. Counting pass.
  const counts = new Uint32Array(size);
  let slots = new Uint32Array(Math.max(16, encoder.fields.length));
  let rows = 0;
  let positives = 0;
  const maxCachedSlots = integerIn('maxCachedSlots', options.maxCachedSlots ?? DEFAULT_MAX_CACHED_SLOTS, 0, 2 ** 30);
  let cache: SlotCache | null = maxCachedSlots > 0 ? new SlotCache(maxCachedSlots) : null;
  let firstFieldCount = -1;
  await forEach(source, (example) => {
    const y = labelOf(example, rows);
    positives += y;
    rows++;
    const fieldCount = encoder.observe(example.features);
    if (fieldCount > slots.length) slots = new Uint32Array(fieldCount * 2);
    const n = encoder.encodeInto(example.features, slots);
    for (let i = 0; i < n; i++) counts[slots[i]!]! += 1;
    if (cache === null) return;
    // A field first seen after row 1 would be encoded (as missing) in the earlier rows on a later
    // read, so their cached slots would differ from a re-read: stream instead.
    if (firstFieldCount < 0) firstFieldCount = fieldCount;
    if (fieldCount !== firstFieldCount || !cache.add(slots, n, y)) cache = null;
  });
  if (rows === 0) throw new RangeError('the training source yielded no rows');
  const fieldCount = encoder.fields.length;

  // The warm start is decided once the rows' fields are known. Its counts join the new rows' before
  // anything reads them, so the rare mapping, the factor threshold and the stored counts all see
  // the union of both vocabularies.
  let warmInit: WarmInit | null = null;
  let warmDecision: WarmStartDecision = NOT_REQUESTED;
  if (options.warmStart) {
    const checked = checkWarmStart(options.warmStart, {
      bits: encoder.bits,
      hashSeed: encoder.hashing.seed,
      hash: encoder.hashing.hash,
      factors: k,
      ftrl,
      fields: encoder.fields,
    });
    if ('reason' in checked) {
      warmDecision = fallbackDecision(options.warmStart, checked.reason);
    } else {
      const earlier = checked.model;
      for (let s = 0; s < size; s++) counts[s]! += earlier.counts[s]!;
      // The machine learns odds on the down-sampled scale: move the earlier bias to this one's.
      const bias0 = earlier.bias + Math.log(earlier.negative_sampling_rate) - logRate;
      warmInit = {
        state: earlier.optimizer,
        factors: earlier.factors,
        biasZ: (-bias0 * (ftrl.beta + Math.sqrt(earlier.optimizer.bias_n))) / ftrl.alpha,
        crosses: earlier.crosses ?? [],
      };
      warmDecision = usedDecision(options.warmStart, earlier, encoder.fields);
    }
    options.onWarmStart?.(warmDecision);
  }

  const maxCrosses = integerIn('maxCrosses', options.maxCrosses ?? DEFAULT_MAX_CROSSES, 0, MAX_CROSSES);
  if (options.crosses && options.crosses.length > MAX_CROSSES) {
    throw new RangeError(`crosses holds ${options.crosses.length} pairs, at most ${MAX_CROSSES}`);
  }
  // The slot buffers hold a row's fields and then its crosses: sized for the most crosses possible.
  const maxWidth = fieldCount + Math.max(maxCrosses, options.crosses?.length ?? 0, warmInit?.crosses.length ?? 0);
  /** The rare slot of each position: fields, then crosses (rebuilt by setCrosses). */
  const rareSlots = new Uint32Array(Math.max(1, maxWidth));
  const resetRareSlots = (): void => {
    for (let i = 0; i < encoder.width; i++) rareSlots[i] = encoder.rareSlot(i);
  };
  resetRareSlots();
  const sums = new Float64Array(Math.max(1, k));

  const heldOut = options.validation ? 0 : Math.floor(rows * validationFraction);
  const internalValidation = heldOut >= MIN_VALIDATION_ROWS;
  const trainEnd = internalValidation ? rows - heldOut : rows;

  /** Encodes a row's fields and crosses into `into` with the rare mapping; returns the slot count. */
  const encode = (features: FeatureMap, into: Uint32Array): number => {
    const n = encoder.crossInto(into, encoder.encodeInto(features, into));
    applyRareSlots(into, n, counts, minCount, rareSlots);
    return n;
  };

  /**
   * Visits every training row in order (or rows [from, to)) with its slots (rare mapping applied
   * when `rare`) in a scratch buffer, from the cache or by reading the source again; a source read
   * ends at row `to`. Returns the rows the source yielded (all of them when `to` is not given).
   */
  const rowBuffer = new Uint32Array(Math.max(1, maxWidth));
  const forEachRow = async (
    rare: boolean,
    visit: (slots: Uint32Array, n: number, y: 0 | 1, row: number) => void,
    from = 0,
    to = Number.POSITIVE_INFINITY,
  ): Promise<number> => {
    const cached = cache;
    if (cached) {
      let start = from > 0 ? cached.ends[Math.min(from, cached.rows) - 1]! : 0;
      const stop = Math.min(cached.rows, to);
      for (let row = from; row < stop; row++) {
        const end = cached.ends[row]!;
        for (let i = start; i < end; i++) rowBuffer[i - start] = cached.slots[i]!;
        const n = encoder.crossInto(rowBuffer, end - start);
        if (rare) applyRareSlots(rowBuffer, n, counts, minCount, rareSlots);
        visit(rowBuffer, n, cached.labels[row] as 0 | 1, row);
        start = end;
      }
      return cached.rows;
    }
    let seen = 0;
    await forEach(source, (example) => {
      if (seen >= to) return false;
      const row = seen++;
      const y = labelOf(example, row);
      if (row < from) return;
      const n = rare
        ? encode(example.features, rowBuffer)
        : encoder.crossInto(rowBuffer, encoder.encodeInto(example.features, rowBuffer));
      visit(rowBuffer, n, y, row);
    });
    return seen;
  };

  const history: { pass: number; refit: boolean; train_logloss: number; validation_logloss: number | null }[] = [];

  /**
   * Trains up to `passes` passes on rows [0, end), scoring rows [end, rows) (internal) or the
   * validation source after each pass. Returns the best parameters and how many passes made them.
   */
  const run = async (
    passes: number,
    end: number,
    stopEarly: boolean,
    isRefit: boolean,
  ): Promise<{
    best: Parameters;
    bestPass: number;
    bestLoss: number | null;
    validationRows: number;
    trainLoss: number;
  }> => {
    const machine = new FactorMachine(size, ftrl, fm, samplingSeed, maxWidth, counts, fieldCount);
    if (warmInit) machine.warmFrom(warmInit);
    let current: Float32Array = new Float32Array(size);
    let best: Parameters | null = null;
    let bestPass = 0;
    let bestLoss = Number.POSITIVE_INFINITY;
    let stale = 0;
    let validationRows = 0;
    let trainLoss = Number.NaN;
    const validationSlots = new Uint32Array(Math.max(1, maxWidth));

    for (let pass = 1; pass <= passes; pass++) {
      const draw = createRandom(samplingSeed, pass);
      let used = 0;
      let lossSum = 0;
      let heldSum = 0;
      let heldCount = 0;
      let heldRows = 0;
      let bias = 0;
      const seen = await forEachRow(true, (rowSlots, n, y, row) => {
        if (row >= end) {
          // The held-out tail: this pass's training is over when it starts.
          if (row === end) {
            machine.materialise(current);
            bias = machine.bias();
          }
          const logit = bias + logRate + rowScore(rowSlots, n, current, machine.v, k, sums, fieldCount);
          const w = y === 0 ? negativeWeight : 1;
          heldSum += w * rowLogLoss(sigmoid(logit), y);
          heldCount += w;
          heldRows++;
          return;
        }
        if (y === 0 && rate < 1 && draw.next() >= rate) return;
        lossSum += rowLogLoss(machine.learn(rowSlots, n, y), y);
        used++;
      });
      if (seen !== rows) {
        throw new RangeError(
          `the training source yielded ${rows} rows on its first read but ${seen} on a later one: it must replay the same rows on every call`,
        );
      }
      trainLoss = used > 0 ? lossSum / used : Number.NaN;
      if (end === rows) {
        machine.materialise(current);
        bias = machine.bias();
      }
      let validationLoss: number | null = null;
      if (stopEarly && end < rows) {
        validationLoss = heldSum / heldCount;
        validationRows = heldRows;
      } else if (stopEarly && options.validation) {
        let sum = 0;
        let weight = 0;
        let count = 0;
        await forEach(options.validation, (example) => {
          const y = labelOf(example, count);
          const n = encode(example.features, validationSlots);
          const w = y === 0 ? negativeWeight : 1;
          const t = rowScore(validationSlots, n, current, machine.v, k, sums, fieldCount);
          sum += w * rowLogLoss(sigmoid(bias + logRate + t), y);
          weight += w;
          count++;
        });
        if (count === 0) throw new RangeError('the validation source yielded no rows');
        validationLoss = sum / weight;
        validationRows = count;
      }
      const improved = validationLoss === null || validationLoss < bestLoss - minImprovement;
      const isLast = pass === passes;
      if (improved) {
        const previous: Parameters | null = best;
        // The factors are updated in place: keep a copy only when a later pass may be worse.
        const factors: Float32Array =
          validationLoss === null || isLast ? machine.v : (previous?.factors ?? new Float32Array(machine.v.length));
        if (factors !== machine.v) machine.copyFactors(factors);
        const state: StateSnapshot =
          factors === machine.v
            ? { z: machine.z, n: machine.n, g: machine.g, biasN: machine.biasN }
            : machine.snapshotState(previous && previous.state.z !== machine.z ? previous.state : undefined);
        best = { weights: current, factors, bias, state };
        bestPass = pass;
        if (validationLoss !== null) bestLoss = validationLoss;
        current = previous?.weights ?? new Float32Array(size);
        stale = 0;
      } else {
        stale++;
      }
      history.push({ pass, refit: isRefit, train_logloss: trainLoss, validation_logloss: validationLoss });
      options.onPass?.({
        pass,
        refit: isRefit,
        rows: end,
        used,
        train_logloss: trainLoss,
        validation_logloss: validationLoss,
        best: improved,
      });
      if (validationLoss !== null && stale >= patience) break;
    }
    return {
      best: best!,
      bestPass,
      bestLoss: Number.isFinite(bestLoss) ? bestLoss : null,
      validationRows,
      trainLoss,
    };
  };

  /** Sets the crosses and adds their slots' counts over all rows (one more read of the rows). */
  const useCrosses = async (crosses: readonly Cross[]): Promise<void> => {
    encoder.setCrosses(crosses);
    resetRareSlots();
    if (crosses.length === 0) return;
    await forEachRow(false, (rowSlots, n) => {
      for (let i = fieldCount; i < n; i++) counts[rowSlots[i]!]! += 1;
    });
  };

  // 2. Training passes.
  const stopEarly = internalValidation || options.validation !== undefined;
  const given =
    options.crosses ?? warmInit?.crosses.filter(([a, b]) => encoder.fields.includes(a) && encoder.fields.includes(b));
  let crossReport: Record<string, unknown>;
  let result: Awaited<ReturnType<typeof run>>;
  if (given !== undefined) {
    await useCrosses(given);
    crossReport = { selection: options.crosses ? 'given' : 'warm start', crosses: given.map(crossName) };
    result = await run(maxPasses, trainEnd, stopEarly, false);
  } else {
    result = await run(maxPasses, trainEnd, stopEarly, false);
    crossReport = { selection: maxCrosses > 0 && stopEarly ? 'screened' : 'off', crosses: [] };
    if (maxCrosses > 0 && stopEarly && result.bestLoss !== null) {
      // 2b. Screen every pair of fields against this model: learn the pairs' corrections on fold 0
      // of its training rows, choose the pairs on fold 1, train again with them, and keep the
      // crossed model only if it beats this one on the held-out rows (cross-selection.ts). Early
      // stopping reads the same held-out rows, for both models alike: the model without crosses is
      // then the same as before screening existed, and no row that chose a cross decides on it.
      const screen = new CrossScreen(encoder.fields, encoder.hashing.seed);
      const base = result.best;
      const mapped = new Uint32Array(Math.max(1, maxWidth));
      /** The base model's logit of a row given by its raw slots (mapped in a copy). */
      const baseLogit = (raw: Uint32Array, n: number, rowCounts: Uint32Array): number => {
        for (let i = 0; i < n; i++) mapped[i] = raw[i]!;
        applyRareSlots(mapped, n, rowCounts, minCount, rareSlots);
        return base.bias + logRate + rowScore(mapped, n, base.weights, base.factors, k, sums);
      };
      /** Visits the held-out rows (the tail, or the validation source). */
      const readHeldOut = async (visit: (raw: Uint32Array, n: number, y: 0 | 1) => void) => {
        if (options.validation) {
          const raw = new Uint32Array(Math.max(1, maxWidth));
          let count = 0;
          await forEach(options.validation, (example) => {
            const index = count++;
            visit(raw, encoder.crossInto(raw, encoder.encodeInto(example.features, raw)), labelOf(example, index));
          });
        } else {
          await forEachRow(false, visit, trainEnd);
        }
      };
      const weightOf = (y: 0 | 1): number => (y === 0 ? negativeWeight : 1);
      // Fold 1's base logits in order (its first MAX_CHOOSE_ROWS rows choose; the rest sit out),
      // so that each selection step only reads the rows' slots and the chosen pairs' corrections.
      let logits = new Float64Array(1024);
      let learnRows = 0;
      let chooseRows = 0;
      /** One past the last training row that chooses: the selection steps read no further. */
      let chooseEnd = 0;
      if (screen.active) {
        // The first read learns the corrections on fold 0 and keeps fold 1's base logits; each
        // later read of fold 1 is one forward-selection step (the first assesses every pair).
        await forEachRow(
          false,
          (rowSlots, n, y, row) => {
            if (trainingFold(row) === 0) {
              screen.learn(rowSlots, baseLogit(rowSlots, n, counts), y, weightOf(y));
              learnRows++;
              return;
            }
            if (chooseRows === MAX_CHOOSE_ROWS) return;
            if (chooseRows === logits.length) {
              const grown = new Float64Array(Math.min(MAX_CHOOSE_ROWS, logits.length * 2));
              grown.set(logits);
              logits = grown;
            }
            logits[chooseRows++] = baseLogit(rowSlots, n, counts);
            chooseEnd = row + 1;
          },
          0,
          trainEnd,
        );
        do {
          let j = 0;
          await forEachRow(
            false,
            (rowSlots, _n, y, row) => {
              if (trainingFold(row) === 0) return;
              screen.assess(rowSlots, logits[j++]!, y, weightOf(y));
            },
            0,
            chooseEnd,
          );
        } while (screen.step(maxCrosses));
      }
      const selected = screen.chosen;
      const report: Record<string, unknown> = {
        selection: 'screened',
        pairs: screen.active ? screen.pairs : 0,
        buckets: screen.buckets,
        rows: {
          split: 'the training rows in two folds by a hash of the row index',
          learned_on: 'training rows, fold 0',
          chosen_on: 'training rows, fold 1',
          decided_on: 'all held-out rows',
          early_stopping_on: 'all held-out rows',
          learn_rows: learnRows,
          choose_rows: chooseRows,
          decision_rows: result.validationRows,
        },
        screened: selected.map(describeScreened),
        crosses: [],
        validation_logloss_without: result.bestLoss,
        validation_logloss_with: null,
        decision: null,
      };
      crossReport = report;
      options.onCrosses?.({
        stage: 'chosen',
        pairs: screen.active ? screen.pairs : 0,
        learnRows,
        chooseRows,
        crosses: selected.map((c) => c.cross),
      });
      if (selected.length > 0) {
        const fieldCounts = counts.slice();
        const withCrosses = selected.map((s) => s.cross);
        await useCrosses(withCrosses);
        const crossed = await run(maxPasses, trainEnd, stopEarly, false);
        report.validation_logloss_with = crossed.bestLoss;
        // The decision: both models' log loss on each held-out row, paired.
        const paired = new PairedGain();
        const withSlots = new Uint32Array(Math.max(1, maxWidth));
        const best = crossed.best;
        await readHeldOut((raw, n, y) => {
          const without = baseLogit(raw, fieldCount, fieldCounts);
          for (let i = 0; i < n; i++) withSlots[i] = raw[i]!;
          applyRareSlots(withSlots, n, counts, minCount, rareSlots);
          const logit = best.bias + logRate + rowScore(withSlots, n, best.weights, best.factors, k, sums, fieldCount);
          paired.add(rowLogLoss(sigmoid(without), y), rowLogLoss(sigmoid(logit), y), weightOf(y));
        });
        const keep = paired.keeps();
        const decided = paired.summary();
        options.onCrosses?.({
          stage: 'decided',
          crosses: withCrosses,
          kept: keep,
          gain: decided.gain,
          se: decided.se,
          rows: decided.rows,
          minSe: KEEP_MIN_SE,
        });
        report.decision = {
          rule: `keep when the mean per-row gain on the held-out rows is at least ${KEEP_MIN_SE} standard errors above 0`,
          held_out: decided,
          kept: keep,
        };
        if (keep) {
          result = crossed;
          report.crosses = withCrosses.map(crossName);
        } else {
          encoder.setCrosses([]);
          resetRareSlots();
          counts.set(fieldCounts);
        }
      }
    }
  }
  const passesRun = history.length;
  const earlyStopping = { best_pass: result.bestPass, validation_logloss: result.bestLoss };
  let refitted = false;
  if (internalValidation && refit) {
    result = await run(result.bestPass, rows, false, true);
    refitted = true;
  }
  const { weights, factors, state } = result.best;
  let bias = result.best.bias;
  const optimizer: OptimizerState = {
    ftrl: { ...ftrl },
    z: state.z instanceof Float32Array ? state.z : Float32Array.from(state.z),
    n: state.n instanceof Float32Array ? state.n : Float32Array.from(state.n),
    g: state.g,
    bias_n: state.biasN,
  };

  // 3. A last read of all training rows (not down-sampled): the bias recalibration (with the ln r
  // correction), and the rows each field's rare token stood for. The rare token is trained, so
  // its count must say so: the artifact stores factors only for slots with a count, and the
  // uncertainty reads the count as evidence.
  let recalibrated = false;
  const solve = recalibrate && positives > 0 && positives < rows;
  const width = encoder.width;
  const rareRows = new Float64Array(width);
  if (solve || minCount > 1) {
    const histogram = new Float64Array(HISTOGRAM_BINS);
    const factorSlots = fieldCount;
    await forEachRow(false, (rowSlots, n, y) => {
      for (let i = 0; i < n; i++) if (counts[rowSlots[i]!]! < minCount) rareRows[i]! += 1;
      applyRareSlots(rowSlots, n, counts, minCount, rareSlots);
      if (!solve) return;
      const t = rowScore(rowSlots, n, weights, factors, k, sums, factorSlots);
      const bin = Math.floor((t - HISTOGRAM_MIN) * HISTOGRAM_BINS_PER_UNIT);
      histogram[bin < 0 ? 0 : bin >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : bin]! += y === 0 ? negativeWeight : 1;
    });
    if (solve) {
      bias = solveBias(histogram, logRate, positives);
      recalibrated = true;
    }
  }
  for (let i = 0; i < width; i++) counts[rareSlots[i]!]! += rareRows[i]!;

  const storedCounts = new Uint16Array(size);
  for (let i = 0; i < size; i++) storedCounts[i] = Math.min(counts[i]!, MAX_COUNT);

  return {
    format_version: FORMAT_VERSION,
    algorithm: ALGORITHM,
    hashing: encoder.hashing,
    fields: [...encoder.fields],
    hyperparameters: {
      linear_optimizer: 'ftrl-proximal',
      factor_optimizer: 'adagrad',
      alpha: ftrl.alpha,
      beta: ftrl.beta,
      l1: ftrl.l1,
      l2: ftrl.l2,
      factors: fm.factors,
      factor_learning_rate: fm.factorLearningRate,
      factor_l2: fm.factorL2,
      factor_init_scale: fm.factorInitScale,
      factor_min_count: fm.factorMinCount,
      min_count: minCount,
      max_passes: maxPasses,
      patience,
      min_improvement: minImprovement,
      validation_fraction: options.validation ? null : validationFraction,
      refit,
      sampling_seed: samplingSeed,
      data_negative_rate: dataRate,
      recalibrate,
      max_crosses: options.crosses || warmInit ? null : maxCrosses,
    },
    training_window: options.trainingWindow ?? null,
    metrics: {
      training_rows: rows,
      training_positives: positives,
      passes: passesRun,
      best_pass: earlyStopping.best_pass,
      early_stopping: options.validation ? 'validation source' : internalValidation ? 'held-out tail' : 'none',
      held_out_rows: internalValidation ? heldOut : 0,
      refit: refitted,
      bias_recalibrated: recalibrated,
      train_logloss: result.trainLoss,
      validation_rows: stopEarly ? (internalValidation ? heldOut : result.validationRows) : null,
      validation_logloss: earlyStopping.validation_logloss,
      history,
      warm_start: warmDecision,
      crosses: crossReport,
    },
    negative_sampling_rate: rate * dataRate,
    weights,
    bias,
    factor_dim: k,
    factors,
    crosses: encoder.crosses.map(([a, b]) => [a, b] as const),
    counts: storedCounts,
    min_count: minCount,
    training_click_rate: positives / (positives + (rows - positives) * negativeWeight),
    created_at: (options.createdAt ?? new Date()).toISOString(),
    metadata: { ...(options.metadata ?? {}) },
    optimizer,
  };
}
