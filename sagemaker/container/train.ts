/**
 * `train` of the SageMaker container contract: reads the `train` (and optional `validation`)
 * channel and hyperparameters.json, trains, and writes the artifact to the model dir, which
 * SageMaker then packs as model.tar.gz. The same readers and trainer as `adclick train`.
 *
 * Progress and per-pass metrics go to stdout as `name=value` lines, so a training job's metric
 * definitions (regexes over the log) can chart them. A failure writes its reason to
 * /opt/ml/output/failure, which SageMaker shows as the job's FailureReason, and exits 1.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DATA_FORMATS, type DataFormat, openTrainingData, parseColumnList } from '../data/index.js';
import { HYPERPARAMETERS, HyperparameterError, parseHyperparameter } from '../hyperparameters.js';
import { saveModel } from '../model/artifact.js';
import { type TrainOptions, trainModel } from '../model/train.js';
import { containerPaths } from './paths.js';

/** The keys of hyperparameters.json beyond the trainer's own. */
const DATA_KEYS = ['format', 'categorical', 'numeric'] as const;

interface JobConfig {
  readonly format: DataFormat;
  readonly categorical: string[];
  readonly numeric: string[];
  readonly options: TrainOptions;
}

function columns(value: unknown, key: string): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'string') throw new HyperparameterError(`${key} must be comma-separated column names`);
  return parseColumnList(value);
}

/** hyperparameters.json as SageMaker writes it: every value a string. A missing file means defaults. */
export function readJobConfig(file: string): JobConfig {
  let raw: Record<string, unknown> = {};
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new HyperparameterError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new HyperparameterError(`${file} must hold a JSON object`);
    }
    raw = parsed as Record<string, unknown>;
  }
  const options: Record<string, unknown> = {};
  const known = new Map(HYPERPARAMETERS.map((h) => [h.name, h]));
  for (const [key, value] of Object.entries(raw)) {
    // SageMaker adds its own keys (sagemaker_*, and _tuning_objective_metric under tuning).
    if (key.startsWith('sagemaker_') || key.startsWith('_') || (DATA_KEYS as readonly string[]).includes(key)) continue;
    const h = known.get(key);
    if (!h) {
      throw new HyperparameterError(
        `unknown hyperparameter ${key}; known: ${[...DATA_KEYS, ...HYPERPARAMETERS.map((x) => x.name)].join(', ')}`,
      );
    }
    options[h.option] = parseHyperparameter(h, value);
  }
  const format = raw.format ?? 'csv';
  if (!(DATA_FORMATS as readonly unknown[]).includes(format)) {
    throw new HyperparameterError(`format must be one of ${DATA_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  return {
    format: format as DataFormat,
    categorical: columns(raw.categorical, 'categorical'),
    numeric: columns(raw.numeric, 'numeric'),
    options: options as TrainOptions,
  };
}

/**
 * The one data file of a channel: the channel may be the file itself or a folder holding exactly
 * one file (hidden files and zero-byte markers such as _SUCCESS aside).
 */
export function channelFile(channel: string, name: string, required: boolean): string | null {
  if (!existsSync(channel)) {
    if (required) throw new Error(`the ${name} channel ${channel} does not exist`);
    return null;
  }
  if (statSync(channel).isFile()) return channel;
  const files = readdirSync(channel)
    .filter((f) => !f.startsWith('.') && !f.startsWith('_'))
    .map((f) => join(channel, f))
    .filter((f) => statSync(f).isFile() && statSync(f).size > 0)
    .sort();
  if (files.length === 1) return files[0]!;
  if (files.length === 0) {
    if (required) throw new Error(`the ${name} channel ${channel} holds no data file`);
    return null;
  }
  throw new Error(`the ${name} channel ${channel} holds ${files.length} files; give it exactly one`);
}

function fail(failureFile: string, err: unknown): number {
  const reason = `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`;
  process.stderr.write(`training failed: ${reason}\n`);
  try {
    mkdirSync(dirname(failureFile), { recursive: true });
    // SageMaker shows the first 1024 characters as the FailureReason.
    writeFileSync(failureFile, reason.slice(0, 1024));
  } catch {
    // The reason is on stderr (CloudWatch) either way.
  }
  return 1;
}

/** Runs a training job; returns the process exit code. */
export async function train(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const paths = containerPaths(env);
  try {
    const config = readJobConfig(paths.hyperparametersFile);
    const trainFile = channelFile(paths.trainChannel, 'train', true)!;
    const validationFile = channelFile(paths.validationChannel, 'validation', false);
    const data = openTrainingData(trainFile, {
      format: config.format,
      validationPath: validationFile ?? undefined,
      overrides: { categorical: config.categorical, numeric: config.numeric },
    });
    const log = (line: string) => process.stdout.write(`${line}\n`);
    log(`train_rows=${data.trainScan.rows} train_clicks=${data.trainScan.positives}`);
    const started = performance.now();
    const model = await trainModel(data.train.examples(), {
      ...config.options,
      ...(data.validation ? { validation: data.validation.examples() } : {}),
      fields: data.train.fields,
      metadata: { ...data.metadata },
      onPass: (r) =>
        log(
          `pass=${r.pass}${r.refit ? ' refit=true' : ''} train_logloss=${r.train_logloss} validation_logloss=${r.validation_logloss ?? 'nan'}`,
        ),
    });
    await saveModel(paths.modelDir, model);
    const seconds = (performance.now() - started) / 1000;
    log(`train_seconds=${seconds.toFixed(3)} final_validation_logloss=${model.metrics.validation_logloss ?? 'nan'}`);
    log(`model saved to ${paths.modelDir}`);
    return 0;
  } catch (err) {
    return fail(paths.failureFile, err);
  }
}
