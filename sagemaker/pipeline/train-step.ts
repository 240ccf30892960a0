/**
 * The retraining pipeline's training step (docs/retraining.md): the training set's csv and a
 * hyperparameters.json in, a model folder out. It parses hyperparameters.json with the SageMaker
 * container's own reader and trains with the same readers and trainer, so `adclick retrain` and
 * the pipeline's training job (which runs the container's `train`) turn the same inputs into the
 * same model. Beside the container, it records the training window in the model, and reports
 * through a callback rather than stdout (the CLI's `--json` owns stdout).
 *
 * With `warmStart` (a model folder, normally the champion's) the trainer continues from that
 * model's parameters and optimizer state when its encoding is compatible, and trains fresh saying
 * why when it is not (sagemaker/model/warm-start.ts); the result says which ran. Fresh is the
 * default: the caller decides (docs/retraining.md says why `adclick retrain` defaults to fresh).
 *
 * CLI: `tsx sagemaker/pipeline/train-step.ts --data FILE --hyperparameters FILE --out DIR
 * [--from TIME --to TIME] [--warm-start MODEL_DIR | --fresh]`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readJobConfig } from '../container/train.js';
import { openTrainingData } from '../data/index.js';
import { saveModel } from '../model/artifact.js';
import { trainModel } from '../model/train.js';
import { describeWarmStart, loadWarmStart, NOT_REQUESTED, type WarmStartDecision } from '../model/warm-start.js';

export interface TrainStepOptions {
  /** The training set's csv (the contract of `adclick train`). */
  readonly data: string;
  /** hyperparameters.json as SageMaker writes it (every value a string). */
  readonly hyperparametersFile: string;
  readonly modelDir: string;
  readonly trainingWindow?: { from: string; to: string };
  readonly metadata?: Record<string, string | number | boolean | null>;
  /** The folder of a model to warm start from (absent: fresh). */
  readonly warmStart?: string;
  readonly log?: (line: string) => void;
}

export interface TrainStepResult {
  readonly modelDir: string;
  readonly rows: number;
  readonly positives: number | null;
  readonly passes: number | null;
  readonly validationLogloss: number | null;
  /** Whether the warm start asked for ran, and if not why (also in the model's metrics). */
  readonly warmStart: WarmStartDecision;
  readonly seconds: number;
}

/** Writes the hyperparameters.json of a training job (values as strings, as SageMaker passes them). */
export async function writeHyperparameters(file: string, values: Record<string, string | number>): Promise<void> {
  const strings = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  await writeFile(file, `${JSON.stringify(strings, null, 2)}\n`);
}

export async function trainStep(options: TrainStepOptions): Promise<TrainStepResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const config = readJobConfig(options.hyperparametersFile);
  const data = openTrainingData(options.data, {
    format: config.format,
    overrides: { categorical: config.categorical, numeric: config.numeric },
  });
  log(`train_rows=${data.trainScan.rows} train_clicks=${data.trainScan.positives}`);
  const warmStart = options.warmStart ? await loadWarmStart(options.warmStart) : undefined;
  let decision: WarmStartDecision = NOT_REQUESTED;
  const model = await trainModel(data.train.examples(), {
    ...config.options,
    ...(warmStart ? { warmStart } : {}),
    onWarmStart: (d) => {
      decision = d;
      log(describeWarmStart(d));
    },
    fields: data.train.fields,
    metadata: { ...data.metadata, ...options.metadata },
    ...(options.trainingWindow ? { trainingWindow: options.trainingWindow } : {}),
    onPass: (r) =>
      log(
        `pass=${r.pass}${r.refit ? ' refit=true' : ''} train_logloss=${r.train_logloss} validation_logloss=${r.validation_logloss ?? 'nan'}`,
      ),
  });
  await saveModel(options.modelDir, model);
  const metrics = model.metrics as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    modelDir: options.modelDir,
    rows: data.trainScan.rows,
    positives: data.trainScan.positives,
    passes: num(metrics.passes),
    validationLogloss: num(metrics.validation_logloss),
    warmStart: decision,
    seconds: (performance.now() - started) / 1000,
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      hyperparameters: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'warm-start': { type: 'string' },
      fresh: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.data || !values.out) {
    throw new Error('usage: train-step --data FILE [--hyperparameters FILE] --out DIR [--warm-start DIR | --fresh]');
  }
  if (values.fresh && values['warm-start']) throw new Error('--warm-start and --fresh exclude each other');
  const result = await trainStep({
    data: values.data,
    hyperparametersFile: values.hyperparameters ?? join(values.out, '.no-hyperparameters.json'),
    modelDir: values.out,
    ...(values.from && values.to ? { trainingWindow: { from: values.from, to: values.to } } : {}),
    ...(values['warm-start'] ? { warmStart: values['warm-start'] } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`train-step: ${err.message}\n`);
    process.exit(1);
  });
}
