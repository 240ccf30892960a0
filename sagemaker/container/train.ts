/**
 * `train` of the SageMaker container contract: reads the `train` (and optional `validation`)
 * channel and hyperparameters.json, trains, and writes the artifact to the model dir, which
 * SageMaker then packs as model.tar.gz. The same readers and trainer as `adclick train`.
 *
 * Progress and per-pass metrics go to stdout as `name=value` lines, so a training job's metric
 * definitions (regexes over the log) can chart them. A failure writes its reason to
 * /opt/ml/output/failure, which SageMaker shows as the job's FailureReason, and exits 1.
 *
 * Warm start: with the `warm-start` hyperparameter `warm`, the trainer continues from the model in
 * the `warm-start` channel (its folder or the model.tar.gz a training job wrote), as
 * `adclick retrain --warm-start` does; when it cannot (no model in the channel, an incompatible
 * encoding, no optimizer state) it trains fresh and says why, on stdout, in the model's
 * `metrics.warm_start` and in `warm-start.json` of the job's output data. `fresh` (the default)
 * leaves the channel unread: the pipeline always mounts the champion there.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DATA_FORMATS, type DataFormat, openTrainingData, parseColumnList } from '../data/index.js';
import { HYPERPARAMETERS, HyperparameterError, parseHyperparameter } from '../hyperparameters.js';
import { saveModel } from '../model/artifact.js';
import { holdsModel, modelFolder } from '../model/model-location.js';
import { type TrainOptions, trainModel } from '../model/train.js';
import {
  describeWarmStart,
  loadWarmStart,
  NOT_REQUESTED,
  type WarmStart,
  type WarmStartDecision,
} from '../model/warm-start.js';
import { containerPaths } from './paths.js';

/** The keys of hyperparameters.json beyond the trainer's own. */
const DATA_KEYS = ['format', 'categorical', 'numeric', 'warm-start'] as const;

/** `warm-start` values: the pipeline's WarmStart parameter (`fresh` | `warm`), or a boolean. */
const WARM_START_VALUES: Readonly<Record<string, boolean>> = { warm: true, true: true, fresh: false, false: false };

interface JobConfig {
  readonly format: DataFormat;
  readonly categorical: string[];
  readonly numeric: string[];
  /** Continue from the model of the `warm-start` channel (default false: fresh). */
  readonly warmStart: boolean;
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
  const warm = raw['warm-start'] ?? 'fresh';
  if (typeof warm !== 'string' || !(warm in WARM_START_VALUES)) {
    throw new HyperparameterError(`warm-start must be warm or fresh, got ${JSON.stringify(warm)}`);
  }
  return {
    format: format as DataFormat,
    categorical: columns(raw.categorical, 'categorical'),
    numeric: columns(raw.numeric, 'numeric'),
    warmStart: WARM_START_VALUES[warm]!,
    options: options as TrainOptions,
  };
}

/** The warm start of the channel, or why there is none (a fresh training then says so). */
async function channelWarmStart(channel: string, unpackTo: string): Promise<WarmStart> {
  if (!(await holdsModel(channel))) {
    return { model: null, source: channel, unavailable: `the warm-start channel ${channel} holds no model` };
  }
  try {
    return await loadWarmStart(await modelFolder(channel, unpackTo));
  } catch (err) {
    return { model: null, source: channel, unavailable: `the warm-start channel's model: ${(err as Error).message}` };
  }
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
  let work: string | undefined;
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
    let warmStart: WarmStart | undefined;
    if (config.warmStart) {
      work = await mkdtemp(join(tmpdir(), 'adclick-warm-start-'));
      warmStart = await channelWarmStart(paths.warmStartChannel, join(work, 'model'));
    }
    let decision: WarmStartDecision = NOT_REQUESTED;
    const started = performance.now();
    const model = await trainModel(data.train.examples(), {
      ...config.options,
      ...(warmStart ? { warmStart } : {}),
      onWarmStart: (d) => {
        decision = d;
      },
      ...(data.validation ? { validation: data.validation.examples() } : {}),
      fields: data.train.fields,
      metadata: { ...data.metadata },
      onPass: (r) =>
        log(
          `pass=${r.pass}${r.refit ? ' refit=true' : ''} train_logloss=${r.train_logloss} validation_logloss=${r.validation_logloss ?? 'nan'}`,
        ),
      // The pass lines after `crosses_chosen` belong to the model with those crosses.
      onCrosses: (e) =>
        log(
          e.stage === 'chosen'
            ? `crosses_chosen=${e.crosses.map(([a, b]) => `${a}&${b}`).join(',') || 'none'} pairs_screened=${e.pairs}`
            : `crosses_kept=${e.kept} crosses_gain=${e.gain} crosses_se=${e.se} decision_rows=${e.rows}`,
        ),
    });
    await saveModel(paths.modelDir, model);
    log(`warm_start=${decision.used} ${describeWarmStart(decision)}`);
    mkdirSync(paths.outputDataDir, { recursive: true });
    writeFileSync(join(paths.outputDataDir, 'warm-start.json'), `${JSON.stringify(decision, null, 2)}\n`);
    const seconds = (performance.now() - started) / 1000;
    log(`train_seconds=${seconds.toFixed(3)} final_validation_logloss=${model.metrics.validation_logloss ?? 'nan'}`);
    log(`model saved to ${paths.modelDir}`);
    return 0;
  } catch (err) {
    return fail(paths.failureFile, err);
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
}
