/**
 * Chooses a model's crosses: the pairs of fields whose value pairs earn a weight of their own.
 *
 * A factorization machine learns every pairwise interaction through k shared factors per value,
 * which fits a few strong interactions between low-cardinality fields (ad category × hour, device ×
 * position) only coarsely. A cross of two fields gives each pair of their values one linear
 * weight, which learns such an interaction exactly, but crossing every pair adds many noisy
 * weights. So the trainer screens every pair of fields against the model it has just trained
 * without crosses, choosing on that model's training rows and deciding on its held-out rows:
 *
 * 1. over fold 0 of the training rows (the rows that model learned from, split in two by a hash
 *    of their index), for each candidate pair and each of a fixed number of buckets of its cross
 *    values (the cross slot modulo the bucket count), sum the gradient G = Σ w·(y − p) and the
 *    curvature H = Σ w·p(1 − p) of the log loss at the model's predictions p;
 * 2. a cross value's correction to the logit is then one Newton step shrunk towards 0 by a
 *    Gaussian prior: δ = G / (H + λ). A well-fitted model leaves G near 0 for every single value
 *    (that is what fitting its weight means), so a large G in a cross value is an interaction the
 *    model missed;
 * 3. over fold 1 of the training rows (rows the corrections were not learned from; see
 *    trainingFold), the gain of a pair is the mean decrease of the log loss when each row's logit
 *    moves by its cross value's δ, with its standard error from the same rows. Step 1 learns on
 *    fold 0 only, so a noise pair's corrections carry nothing about fold 1's labels. A pair counts
 *    only when its gain is at least MIN_T = 2 standard errors above 0. This is a screen, not the
 *    decision: a Bonferroni correction for the pairs assessed (z ≈ 3.5 for 190 pairs) rejected
 *    every pair of the synthetic benchmark's data, while the pairs it rejected lowered the
 *    held-out log loss from 0.07932 to 0.07804. With hundreds of pairs screened, a few noise pairs
 *    pass it by chance;
 * 4. the pairs are chosen greedily (forward selection, one more read of fold 1 per pair): the best
 *    pair first, then the pair whose δ adds the most on top of the corrections of the pairs
 *    already chosen. Pairs that carry the same interaction (user segment × ad category and user
 *    segment × campaign) would double its correction, so the second of them no longer gains and a
 *    different interaction is chosen instead. The later steps consider only the 3·max best pairs
 *    of the first.
 *
 * Memory is fixed: two float32 per bucket per pair, side by side (G then H, so an update touches
 * one cache line; the bucket count shrinks as the number of pairs grows, within CELL_BUDGET; once
 * fold 0 is in they become δ and e^δ − 1 in place), four float64 per pair, and a block of up to
 * 8 192 rows' field slots (within 4 MB) that are learned or assessed one pair at a time. None of
 * it grows with the rows. A pair of high-cardinality fields (user × ad) folds many values into
 * each bucket: their corrections average out and the pair shows no gain, which is the right
 * verdict at this evidence.
 *
 * The trainer then trains the model with the chosen crosses from scratch and keeps it only when it
 * beats the model without them on the held-out rows (later in time), rows that took no part in
 * choosing the crosses: the per-row log-loss differences (without − with) must average at least
 * KEEP_MIN_SE = 2 standard errors above 0 (PairedGain; train.ts). Judging on the rows that chose
 * the crosses would "confirm" whatever noise the screen let through. The training rows choose, so
 * that every held-out row can decide: choosing on half of the held-out rows and deciding on the
 * other half (the previous rule) left the decision too few rows to confirm real interactions.
 */
import { type Cross, crossBasis, crossSlot } from './encoding.js';
import { sigmoid } from './kernel.js';

/** Buckets per pair, at most (a pair of fields with up to a few thousand value pairs fits). */
export const MAX_BUCKETS = 4096;
/** Fewer buckets than this per pair and screening is skipped (too many fields to pair). */
const MIN_BUCKETS = 64;
/** Buckets in all, at most: two float32 each (G and H) = 32 MB. */
const CELL_BUDGET = 2 ** 22;
/**
 * Training rows gathered before they are added to G and H pair by pair (see CrossScreen.learn), at
 * most; fewer when the fields are many, so that their slots stay within BLOCK_SLOTS (4 MB).
 */
const BLOCK_ROWS = 8192;
const BLOCK_SLOTS = 2 ** 20;
/** Prior precision of a cross value's correction, in units of Fisher information (prior sd ≈ 0.3). */
export const CROSS_PRIOR_PRECISION = 10;
/** A pair is chosen only when its gain on fold 1 is at least this many standard errors above 0. */
export const MIN_T = 2;
/**
 * The crosses are kept only when their paired gain on the held-out rows is at least this many
 * standard errors above 0: a one-sided test at about 2.3 % of keeping crosses that do not help. It
 * is one test per training (the crosses are fixed before the held-out rows are read for it), so no
 * correction for multiplicity; and the cost is asymmetric in the right direction for a default: a
 * refused cross loses its gain, a kept noise cross adds weights that the refit on all rows then
 * fits to noise.
 */
export const KEEP_MIN_SE = 2;

/** Which fold of the training rows: 0 learns the crosses' corrections, 1 chooses the crosses. */
export type TrainingFold = 0 | 1;

/**
 * The fold of training row `index`. A hash of the index, not its time: both folds span the whole
 * training period, and no period in the rows (alternate rows, a daily cycle) lines up with it.
 * Deterministic, so every read puts a row in the same fold.
 */
export function trainingFold(index: number): TrainingFold {
  let h = Math.imul(index ^ 0x2c1b3c6d, 0x297a2d39);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h & 1) as TrainingFold;
}

/**
 * The paired comparison of two models on the same rows: the weighted mean of the per-row log-loss
 * differences (without − with: positive when the second model is better) and its standard error.
 */
export class PairedGain {
  #sum = 0;
  #sum2 = 0;
  #weight = 0;
  #rows = 0;
  #lossWithout = 0;
  #lossWith = 0;

  add(lossWithout: number, lossWith: number, weight: number): void {
    const d = lossWithout - lossWith;
    this.#sum += weight * d;
    this.#sum2 += weight * d * d;
    this.#weight += weight;
    this.#rows++;
    this.#lossWithout += weight * lossWithout;
    this.#lossWith += weight * lossWith;
  }

  get rows(): number {
    return this.#rows;
  }

  /** Mean log loss of each model, the mean gain, its standard error (all 0 without rows). */
  summary(): { rows: number; logloss_without: number; logloss_with: number; gain: number; se: number } {
    const w = this.#weight;
    if (w <= 0) return { rows: 0, logloss_without: 0, logloss_with: 0, gain: 0, se: 0 };
    const mean = this.#sum / w;
    return {
      rows: this.#rows,
      logloss_without: this.#lossWithout / w,
      logloss_with: this.#lossWith / w,
      gain: mean,
      se: standardError(this.#sum2 / w - mean * mean, w, this.#rows),
    };
  }

  /** Whether the second model wins: a gain above 0 by at least KEEP_MIN_SE standard errors. */
  keeps(): boolean {
    const { gain, se } = this.summary();
    return gain > 0 && gain >= KEEP_MIN_SE * se;
  }
}

/** A paired log-loss gain with its standard error, signed, for people: `+0.00068 ± 0.00027`. */
export function formatPairedGain(gain: number, se: number): string {
  return `${gain >= 0 ? '+' : '−'}${Math.abs(gain).toFixed(5)} ± ${se.toFixed(5)}`;
}

/** The standard error of a weighted mean; the effective sample size is at most the row count. */
function standardError(variance: number, weight: number, rows: number): number {
  return Math.sqrt(Math.max(0, variance) / Math.min(weight, rows));
}

export interface ScreenedCross {
  readonly cross: Cross;
  /** Mean log-loss decrease per row of fold 1 (weighted as the validation loss is). */
  readonly gain: number;
  /** Its standard error. */
  readonly se: number;
}

export class CrossScreen {
  readonly pairs: number;
  readonly buckets: number;
  readonly #fields: readonly string[];
  readonly #a: Uint32Array;
  readonly #b: Uint32Array;
  readonly #basis: Int32Array;
  /** Bucket c of pair q: G at 2·(q·buckets + c), H right after it (one cache line per update). */
  readonly #gh: Float32Array;
  readonly #gain: Float64Array;
  readonly #gain2: Float64Array;
  /** Fold-1 rows assessed this step, and their weight. */
  #assessedWeight = 0;
  #assessedRows = 0;
  /** Whether #gh holds (δ, e^δ − 1) (assessing) rather than (G, H) (learning). */
  #prepared = false;
  /**
   * Training rows not yet added to G and H: their field slots (field by field: field i of row r at
   * i·blockSize + r), gradients and curvatures. Adding a block of rows one pair at a time keeps
   * that pair's buckets in the cache (32 KB at 4 096 buckets) for thousands of updates, instead of
   * one update per pair per row across all pairs' buckets (24 MB for 741 pairs); each bucket still
   * sums its rows in row order, so G and H are the same to the bit.
   */
  readonly #blockSize: number;
  readonly #blockSlots: Uint32Array;
  readonly #blockG: Float64Array;
  readonly #blockH: Float64Array;
  /** Assessing: the rows' labels (#blockG holds their logits, #blockH their weights). */
  readonly #blockY: Uint8Array;
  /** The #gh cell of each row of the block for the pair at hand (#cellsOf). */
  readonly #blockCells: Int32Array;
  #blockRows = 0;
  /** The pairs this step assesses, and those chosen so far (indices into the pairs). */
  #candidates: Uint32Array;
  readonly #chosen: number[] = [];
  readonly #chosenScreens: ScreenedCross[] = [];

  /** Screens every pair of `fields` (the encoder's, in order) under the model's hash seed. */
  constructor(fields: readonly string[], seed: number) {
    this.#fields = fields;
    const n = fields.length;
    this.pairs = (n * (n - 1)) / 2;
    let buckets = MAX_BUCKETS;
    while (buckets >= MIN_BUCKETS && buckets * this.pairs > CELL_BUDGET) buckets /= 2;
    this.buckets = this.pairs > 0 && buckets >= MIN_BUCKETS ? buckets : 0;
    const pairs = this.buckets > 0 ? this.pairs : 0;
    this.#a = new Uint32Array(pairs);
    this.#b = new Uint32Array(pairs);
    this.#basis = new Int32Array(pairs);
    let p = 0;
    for (let i = 0; i < n && pairs > 0; i++) {
      for (let j = i + 1; j < n; j++, p++) {
        this.#a[p] = i;
        this.#b[p] = j;
        this.#basis[p] = crossBasis(fields[i]!, fields[j]!, seed);
      }
    }
    this.#gh = new Float32Array(2 * pairs * this.buckets);
    this.#blockSize = pairs > 0 ? Math.max(1, Math.min(BLOCK_ROWS, Math.floor(BLOCK_SLOTS / n))) : 0;
    this.#blockSlots = new Uint32Array(this.#blockSize * n);
    this.#blockG = new Float64Array(this.#blockSize);
    this.#blockH = new Float64Array(this.#blockSize);
    this.#blockY = new Uint8Array(this.#blockSize);
    this.#blockCells = new Int32Array(this.#blockSize);
    this.#gain = new Float64Array(pairs);
    this.#gain2 = new Float64Array(pairs);
    this.#candidates = new Uint32Array(pairs);
    for (let q = 0; q < pairs; q++) this.#candidates[q] = q;
  }

  /**
   * Turns each bucket's (G, H) into (δ, e^δ − 1) in place, once every training row is in: the
   * gains then cost one log per pair and row instead of an exp, a log and a division.
   */
  #prepare(): void {
    this.#flush();
    const gh = this.#gh;
    for (let cell = 0; cell < gh.length; cell += 2) {
      if (gh[cell] === 0) continue;
      const delta = gh[cell]! / (gh[cell + 1]! + CROSS_PRIOR_PRECISION);
      gh[cell] = delta;
      gh[cell + 1] = Math.expm1(delta);
    }
    this.#prepared = true;
  }

  /** False when there are too many fields to pair within the memory budget (or fewer than 2). */
  get active(): boolean {
    return this.buckets > 0;
  }

  /** A row of fold 0: its raw field slots, the model's logit (on the traffic's scale), label, weight. */
  learn(raw: Uint32Array, logit: number, y: 0 | 1, weight: number): void {
    if (this.buckets === 0) return;
    if (this.#prepared) throw new Error('CrossScreen.learn after assess: every learned row must come first');
    const p = sigmoid(logit);
    const r = this.#gather(raw);
    this.#blockG[r] = weight * (y - p);
    this.#blockH[r] = weight * p * (1 - p);
    if (this.#blockRows === this.#blockSize) this.#flush();
  }

  /** Adds a row's field slots to the block (field by field); returns its place in the block. */
  #gather(raw: Uint32Array): number {
    const r = this.#blockRows++;
    const width = this.#fields.length;
    const size = this.#blockSize;
    const slots = this.#blockSlots;
    for (let i = 0, at = r; i < width; i++, at += size) slots[at] = raw[i]!;
    return r;
  }

  /** Adds the block's rows to G and H, one pair at a time. */
  #flush(): void {
    const rows = this.#blockRows;
    if (rows === 0) return;
    this.#blockRows = 0;
    const GH = this.#gh;
    const G = this.#blockG;
    const H = this.#blockH;
    for (let q = 0; q < this.#a.length; q++) {
      const cells = this.#cellsOf(q, rows);
      for (let r = 0; r < rows; r++) {
        const cell = cells[r]!;
        GH[cell]! += G[r]!;
        GH[cell + 1]! += H[r]!;
      }
    }
  }

  /** Where in #gh each of the block's first `rows` rows falls for pair q (its bucket's first cell). */
  #cellsOf(q: number, rows: number): Int32Array {
    const cells = this.#blockCells;
    const mask = this.buckets - 1;
    const base = 2 * this.buckets * q;
    const bq = this.#basis[q]!;
    const slots = this.#blockSlots;
    const ia = this.#a[q]! * this.#blockSize;
    const ib = this.#b[q]! * this.#blockSize;
    for (let r = 0; r < rows; r++) cells[r] = base + 2 * crossSlot(bq, slots[ia + r]!, slots[ib + r]!, mask);
    return cells;
  }

  /**
   * A row of fold 1: how much each candidate pair's correction, on top of the corrections of the
   * pairs chosen so far, changes its log loss. Call it only once every row of fold 0 was learned.
   * Rows are gathered in blocks and assessed one pair at a time, as they are learned.
   */
  assess(raw: Uint32Array, logit: number, y: 0 | 1, weight: number): void {
    if (this.buckets === 0) return;
    if (!this.#prepared) this.#prepare();
    const r = this.#gather(raw);
    this.#blockG[r] = logit;
    this.#blockH[r] = weight;
    this.#blockY[r] = y;
    this.#assessedWeight += weight;
    this.#assessedRows++;
    if (this.#blockRows === this.#blockSize) this.#flushAssessed();
  }

  /** Adds the gathered rows' gains, one candidate pair at a time. */
  #flushAssessed(): void {
    const rows = this.#blockRows;
    if (rows === 0 || !this.#prepared) return;
    this.#blockRows = 0;
    const gh = this.#gh;
    const logits = this.#blockG;
    const weights = this.#blockH;
    const labels = this.#blockY;
    // Each row's probability after the corrections of the pairs chosen so far, into #blockG.
    for (const q of this.#chosen) {
      const cells = this.#cellsOf(q, rows);
      for (let r = 0; r < rows; r++) logits[r]! += gh[cells[r]!]!;
    }
    for (let r = 0; r < rows; r++) logits[r] = sigmoid(logits[r]!);
    // With p = σ(logit), moving the logit by δ changes the row's log loss by
    // log(1 + p·(e^δ − 1)) − y·δ, so its gain is y·δ − log1p(p·(e^δ − 1)).
    const candidates = this.#candidates;
    const gain = this.#gain;
    const gain2 = this.#gain2;
    for (let c = 0; c < candidates.length; c++) {
      const q = candidates[c]!;
      const cells = this.#cellsOf(q, rows);
      let sum = 0;
      let sum2 = 0;
      for (let r = 0; r < rows; r++) {
        const cell = cells[r]!;
        const delta = gh[cell]!;
        // A bucket no training row reached corrects nothing: its gain is exactly 0.
        if (delta === 0) continue;
        const shift = Math.log1p(logits[r]! * gh[cell + 1]!);
        const d = labels[r] === 1 ? delta - shift : -shift;
        const w = weights[r]!;
        sum += w * d;
        sum2 += w * d * d;
      }
      gain[q]! += sum;
      gain2[q]! += sum2;
    }
  }

  /** This step's candidates with their gain on fold 1 and its standard error, largest gain first. */
  ranked(): (ScreenedCross & { readonly pair: number })[] {
    this.#flushAssessed();
    const out: (ScreenedCross & { pair: number })[] = [];
    const w = this.#assessedWeight;
    if (w <= 0) return out;
    for (const q of this.#candidates) {
      const mean = this.#gain[q]! / w;
      const se = standardError(this.#gain2[q]! / w - mean * mean, w, this.#assessedRows);
      out.push({ cross: [this.#fields[this.#a[q]!]!, this.#fields[this.#b[q]!]!], gain: mean, se, pair: q });
    }
    return out.sort((x, y) => y.gain - x.gain);
  }

  /**
   * Ends a pass over fold 1: chooses this step's best pair if its gain is at least MIN_T standard
   * errors above 0. True when another step (another read of fold 1) may choose one more, given at
   * most `max` pairs in all.
   */
  step(max: number): boolean {
    const significant = this.ranked().filter((s) => s.gain > 0 && s.gain >= MIN_T * s.se);
    const best = significant[0];
    if (best === undefined) return false;
    this.#chosen.push(best.pair);
    this.#chosenScreens.push({ cross: best.cross, gain: best.gain, se: best.se });
    const rest = this.#chosen.length === 1 ? significant.slice(1, 3 * max) : significant.slice(1);
    this.#candidates = Uint32Array.from(rest.map((s) => s.pair));
    this.#gain.fill(0);
    this.#gain2.fill(0);
    this.#assessedWeight = 0;
    this.#assessedRows = 0;
    return this.#chosen.length < max && this.#candidates.length > 0;
  }

  /** The pairs chosen, in order, each with its gain at the step that chose it. */
  get chosen(): readonly ScreenedCross[] {
    return this.#chosenScreens;
  }
}
