import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTrainingData } from '../../../sagemaker/data/open.js';
import {
  CROSS_PRIOR_PRECISION,
  CrossScreen,
  KEEP_MIN_SE,
  MAX_BUCKETS,
  MIN_T,
  PairedGain,
  type ScreenedCross,
  trainingFold,
} from '../../../sagemaker/model/cross-selection.js';
import { type Cross, crossBasis, crossSlot } from '../../../sagemaker/model/encoding.js';
import { rowLogLoss } from '../../../sagemaker/model/metrics.js';
import { createRandom } from '../../../sagemaker/model/prng.js';
import { sigmoid } from '../../../sagemaker/model/scorer.js';
import { trainModel } from '../../../sagemaker/model/train.js';
import { parityRows, type TrueExample } from './parity-rows.js';

/**
 * The screen as it was before its buckets were interleaved, its training rows added in blocks and
 * its gains computed from a precomputed e^δ − 1 (G and H in two arrays, one update of every pair
 * per row, each gain as the difference of two log losses), kept here only to check that the
 * faster screen chooses the same pairs with the same gains.
 */
class ReferenceScreen {
  readonly buckets: number;
  readonly #fields: readonly string[];
  readonly #a: number[] = [];
  readonly #b: number[] = [];
  readonly #basis: number[] = [];
  readonly #g: Float32Array;
  readonly #h: Float32Array;
  readonly #gain: Float64Array;
  readonly #gain2: Float64Array;
  #heldWeight = 0;
  #heldRows = 0;
  #candidates: number[] = [];
  readonly #chosen: number[] = [];
  readonly chosen: ScreenedCross[] = [];

  constructor(fields: readonly string[], seed: number) {
    this.#fields = fields;
    for (let i = 0; i < fields.length; i++) {
      for (let j = i + 1; j < fields.length; j++) {
        this.#a.push(i);
        this.#b.push(j);
        this.#basis.push(crossBasis(fields[i]!, fields[j]!, seed));
      }
    }
    const pairs = this.#a.length;
    this.buckets = MAX_BUCKETS;
    this.#g = new Float32Array(pairs * this.buckets);
    this.#h = new Float32Array(pairs * this.buckets);
    this.#gain = new Float64Array(pairs);
    this.#gain2 = new Float64Array(pairs);
    for (let q = 0; q < pairs; q++) this.#candidates.push(q);
  }

  #delta(q: number, raw: Uint32Array): number {
    const cell = q * this.buckets + crossSlot(this.#basis[q]!, raw[this.#a[q]!]!, raw[this.#b[q]!]!, this.buckets - 1);
    return this.#g[cell]! / (this.#h[cell]! + CROSS_PRIOR_PRECISION);
  }

  learn(raw: Uint32Array, logit: number, y: 0 | 1, weight: number): void {
    const p = sigmoid(logit);
    for (let q = 0; q < this.#a.length; q++) {
      const cell =
        q * this.buckets + crossSlot(this.#basis[q]!, raw[this.#a[q]!]!, raw[this.#b[q]!]!, this.buckets - 1);
      this.#g[cell]! += weight * (y - p);
      this.#h[cell]! += weight * p * (1 - p);
    }
  }

  assess(raw: Uint32Array, logit: number, y: 0 | 1, weight: number): void {
    let offset = logit;
    for (const q of this.#chosen) offset += this.#delta(q, raw);
    const before = rowLogLoss(sigmoid(offset), y);
    for (const q of this.#candidates) {
      const d = before - rowLogLoss(sigmoid(offset + this.#delta(q, raw)), y);
      this.#gain[q]! += weight * d;
      this.#gain2[q]! += weight * d * d;
    }
    this.#heldWeight += weight;
    this.#heldRows++;
  }

  step(max: number): boolean {
    const w = this.#heldWeight;
    const ranked = this.#candidates
      .map((q) => {
        const mean = this.#gain[q]! / w;
        const variance = Math.max(0, this.#gain2[q]! / w - mean * mean);
        const se = Math.sqrt(variance / Math.min(w, this.#heldRows));
        return { cross: [this.#fields[this.#a[q]!]!, this.#fields[this.#b[q]!]!] as Cross, gain: mean, se, pair: q };
      })
      .sort((x, y) => y.gain - x.gain);
    const significant = ranked.filter((s) => s.gain > 0 && s.gain >= MIN_T * s.se);
    const best = significant[0];
    if (best === undefined) return false;
    this.#chosen.push(best.pair);
    this.chosen.push({ cross: best.cross, gain: best.gain, se: best.se });
    const rest = this.#chosen.length === 1 ? significant.slice(1, 3 * max) : significant.slice(1);
    this.#candidates = rest.map((s) => s.pair);
    this.#gain.fill(0);
    this.#gain2.fill(0);
    this.#heldWeight = 0;
    this.#heldRows = 0;
    return this.#chosen.length < max && this.#candidates.length > 0;
  }
}

interface ScreenRow {
  readonly raw: Uint32Array;
  readonly logit: number;
  readonly y: 0 | 1;
  readonly weight: number;
}

/**
 * Rows of `fields` fields whose click rate has two planted interactions (fields 0 × 1 and 2 × 3)
 * that the given logit (a main-effects model's) leaves out; negatives weigh 2, as after a
 * down-sampling at 1/2.
 */
function screenRows(seed: number, count: number, fields: number): ScreenRow[] {
  const rng = createRandom(seed);
  const out: ScreenRow[] = [];
  for (let r = 0; r < count; r++) {
    const raw = new Uint32Array(fields);
    for (let f = 0; f < fields; f++) raw[f] = f * 1000 + rng.int(f < 4 ? 6 : 40);
    const logit = -1.5;
    const truth = logit + ((raw[0]! + raw[1]!) % 2 === 0 ? 0.8 : -0.8) + (raw[2]! % 3 === raw[3]! % 3 ? 0.6 : 0);
    const y = rng.next() < sigmoid(truth) ? 1 : 0;
    out.push({ raw, logit, y, weight: y === 0 ? 2 : 1 });
  }
  return out;
}

/** Runs a screen to the end: learns the training rows, then forward selection on the held-out rows. */
function screen(
  s: { learn: CrossScreen['learn']; assess: CrossScreen['assess']; step(max: number): boolean },
  train: readonly ScreenRow[],
  held: readonly ScreenRow[],
  max: number,
): void {
  for (const r of train) s.learn(r.raw, r.logit, r.y, r.weight);
  do {
    for (const r of held) s.assess(r.raw, r.logit, r.y, r.weight);
  } while (s.step(max));
}

/** Parity rows (parity-rows.ts) with each field's own effect and `noise` fields of 8 values that carry nothing. */
function rows(seed: number, count: number, interaction: number, noise: number): TrueExample[] {
  return parityRows(seed, count, {
    interaction,
    main: 0.3,
    extra: (rng) => Object.fromEntries(Array.from({ length: noise }, (_, f) => [`n${f}`, `v${rng.int(8)}`])),
  });
}

interface Decision {
  readonly held_out: { rows: number; gain: number; se: number };
  readonly kept: boolean;
}

function crossReport(model: Awaited<ReturnType<typeof trainModel>>) {
  return model.metrics.crosses as {
    rows: { learn_rows: number; choose_rows: number; decision_rows: number };
    screened: { cross: string }[];
    crosses: string[];
    decision: Decision | null;
  };
}

describe('trainingFold', () => {
  it('puts each training row in exactly one fold, the same fold on every read, about half in each', () => {
    // Prepare
    const indices = Array.from({ length: 10_000 }, (_, i) => i);

    // Act
    const first = indices.map(trainingFold);
    const again = indices.map(trainingFold);

    // Assess
    expect(new Set(first)).toEqual(new Set([0, 1]));
    expect(again).toEqual(first);
    const a = first.filter((h) => h === 0).length;
    expect(Math.abs(a - 5_000)).toBeLessThan(200);
  });

  it('follows no pattern of the rows order: alternate rows and runs of rows are both split', () => {
    // Act
    const even = Array.from({ length: 2_000 }, (_, i) => trainingFold(2 * i)).filter((h) => h === 0).length;
    const odd = Array.from({ length: 2_000 }, (_, i) => trainingFold(2 * i + 1)).filter((h) => h === 0).length;
    const firstRun = Array.from({ length: 500 }, (_, i) => trainingFold(i)).filter((h) => h === 0).length;

    // Assess
    for (const count of [even / 2_000, odd / 2_000, firstRun / 500]) {
      expect(count).toBeGreaterThan(0.4);
      expect(count).toBeLessThan(0.6);
    }
  });
});

describe('PairedGain', () => {
  it('is the mean per-row loss difference with its standard error, and refuses below 2 standard errors', () => {
    // Prepare: differences 0.5, -0.2, 0.3, 0.2 (mean 0.2, variance 0.065, se √(0.065 / 4)).
    const paired = new PairedGain();

    // Act
    paired.add(1, 0.5, 1);
    paired.add(0.2, 0.4, 1);
    paired.add(0.6, 0.3, 1);
    paired.add(0.7, 0.5, 1);
    const summary = paired.summary();

    // Assess
    expect(summary.rows).toBe(4);
    expect(summary.gain).toBeCloseTo(0.2, 12);
    expect(summary.se).toBeCloseTo(Math.sqrt(0.065 / 4), 12);
    expect(summary.logloss_without).toBeCloseTo(0.625, 12);
    expect(summary.logloss_with).toBeCloseTo(0.425, 12);
    expect(KEEP_MIN_SE).toBe(2);
    expect(paired.keeps()).toBe(false);
  });

  it('keeps a steady gain and refuses a loss or no rows', () => {
    // Prepare
    const steady = new PairedGain();
    const worse = new PairedGain();
    const empty = new PairedGain();

    // Act
    for (let i = 0; i < 50; i++) {
      steady.add(0.5, i % 2 === 0 ? 0.4 : 0.45, 1);
      worse.add(0.4, 0.5, 2);
    }

    // Assess
    expect(steady.keeps()).toBe(true);
    expect(worse.keeps()).toBe(false);
    expect(worse.summary().gain).toBeCloseTo(-0.1, 12);
    expect(empty.keeps()).toBe(false);
  });
});

describe('CrossScreen with its buckets side by side, its training rows added in blocks and its gains from e^δ − 1', () => {
  it('chooses the same pairs with the same gains and errors as the screen it replaces, to float32 rounding', () => {
    // Prepare: more training rows than a block holds, so full blocks and a partial one are added.
    const fields = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
    const train = screenRows(1, 20_000, fields.length);
    const held = screenRows(2, 3_000, fields.length);
    const reference = new ReferenceScreen(fields, 7);
    const current = new CrossScreen(fields, 7);

    // Act
    screen(reference, train, held, 4);
    screen(current, train, held, 4);

    // Assess
    expect(current.buckets).toBe(reference.buckets);
    expect(current.chosen.length).toBeGreaterThanOrEqual(2);
    expect(current.chosen.map((c) => c.cross)).toEqual(reference.chosen.map((c) => c.cross));
    // δ and e^δ − 1 are kept as float32 (the G and H they replace were float32 already).
    current.chosen.forEach((c, i) => {
      const r = reference.chosen[i]!;
      expect(Math.abs(c.gain - r.gain)).toBeLessThanOrEqual(1e-6 * Math.abs(r.gain));
      expect(Math.abs(c.se - r.se)).toBeLessThanOrEqual(1e-6 * r.se);
    });
    expect(current.chosen.slice(0, 2).map((s) => s.cross.join('&'))).toEqual(
      expect.arrayContaining(['f0&f1', 'f2&f3']),
    );
  });
});

describe('CrossScreen order of rows', () => {
  it('refuses a row to learn from once assessing has begun', () => {
    // Prepare
    const fields = ['f0', 'f1', 'f2'];
    const rows = screenRows(3, 100, fields.length);
    const s = new CrossScreen(fields, 7);
    for (const r of rows.slice(0, 50)) s.learn(r.raw, r.logit, r.y, r.weight);
    s.assess(rows[50]!.raw, rows[50]!.logit, rows[50]!.y, rows[50]!.weight);

    // Act
    const late = () => s.learn(rows[51]!.raw, rows[51]!.logit, rows[51]!.y, rows[51]!.weight);

    // Assess
    expect(late).toThrow(/learn after assess/);
  });
});

describe('trainModel choosing crosses on the training rows and keeping them on the held-out rows', () => {
  it('learns on one fold of the training rows, chooses on the other and decides on every held-out row', async () => {
    // Prepare
    const train = rows(1, 6_000, 1.2, 2);

    // Act
    const model = await trainModel(() => train, { bits: 14, factors: 0 });
    const report = crossReport(model);

    // Assess
    const { learn_rows, choose_rows, decision_rows } = report.rows;
    const trainingRows = 6_000 - (model.metrics.held_out_rows as number);
    expect(learn_rows + choose_rows).toBe(trainingRows);
    expect(choose_rows).toBe(
      Array.from({ length: trainingRows }, (_, i) => trainingFold(i)).filter((f) => f === 1).length,
    );
    expect(decision_rows).toBe(model.metrics.held_out_rows);
    expect(report.decision?.held_out.rows).toBe(decision_rows);
  });

  it('chooses on all the training rows and decides on an explicit validation source', async () => {
    // Prepare
    const train = rows(1, 6_000, 1.2, 2);
    const validation = rows(2, 1_000, 1.2, 2);

    // Act
    const model = await trainModel(() => train, { bits: 14, factors: 0, validation: () => validation });
    const report = crossReport(model);

    // Assess
    const { learn_rows, choose_rows, decision_rows } = report.rows;
    expect(learn_rows + choose_rows).toBe(6_000);
    expect(decision_rows).toBe(1_000);
    expect(report.decision?.held_out.rows).toBe(1_000);
  });

  it('finds and keeps a strong planted interaction on a small training set', async () => {
    // Prepare: 4 000 rows, so 400 held-out rows decide.
    const train = rows(3, 4_000, 1.2, 2);

    // Act
    const model = await trainModel(() => train, { bits: 14, factors: 0 });
    const report = crossReport(model);

    // Assess
    expect(model.crosses).toEqual([['group', 'category']]);
    expect(report.crosses).toEqual(['group&category']);
    expect(report.decision?.kept).toBe(true);
    expect(report.decision!.held_out.gain).toBeGreaterThanOrEqual(KEEP_MIN_SE * report.decision!.held_out.se);
  });

  it('keeps no cross when no pair interacts', async () => {
    // Prepare: no interaction and 24 noise fields (325 pairs).
    const additive = rows(4, 8_000, 0, 24);

    // Act
    const model = await trainModel(() => additive, { bits: 16, factors: 0 });
    const report = crossReport(model);

    // Assess
    expect(report.decision?.kept ?? false).toBe(false);
    expect(report.crosses).toEqual([]);
    expect(model.crosses).toEqual([]);
  });

  it('refuses crosses the training rows chose when the held-out rows no longer hold the interaction', async () => {
    // Prepare: the interaction holds in the first 7 200 rows and is gone from the last 800 (the
    // time-latest 10 % that early stopping and the decision read).
    const train = [...rows(6, 7_200, 1.2, 2), ...rows(7, 800, 0, 2)];

    // Act
    const model = await trainModel(() => train, { bits: 14, factors: 0 });
    const report = crossReport(model);

    // Assess
    expect(report.screened.map((s) => s.cross)).toContain('group&category');
    expect(report.decision?.kept).toBe(false);
    expect(report.decision!.held_out.gain).toBeLessThan(KEEP_MIN_SE * report.decision!.held_out.se);
    expect(report.crosses).toEqual([]);
    expect(model.crosses).toEqual([]);
  });

  it('chooses and decides the same streaming a csv file, whose selection reads end early', async () => {
    // Prepare: the rows in a file, so that a read ended at the last choosing row closes the reader
    // and the next read opens it again.
    const dir = mkdtempSync(join(tmpdir(), 'adclick-crosses-'));
    const rowsOf = rows(5, 5_000, 1.2, 3);
    const names = Object.keys(rowsOf[0]!.features);
    const lines = rowsOf.map((r) => [...names.map((n) => r.features[n]), r.label].join(','));
    const file = join(dir, 'train.csv');
    writeFileSync(file, `${[...names, 'click'].join(',')}\n${lines.join('\n')}\n`);
    const data = openTrainingData(file, { format: 'csv' });
    const options = { bits: 14, factors: 0, fields: data.train.fields };

    try {
      // Act
      const cached = await trainModel(data.train.examples(), options);
      const streamed = await trainModel(data.train.examples(), { ...options, maxCachedSlots: 0 });

      // Assess
      const report = crossReport(cached);
      expect(report.rows.choose_rows).toBeGreaterThan(0);
      expect(streamed.metrics.crosses).toEqual(cached.metrics.crosses);
      expect(Buffer.from(streamed.weights.buffer)).toEqual(Buffer.from(cached.weights.buffer));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chooses and decides the same, streaming the rows or from the cache', async () => {
    // Prepare
    const train = rows(5, 5_000, 1.2, 3);

    // Act
    const cached = await trainModel(() => train, { bits: 14, factors: 0 });
    const streamed = await trainModel(() => train, { bits: 14, factors: 0, maxCachedSlots: 0 });

    // Assess
    expect(crossReport(cached).decision).not.toBeNull();
    expect(streamed.metrics.crosses).toEqual(cached.metrics.crosses);
    expect(Buffer.from(streamed.weights.buffer)).toEqual(Buffer.from(cached.weights.buffer));
  });
});
