import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../sagemaker/model/metrics.js';
import { createRandom } from '../../../sagemaker/model/prng.js';
import { createScorer } from '../../../sagemaker/model/scorer.js';
import { type Example, trainModel } from '../../../sagemaker/model/train.js';
import { type SimulatedExample, simulatedExamples } from '../../../sagemaker/simulate.js';

// Rows whose negatives were down-sampled before the trainer saw them, as `adclick
// build-training-set --negative-rate` writes them.
const WORLD = { seed: 21 };
const TRAIN = 100_000;
const VALIDATION = 10_000;
const RATE = 0.1;

function presampled(from: number, to: number, seed: number): Example[] {
  const draw = createRandom(seed);
  return [...simulatedExamples(WORLD, from, to)].filter((e) => e.label === 1 || draw.next() < RATE);
}

const training = presampled(0, TRAIN, 1);
const validation = presampled(TRAIN, TRAIN + VALIDATION, 2);
const holdout: SimulatedExample[] = [...simulatedExamples(WORLD, TRAIN + VALIDATION, TRAIN + VALIDATION + 50_000)];
const labels = Uint8Array.from(holdout, (e) => e.label);

function holdoutCalibration(model: Parameters<typeof createScorer>[0]): number {
  const scorer = createScorer(model);
  const p = Float64Array.from(holdout, (e) => scorer.score(e.features).probability);
  return evaluate(p, labels).calibration!;
}

describe('trainModel on rows down-sampled upstream', () => {
  it('restores the calibration on the full traffic when told the rate', async () => {
    // Act
    const model = await trainModel(() => training, { validation: () => validation, dataNegativeRate: RATE });

    // Assess
    expect(model.negative_sampling_rate).toBeCloseTo(RATE, 12);
    expect(model.hyperparameters.data_negative_rate).toBe(RATE);
    const calibration = holdoutCalibration(model);
    expect(calibration).toBeGreaterThan(0.9);
    expect(calibration).toBeLessThan(1.1);
  });

  it('over-predicts several-fold when not told the rows were down-sampled', async () => {
    // Act
    const model = await trainModel(() => training, { validation: () => validation });

    // Assess
    expect(model.negative_sampling_rate).toBe(1);
    expect(holdoutCalibration(model)).toBeGreaterThan(3);
  });

  it('stores the product of the upstream rate and its own down-sampling rate', async () => {
    // Act
    const model = await trainModel(() => training, {
      validation: () => validation,
      dataNegativeRate: RATE,
      negativeSamplingRate: 0.5,
    });

    // Assess
    expect(model.negative_sampling_rate).toBeCloseTo(RATE * 0.5, 12);
    const calibration = holdoutCalibration(model);
    expect(calibration).toBeGreaterThan(0.9);
    expect(calibration).toBeLessThan(1.1);
  });

  it('refuses a rate outside (0, 1]', async () => {
    // Act / Assess
    await expect(trainModel(() => training, { dataNegativeRate: 0 })).rejects.toThrow(/dataNegativeRate/);
    await expect(trainModel(() => training, { dataNegativeRate: 1.5 })).rejects.toThrow(/dataNegativeRate/);
  });
});
