/**
 * The bootstrap model: trained at first start on simulated traffic so that /predict works at
 * once, before any real traffic has been logged. It is clearly labelled as such (metadata.source
 * = 'bootstrap'); the first retrain on real traffic replaces it.
 *
 * The simulated rows are split in time order: the first 80 % train, the next 10 % are the
 * validation slice for early stopping, the last 10 % are the holdout the metrics are measured on.
 */
import { type ModelManifest, saveModel } from './model/artifact.js';
import { evaluate, logLoss } from './model/metrics.js';
import { createScorer } from './model/scorer.js';
import { type TrainOptions, trainModel } from './model/train.js';
import { type SimulatorOptions, simulatedExamples } from './simulate.js';

export interface BootstrapOptions {
  /** Simulated rows in all (default 200 000). */
  readonly rows?: number;
  /** Simulator seed (default 1). */
  readonly seed?: number;
  /** Hash bits (default 20). */
  readonly bits?: number;
  /** Simulator world size (defaults: see createSimulator). */
  readonly simulator?: Omit<SimulatorOptions, 'seed'>;
  /** Trainer options (hyper-parameters, down-sampling). */
  readonly train?: Omit<TrainOptions, 'validation' | 'bits' | 'metadata' | 'trainingWindow' | 'fields'>;
}

export interface BootstrapMetrics {
  /** Holdout rows. */
  rows: number;
  positives: number;
  observed_rate: number;
  mean_prediction: number;
  logloss: number;
  auc: number | null;
  normalized_entropy: number | null;
  calibration: number | null;
  /** Log loss of always predicting the training CTR. */
  baseline_logloss: number;
  /** Log loss of the true probabilities (the best any model can do). */
  oracle_logloss: number;
  /** Mean true click probability over the holdout (mean_prediction / this = noise-free calibration). */
  mean_true_probability: number;
  training_rows: number;
  validation_rows: number;
  passes: number;
  seconds: number;
}

export interface BootstrapResult {
  dir: string;
  metrics: BootstrapMetrics;
  manifest: ModelManifest;
}

export async function trainBootstrapModel(outDir: string, options: BootstrapOptions = {}): Promise<BootstrapResult> {
  const started = performance.now();
  const rows = options.rows ?? 200_000;
  if (!Number.isInteger(rows) || rows < 100) throw new RangeError(`rows must be an integer >= 100, got ${rows}`);
  const seed = options.seed ?? 1;
  const world: SimulatorOptions = { ...options.simulator, seed };
  const trainEnd = Math.floor(rows * 0.8);
  const validationEnd = Math.floor(rows * 0.9);

  const model = await trainModel(() => simulatedExamples(world, 0, trainEnd), {
    ...options.train,
    bits: options.bits ?? 20,
    validation: () => simulatedExamples(world, trainEnd, validationEnd),
  });

  // Holdout: the time-latest slice, never seen by training or early stopping.
  const scorer = createScorer(model);
  const holdoutRows = rows - validationEnd;
  const predictions = new Float64Array(holdoutRows);
  const truth = new Float64Array(holdoutRows);
  const labels = new Uint8Array(holdoutRows);
  let i = 0;
  for (const example of simulatedExamples(world, validationEnd, rows)) {
    predictions[i] = scorer.score(example.features).probability;
    truth[i] = example.trueProbability;
    labels[i] = example.label;
    i++;
  }
  const holdout = evaluate(predictions, labels);
  const training = model.metrics as { training_rows: number; training_positives: number; passes: number };
  const trainingRate = training.training_positives / training.training_rows;
  const baseline = logLoss(new Float64Array(holdoutRows).fill(trainingRate), labels);
  const oracle = logLoss(truth, labels);

  const metrics: BootstrapMetrics = {
    ...holdout,
    baseline_logloss: baseline,
    oracle_logloss: oracle,
    mean_true_probability: truth.reduce((a, b) => a + b, 0) / holdoutRows,
    training_rows: trainEnd,
    validation_rows: validationEnd - trainEnd,
    passes: training.passes,
    seconds: 0,
  };
  metrics.seconds = Math.round(performance.now() - started) / 1000;
  const manifest = await saveModel(outDir, {
    ...model,
    training_window: null,
    metrics: {
      ...metrics,
      holdout: 'simulated traffic, time-latest 10 % of the rows',
      training: model.metrics,
    },
    metadata: {
      source: 'bootstrap',
      description:
        'Bootstrap model trained on simulated traffic (sagemaker/simulate.ts) so that /predict works before any real traffic; retrain on real traffic to replace it.',
      trained_on: 'simulated data',
      simulator_seed: seed,
      simulated_rows: rows,
    },
  });
  return { dir: outDir, metrics, manifest };
}
