import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model, saveModel } from '../../../sagemaker/model/artifact.js';
import { evaluate } from '../../../sagemaker/model/metrics.js';
import { OPTIMIZER_MANIFEST_FILE, OPTIMIZER_STATE_FILE } from '../../../sagemaker/model/optimizer-state.js';
import { createScorer } from '../../../sagemaker/model/scorer.js';
import { type Example, type TrainOptions, trainModel } from '../../../sagemaker/model/train.js';
import { loadWarmStart, type WarmStart, type WarmStartDecision } from '../../../sagemaker/model/warm-start.js';
import { type SimulatedExample, simulatedExamples } from '../../../sagemaker/simulate.js';
import { writeVersion1Artifact } from './helpers.js';

// One simulated world: the champion learns its first rows, a warm start the next ones, and both
// are judged on the rows after that.
const WORLD = { seed: 11 };
const ROWS = 40_000;
const championRows = () => simulatedExamples(WORLD, 0, ROWS);
const newRows = () => simulatedExamples(WORLD, ROWS, 2 * ROWS);
const later: SimulatedExample[] = [...simulatedExamples(WORLD, 2 * ROWS, 3 * ROWS)];
const laterLabels = Uint8Array.from(later, (e) => e.label);
const CREATED = new Date('2026-11-01T00:00:00Z');

function laterLogLoss(model: Model): number {
  const scorer = createScorer(model);
  return evaluate(
    Float64Array.from(later, (e) => scorer.score(e.features).probability),
    laterLabels,
  ).logloss;
}

/** The largest |logit difference| of two models over the first `count` later rows. */
function maxLogitGap(a: Model, b: Model, count = 5_000): number {
  const sa = createScorer(a);
  const sb = createScorer(b);
  let gap = 0;
  for (const e of later.slice(0, count)) {
    gap = Math.max(gap, Math.abs(sa.score(e.features).logit - sb.score(e.features).logit));
  }
  return gap;
}

// toEqual on a million-element array is far too slow; the bytes say the same.
const sameBytes = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const decisionOf = (model: Model) => model.metrics.warm_start as WarmStartDecision;

describe('warm start', () => {
  let work: string;
  let championDir: string;
  let champion: Model;
  let warm: WarmStart;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'adclick-warm-start-'));
    championDir = join(work, 'champion');
    champion = await trainModel(championRows, {
      createdAt: CREATED,
      trainingWindow: { from: '2026-10-01T00:00:00Z', to: '2026-10-08T00:00:00Z' },
    });
    await saveModel(championDir, champion);
    warm = await loadWarmStart(championDir);
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("continues from the champion's parameters: after one pass over 20 new rows it still scores like the champion", async () => {
    // Prepare
    const few = [...simulatedExamples(WORLD, ROWS, ROWS + 20)];
    const options: TrainOptions = { maxPasses: 1, validationFraction: 0, recalibrate: false };

    // Act
    const continued = await trainModel(() => few, { ...options, warmStart: warm });
    const fresh = await trainModel(() => few, options);

    // Assess
    expect(decisionOf(continued).used).toBe(true);
    expect(maxLogitGap(continued, champion)).toBeLessThan(0.1);
    expect(maxLogitGap(fresh, champion)).toBeGreaterThan(1);
    // A value the 20 rows do not hold keeps the champion's weight (up to the float32 state).
    const seen = new Set(few.map((e) => e.features.ad_id));
    const other = later.find((e) => !seen.has(e.features.ad_id))!;
    const weightOf = (m: Model) =>
      createScorer(m).score({ ad_id: other.features.ad_id! }, { explain: true }).explanation!.contributions.ad_id!;
    expect(weightOf(champion)).not.toBe(0);
    expect(weightOf(continued)).toBeCloseTo(weightOf(champion), 5);
  });

  it('moves the bias to a new negative sampling rate, so the starting point still predicts like the champion', async () => {
    // Prepare
    const few = [...simulatedExamples(WORLD, ROWS, ROWS + 20)];

    // Act
    const continued = await trainModel(() => few, {
      maxPasses: 1,
      validationFraction: 0,
      recalibrate: false,
      negativeSamplingRate: 0.25,
      warmStart: warm,
    });

    // Assess: without the move the logits would be off by ln 4 ≈ 1.39.
    expect(continued.negative_sampling_rate).toBe(0.25);
    expect(maxLogitGap(continued, champion)).toBeLessThan(0.1);
  });

  it('reaches a lower log loss on later rows than the champion, and than a fresh model of the same new rows', async () => {
    // Act
    const continued = await trainModel(newRows, { warmStart: warm });
    const fresh = await trainModel(newRows, {});

    // Assess
    const [c, w, f] = [laterLogLoss(champion), laterLogLoss(continued), laterLogLoss(fresh)];
    expect(w).toBeLessThan(c);
    expect(w).toBeLessThan(f);
  });

  it("records the warm start in the model's metrics and tells onWarmStart", async () => {
    // Prepare
    const told: WarmStartDecision[] = [];
    const rows = [...simulatedExamples(WORLD, ROWS, ROWS + 2_000)].map((e) => ({
      features: { ...e.features, campaign_size: 'large' },
      label: e.label,
    }));

    // Act
    const model = await trainModel(() => rows, { maxPasses: 1, warmStart: warm, onWarmStart: (d) => told.push(d) });

    // Assess
    expect(told).toEqual([decisionOf(model)]);
    expect(decisionOf(model)).toMatchObject({
      requested: true,
      used: true,
      reason: null,
      source: championDir,
      from: { created_at: CREATED.toISOString(), training_window: champion.training_window },
      new_fields: ['campaign_size'],
      dropped_fields: [],
    });
  });

  it('trains without a warm start when none is asked for, and says so', async () => {
    // Act
    const model = await trainModel(() => simulatedExamples(WORLD, ROWS, ROWS + 2_000), { maxPasses: 1 });

    // Assess
    expect(decisionOf(model)).toMatchObject({ requested: false, used: false, reason: null });
  });

  it('takes the union of both vocabularies: counts add up, and a value only the champion saw keeps its weight', async () => {
    // Prepare: the champion saw ad "old" often and ad "both" twice; the new rows hold "both" twice and never "old".
    const row = (ad: string, label: number): Example => ({ features: { ad, device: 'd' }, label });
    const before = [
      ...Array.from({ length: 400 }, (_, i) => row('old', i % 4 === 0 ? 1 : 0)),
      ...Array.from({ length: 400 }, (_, i) => row(`x${i % 50}`, i % 9 === 0 ? 1 : 0)),
      row('both', 1),
      row('both', 0),
    ];
    const after = [
      ...Array.from({ length: 400 }, (_, i) => row(`x${i % 50}`, i % 7 === 0 ? 1 : 0)),
      row('both', 1),
      row('both', 0),
    ];
    const options: TrainOptions = { bits: 12, minCount: 3, factors: 0, validationFraction: 0, maxPasses: 2 };
    const dir = join(work, 'small');
    const small = await trainModel(() => before, options);
    await saveModel(dir, small);

    // Act
    const continued = await trainModel(() => after, { ...options, warmStart: await loadWarmStart(dir) });

    // Assess
    const read = (m: Model, ad: string) => {
      const s = createScorer(m).score({ ad, device: 'd' }, { explain: true, uncertainty: true });
      return { count: s.uncertainty!.evidence.ad, weight: s.explanation!.contributions.ad! };
    };
    expect(read(small, 'old').count).toBe(400);
    expect(read(continued, 'old').count).toBe(400);
    expect(read(continued, 'old').weight).not.toBe(0);
    expect(read(continued, 'old').weight).toBeCloseTo(read(small, 'old').weight, 5);
    // Rare in each window (2 < minCount 3), not in their union: trained as itself now.
    expect(read(small, 'both').count).toBe(2);
    expect(read(continued, 'both').count).toBe(4);
    expect(read(continued, 'x1').count).toBe(16);
  });

  describe('falls back to a fresh training and says why', () => {
    const rows = () => simulatedExamples(WORLD, ROWS, ROWS + 3_000);
    const base: TrainOptions = { maxPasses: 2, createdAt: CREATED };

    const cases: [string, () => Promise<WarmStart>, TrainOptions, RegExp][] = [
      ['other hashing bits', async () => warm, { bits: 18 }, /hashing bits are 20, the new training's 18/],
      ['another hash seed', async () => warm, { hashSeed: 7 }, /hash seed is 0, the new training's 7/],
      ['another factor count', async () => warm, { factors: 4 }, /8 factors per slot, the new training 4/],
      ['another FTRL alpha', async () => warm, { alpha: 0.1 }, /FTRL alpha is 0.05, the new training's 0.1/],
      [
        'a model saved without its optimizer state',
        async () => {
          const dir = join(work, 'resaved');
          await saveModel(dir, await loadModel(championDir));
          return loadWarmStart(dir);
        },
        {},
        /no usable optimizer state: it has no optimizer\.json/,
      ],
      [
        'an optimizer state left over from another model',
        async () => {
          const dir = join(work, 'leftover');
          await saveModel(dir, await trainModel(() => simulatedExamples(WORLD, 0, 2_000), { maxPasses: 1 }));
          await cp(join(championDir, OPTIMIZER_MANIFEST_FILE), join(dir, OPTIMIZER_MANIFEST_FILE));
          await cp(join(championDir, OPTIMIZER_STATE_FILE), join(dir, OPTIMIZER_STATE_FILE));
          return loadWarmStart(dir);
        },
        {},
        /belongs to other weights/,
      ],
      [
        'a version 1 artifact',
        async () => {
          const dir = join(work, 'v1');
          await writeVersion1Artifact(dir, {
            bits: 20,
            fields: ['ad_id'],
            weights: new Float32Array(2 ** 20),
            bias: -4,
          });
          return loadWarmStart(dir);
        },
        {},
        /format_version 1 artifact without slot counts/,
      ],
      [
        'a folder that holds no model',
        async () => loadWarmStart(join(work, 'nothing-here')),
        {},
        /cannot be loaded: model\.json is missing/,
      ],
    ];

    it.each(cases)('from %s', async (_name, source, options, reason) => {
      // Prepare
      const warmStart = await source();

      // Act
      const model = await trainModel(rows, { ...base, ...options, warmStart });
      const fresh = await trainModel(rows, { ...base, ...options });

      // Assess
      expect(decisionOf(model)).toMatchObject({ requested: true, used: false });
      expect(decisionOf(model).reason).toMatch(reason);
      expect(sameBytes(model.weights, fresh.weights)).toBe(true);
      expect(sameBytes(model.factors, fresh.factors)).toBe(true);
      expect(model.bias).toBe(fresh.bias);
    });

    it('from a model with no field in common with the new rows', async () => {
      // Act
      const model = await trainModel(
        () => [
          { features: { colour: 'red' }, label: 1 },
          { features: { colour: 'blue' }, label: 0 },
        ],
        {
          maxPasses: 1,
          warmStart: warm,
        },
      );

      // Assess
      expect(decisionOf(model).used).toBe(false);
      expect(decisionOf(model).reason).toMatch(/no field in common with the new rows/);
    });
  });
});
