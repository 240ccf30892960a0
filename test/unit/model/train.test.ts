import { describe, expect, it } from 'vitest';
import { loadModel, type Model, saveModel } from '../../../sagemaker/model/artifact.js';
import { evaluate, logLoss } from '../../../sagemaker/model/metrics.js';
import { createScorer } from '../../../sagemaker/model/scorer.js';
import { DEFAULT_FACTORS, type Example, type PassReport, trainModel } from '../../../sagemaker/model/train.js';
import { type SimulatedExample, simulatedExamples } from '../../../sagemaker/simulate.js';
import { tempDir } from './helpers.js';

const WORLD = { seed: 11 };
const TRAIN = 100_000;
const VALIDATION = 10_000;
const HOLDOUT = 100_000;

const training = () => simulatedExamples(WORLD, 0, TRAIN);
const validation = () => simulatedExamples(WORLD, TRAIN, TRAIN + VALIDATION);
/** Time-later rows no training step sees. */
const holdout: SimulatedExample[] = [...simulatedExamples(WORLD, TRAIN + VALIDATION, TRAIN + VALIDATION + HOLDOUT)];
const labels = Uint8Array.from(holdout, (e) => e.label);

function holdoutMetrics(model: Model) {
  const scorer = createScorer(model);
  const p = Float64Array.from(holdout, (e) => scorer.score(e.features).probability);
  return evaluate(p, labels);
}

function trainingRate(): number {
  let positives = 0;
  let rows = 0;
  for (const e of training()) {
    positives += e.label;
    rows++;
  }
  return positives / rows;
}

describe('trainModel on simulated traffic', () => {
  it('beats the constant-CTR baseline on held-out data and is well calibrated', async () => {
    // Prepare
    const baseline = logLoss(new Float64Array(HOLDOUT).fill(trainingRate()), labels);

    // Act
    const model = await trainModel(training, { validation });

    // Assess
    const m = holdoutMetrics(model);
    expect(m.logloss).toBeLessThan(baseline * 0.98);
    expect(m.auc!).toBeGreaterThan(0.6);
    expect(m.calibration!).toBeGreaterThan(0.9);
    expect(m.calibration!).toBeLessThan(1.1);
  });

  it('keeps calibration within 10 % when trained on down-sampled negatives', async () => {
    for (const recalibrate of [false, true]) {
      // Act
      const model = await trainModel(training, { validation, negativeSamplingRate: 0.1, recalibrate });

      // Assess
      expect(model.negative_sampling_rate).toBe(0.1);
      const corrected = holdoutMetrics(model);
      expect(corrected.calibration!).toBeGreaterThan(0.9);
      expect(corrected.calibration!).toBeLessThan(1.1);
      // Without the ln r correction the same weights would over-predict several-fold.
      const uncorrected = holdoutMetrics({ ...model, negative_sampling_rate: 1 });
      expect(uncorrected.calibration!).toBeGreaterThan(3);
    }
  });

  it('learns from all positives and about a fraction r of the negatives', async () => {
    // Prepare
    const reports: PassReport[] = [];
    let positives = 0;
    for (const e of training()) positives += e.label;

    // Act
    await trainModel(training, {
      negativeSamplingRate: 0.2,
      maxPasses: 1,
      validationFraction: 0,
      onPass: (r) => reports.push(r),
    });

    // Assess
    const expected = positives + 0.2 * (TRAIN - positives);
    expect(reports[0]!.rows).toBe(TRAIN);
    expect(Math.abs(reports[0]!.used - expected)).toBeLessThan(0.02 * expected);
  });
});

describe('trainModel', () => {
  const small = () => simulatedExamples({ seed: 12, users: 500, ads: 50, sites: 10 }, 0, 20_000);
  const smallValidation = () => simulatedExamples({ seed: 12, users: 500, ads: 50, sites: 10 }, 20_000, 25_000);

  it('is deterministic: the same rows and options give the same weights', async () => {
    // Act
    const a = await trainModel(small, { bits: 14, negativeSamplingRate: 0.5, validation: smallValidation });
    const b = await trainModel(small, { bits: 14, negativeSamplingRate: 0.5, validation: smallValidation });

    // Assess
    expect(Buffer.from(b.weights.buffer)).toEqual(Buffer.from(a.weights.buffer));
    expect(b.bias).toBe(a.bias);
  });

  it('trains the same from an async iterable as from an iterable', async () => {
    // Prepare
    async function* asyncRows(): AsyncGenerator<Example> {
      yield* small();
    }

    // Act
    const fromSync = await trainModel(small, { bits: 12, maxPasses: 2 });
    const fromAsync = await trainModel(asyncRows, { bits: 12, maxPasses: 2 });

    // Assess
    expect(Buffer.from(fromAsync.weights.buffer)).toEqual(Buffer.from(fromSync.weights.buffer));
  });

  it('stops when the validation log loss stops improving and returns the best pass', async () => {
    // Prepare
    const reports: PassReport[] = [];
    const tiny = () => simulatedExamples({ seed: 13, users: 200, ads: 300, sites: 50 }, 0, 3_000);
    const later = () => simulatedExamples({ seed: 13, users: 200, ads: 300, sites: 50 }, 3_000, 13_000);

    // Act
    const model = await trainModel(tiny, {
      alpha: 1,
      l1: 0,
      l2: 0,
      maxPasses: 30,
      patience: 2,
      recalibrate: false,
      maxCrosses: 0,
      validation: later,
      onPass: (r) => reports.push(r),
    });

    // Assess
    const losses = reports.map((r) => r.validation_logloss!);
    const best = losses.indexOf(Math.min(...losses)) + 1;
    expect(reports.length).toBeLessThan(30);
    expect(reports.length).toBe(best + 2);
    expect(model.metrics).toMatchObject({ best_pass: best, passes: reports.length });
    expect(model.metrics.validation_logloss).toBe(losses[best - 1]);
  });

  it('records its fields, hashing, hyper-parameters and sampling rate in a model saveModel accepts', async () => {
    // Prepare
    const dir = await tempDir();

    // Act
    const model = await trainModel(small, {
      bits: 12,
      hashSeed: 9,
      alpha: 0.07,
      negativeSamplingRate: 0.5,
      trainingWindow: { from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' },
      metadata: { job: 'unit-test' },
      createdAt: new Date('2026-03-08T01:00:00Z'),
    });
    await saveModel(dir, model);
    const loaded = await loadModel(dir);

    // Assess
    expect(loaded.fields).toEqual([
      'device_type',
      'location',
      'site_id',
      'position',
      'ad_id',
      'campaign_id',
      'advertiser_id',
      'category',
    ]);
    expect(loaded.hashing).toEqual({ bits: 12, hash: 'fnv1a32-fmix32', seed: 9 });
    expect(loaded.hyperparameters).toMatchObject({
      linear_optimizer: 'ftrl-proximal',
      factor_optimizer: 'adagrad',
      alpha: 0.07,
      beta: 1,
      l1: 0.5,
      l2: 1,
      factors: DEFAULT_FACTORS.factors,
      factor_min_count: DEFAULT_FACTORS.factorMinCount,
      min_count: 1,
    });
    expect(loaded.factor_dim).toBe(DEFAULT_FACTORS.factors);
    expect(loaded.factors).toHaveLength(2 ** 12 * DEFAULT_FACTORS.factors);
    expect(loaded.counts).toHaveLength(2 ** 12);
    expect(loaded.negative_sampling_rate).toBe(0.5);
    expect(loaded.training_window).toEqual({ from: '2026-03-01T00:00:00Z', to: '2026-03-08T00:00:00Z' });
    expect(loaded.metadata).toEqual({ job: 'unit-test' });
    expect(loaded.created_at).toBe('2026-03-08T01:00:00.000Z');
    expect(loaded.metrics).toMatchObject({ training_rows: 20_000, bias_recalibrated: true });
  });

  it('keeps weights of tokens it never saw at exactly zero (L1)', async () => {
    // Act
    const model = await trainModel(small, { bits: 20, maxPasses: 1 });

    // Assess
    const nonZero = model.weights.reduce((n, w) => n + (w === 0 ? 0 : 1), 0);
    expect(nonZero).toBeGreaterThan(0);
    expect(nonZero).toBeLessThan(1000);
  });

  it('trains the same model from its in-memory slot cache as by re-reading the source', async () => {
    // Prepare: every read the trainer makes (passes, held-out tail, refit, rare counts, recalibration)
    const options = {
      bits: 14,
      maxPasses: 3,
      minCount: 3,
      negativeSamplingRate: 0.5,
      factors: 4,
      factorMinCount: 0,
    } as const;

    // Act
    const cached = await trainModel(small, options);
    const streamed = await trainModel(small, { ...options, maxCachedSlots: 0 });
    const overflowed = await trainModel(small, { ...options, maxCachedSlots: 1000 });

    // Assess
    for (const other of [streamed, overflowed]) {
      expect(Buffer.from(other.weights.buffer)).toEqual(Buffer.from(cached.weights.buffer));
      expect(Buffer.from(other.factors!.buffer)).toEqual(Buffer.from(cached.factors!.buffer));
      expect(Buffer.from(other.counts!.buffer)).toEqual(Buffer.from(cached.counts!.buffer));
      expect(other.bias).toBe(cached.bias);
    }
  });

  it('trains the same when a field first appears after the first row (no cache then)', async () => {
    // Prepare: `late` is unknown until row 500, so earlier rows gain its missing token on re-reads.
    const rows = () =>
      [...small()].map((e, i) => (i >= 500 ? { ...e, features: { ...e.features, late: i % 2 === 0 ? 'a' : 'b' } } : e));

    // Act
    const cached = await trainModel(rows, { bits: 12, maxPasses: 2 });
    const streamed = await trainModel(rows, { bits: 12, maxPasses: 2, maxCachedSlots: 0 });

    // Assess
    expect(Buffer.from(streamed.weights.buffer)).toEqual(Buffer.from(cached.weights.buffer));
  });

  it('refuses a source that does not replay its rows on every pass', async () => {
    // Prepare
    const once = small();

    // Act: streaming (the in-memory slot cache would not need a second read)
    const attempt = trainModel(() => once, { bits: 10, maxPasses: 2, maxCachedSlots: 0 });

    // Assess
    await expect(attempt).rejects.toThrow(/must replay the same rows/);
  });

  it('refuses an empty source, a label other than 0/1 and a sampling rate outside (0, 1]', async () => {
    // Act
    const attempts = [
      trainModel(() => [], { bits: 10 }),
      trainModel(() => [{ features: {}, label: 2 }], { bits: 10 }),
      trainModel(small, { bits: 10, negativeSamplingRate: 0 }),
      trainModel(small, { bits: 10, negativeSamplingRate: 1.5 }),
      trainModel(small, { bits: 10, alpha: -1 }),
    ];

    // Assess
    for (const attempt of attempts) await expect(attempt).rejects.toThrow(RangeError);
  });
});
