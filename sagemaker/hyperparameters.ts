/**
 * The training hyperparameters a user can set, in one table: `adclick train` turns each into a
 * `--name` flag, and the SageMaker container reads the same names from hyperparameters.json
 * (where SageMaker passes every value as a string). One table keeps the two in step.
 */
import {
  DEFAULT_FACTORS,
  DEFAULT_FTRL,
  DEFAULT_MAX_CROSSES,
  DEFAULT_MAX_PASSES,
  DEFAULT_MIN_COUNT,
  DEFAULT_VALIDATION_FRACTION,
  type TrainOptions,
} from './model/train.js';

export interface Hyperparameter {
  /** Kebab-case name: the CLI flag without `--`, and the key in hyperparameters.json. */
  readonly name: string;
  readonly option: keyof TrainOptions;
  readonly kind: 'integer' | 'number' | 'boolean';
  readonly description: string;
  /** For a boolean that defaults to true: what turning it off does (the CLI's `--no-name`). */
  readonly off?: string;
}

export const HYPERPARAMETERS: readonly Hyperparameter[] = [
  { name: 'bits', option: 'bits', kind: 'integer', description: 'hash slots = 2^n (1..28, default 20)' },
  {
    name: 'passes',
    option: 'maxPasses',
    kind: 'integer',
    description: `most training passes (default ${DEFAULT_MAX_PASSES})`,
  },
  {
    name: 'patience',
    option: 'patience',
    kind: 'integer',
    description: 'passes without a better validation log loss before stopping (default 1)',
  },
  {
    name: 'min-improvement',
    option: 'minImprovement',
    kind: 'number',
    description: 'smallest validation log loss decrease that counts (default 1e-5)',
  },
  {
    name: 'alpha',
    option: 'alpha',
    kind: 'number',
    description: `FTRL learning-rate scale (default ${DEFAULT_FTRL.alpha})`,
  },
  {
    name: 'beta',
    option: 'beta',
    kind: 'number',
    description: `FTRL learning-rate smoothing (default ${DEFAULT_FTRL.beta})`,
  },
  { name: 'l1', option: 'l1', kind: 'number', description: `L1 of the linear weights (default ${DEFAULT_FTRL.l1})` },
  { name: 'l2', option: 'l2', kind: 'number', description: `L2 of the linear weights (default ${DEFAULT_FTRL.l2})` },
  {
    name: 'factors',
    option: 'factors',
    kind: 'integer',
    description: `latent factors per slot, 0 = logistic regression (default ${DEFAULT_FACTORS.factors})`,
  },
  {
    name: 'factor-learning-rate',
    option: 'factorLearningRate',
    kind: 'number',
    description: `AdaGrad learning rate of the factors (default ${DEFAULT_FACTORS.factorLearningRate})`,
  },
  {
    name: 'factor-l2',
    option: 'factorL2',
    kind: 'number',
    description: `L2 of the factors (default ${DEFAULT_FACTORS.factorL2})`,
  },
  {
    name: 'factor-init',
    option: 'factorInitScale',
    kind: 'number',
    description: `factors start uniform in ±x (default ${DEFAULT_FACTORS.factorInitScale})`,
  },
  {
    name: 'factor-min-count',
    option: 'factorMinCount',
    kind: 'integer',
    description: `values in fewer training rows get no factors, only a linear weight (default ${DEFAULT_FACTORS.factorMinCount})`,
  },
  {
    name: 'min-count',
    option: 'minCount',
    kind: 'integer',
    description: `values in fewer training rows share their column's rare token, 0 = off (default ${DEFAULT_MIN_COUNT})`,
  },
  {
    name: 'max-crosses',
    option: 'maxCrosses',
    kind: 'integer',
    description: `most crosses of two columns (a weight per value pair), chosen on the training rows and kept only if they lower the held-out log loss by 2 standard errors; 0 = none (default ${DEFAULT_MAX_CROSSES})`,
  },
  {
    name: 'negative-sampling-rate',
    option: 'negativeSamplingRate',
    kind: 'number',
    description: 'keep each negative row with probability r in (0, 1]; the model corrects for it (default 1)',
  },
  {
    name: 'data-negative-rate',
    option: 'dataNegativeRate',
    kind: 'number',
    description:
      "the data's negatives were already down-sampled at rate r in (0, 1] (build-training-set --negative-rate r; --valid's too); the model corrects for it (default 1)",
  },
  {
    name: 'seed',
    option: 'samplingSeed',
    kind: 'integer',
    description: 'seed of the down-sampling draws and the factor initialisation (default 1)',
  },
  { name: 'hash-seed', option: 'hashSeed', kind: 'integer', description: 'seed of the feature hash (default 0)' },
  {
    name: 'valid-frac',
    option: 'validationFraction',
    kind: 'number',
    description: `without a validation file: the time-latest fraction of the rows held out for early stopping (default ${DEFAULT_VALIDATION_FRACTION})`,
  },
  {
    name: 'refit',
    option: 'refit',
    kind: 'boolean',
    description:
      'after early stopping on held-out rows, retrain on all rows for the best number of passes (default true)',
    off: 'after early stopping on held-out rows, keep that model instead of retraining on all rows',
  },
  {
    name: 'recalibrate',
    option: 'recalibrate',
    kind: 'boolean',
    description: 'refit the bias at the end so that the mean prediction equals the click rate (default true)',
    off: 'skip the final bias refit that makes the mean prediction equal the click rate',
  },
];

/** A hyperparameter value that cannot be used; the message names it. */
export class HyperparameterError extends Error {
  override readonly name = 'HyperparameterError';
}

/** Parses one value given as text (a flag's argument, or SageMaker's stringified JSON value). */
export function parseHyperparameter(h: Hyperparameter, raw: unknown): number | boolean {
  if (h.kind === 'boolean') {
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    throw new HyperparameterError(`${h.name} must be true or false, got ${JSON.stringify(raw)}`);
  }
  const x = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(x)) throw new HyperparameterError(`${h.name} must be a number, got ${JSON.stringify(raw)}`);
  if (h.kind === 'integer' && !Number.isInteger(x)) {
    throw new HyperparameterError(`${h.name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  return x;
}
