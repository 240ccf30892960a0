import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainArguments } from '../../../bin/commands/build-training-set.js';
import { buildTrainingSet } from '../../../lambdas/adapters/local/duckdb/training-set.js';
import { trainBootstrapModel } from '../../../sagemaker/bootstrap.js';
import { adclick } from '../cli/model-cli.js';
import { writeSimulatedLake } from './simulated-lake.js';

// The "done when": a model trained on the built set beats the bootstrap model on a later
// holdout. The bootstrap model is trained, as at the server's first start, on simulated traffic;
// the lake holds traffic of another world (the real one, for the bootstrap), with a known truth.
const TRAFFIC = { seed: 7 };
const TRAIN_IMPRESSIONS = 100_000;
const HOLDOUT_IMPRESSIONS = 40_000;

interface Metrics {
  logloss: number;
  mean_pred: number;
  rows: number;
}

async function evaluate(model: string, data: string): Promise<Metrics> {
  const run = await adclick(['evaluate', '--model', model, '--data', data]);
  if (run.code !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as Metrics;
}

describe('a model trained on the built training set', () => {
  let root: string;
  let holdoutTruth: number;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'training-set-model-'));
    const lakeDir = join(root, 'lake');
    await writeSimulatedLake({
      lakeDir,
      simulator: TRAFFIC,
      impressions: TRAIN_IMPRESSIONS,
      start: new Date('2026-11-11T00:00:00Z'),
      hours: 48,
      prefix: 't',
    });
    // The same traffic, continued: the holdout is time-later than every training row.
    const holdout = await writeSimulatedLake({
      lakeDir,
      simulator: TRAFFIC,
      skip: TRAIN_IMPRESSIONS,
      impressions: HOLDOUT_IMPRESSIONS,
      start: new Date('2026-11-13T00:00:00Z'),
      hours: 12,
      prefix: 'h',
    });
    holdoutTruth = holdout.meanTrueProbability;
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('beats the bootstrap model on a later holdout and stays calibrated after down-sampling', async () => {
    // Prepare
    const lakeDir = join(root, 'lake');
    const cutoff = new Date('2026-11-14T00:00:00Z');
    const built = await buildTrainingSet({
      lakeDir,
      from: new Date('2026-11-11T00:00:00Z'),
      to: new Date('2026-11-13T00:00:00Z'),
      cutoff,
      negativeRate: 0.25,
      csvPath: join(root, 'train.csv'),
    });
    await buildTrainingSet({
      lakeDir,
      from: new Date('2026-11-13T00:00:00Z'),
      to: new Date('2026-11-13T12:00:00Z'),
      cutoff,
      csvPath: join(root, 'holdout.csv'),
      writeLake: false,
    });
    const bootstrap = await trainBootstrapModel(join(root, 'bootstrap'));

    // Act
    const train = await adclick([
      'train',
      ...['--data', join(root, 'train.csv'), ...trainArguments(built), '--out', join(root, 'model'), '--no-progress'],
    ]);
    const [trained, baseline] = await Promise.all([
      evaluate(join(root, 'model'), join(root, 'holdout.csv')),
      evaluate(bootstrap.dir, join(root, 'holdout.csv')),
    ]);

    // Assess
    expect(train.code, train.stderr).toBe(0);
    expect(built.negatives).toBeLessThan(0.3 * (TRAIN_IMPRESSIONS - built.positives));
    expect(trained.rows).toBe(HOLDOUT_IMPRESSIONS);
    expect(trained.logloss).toBeLessThan(baseline.logloss);
    // Calibration against the true click probability, free of the holdout's click noise.
    expect(trained.mean_pred / holdoutTruth).toBeGreaterThan(0.9);
    expect(trained.mean_pred / holdoutTruth).toBeLessThan(1.1);
  });
});
