/**
 * `adclick retrain`: the retraining pipeline's steps run locally in order, the same entry points
 * the SageMaker Pipeline calls (docs/retraining.md): build the training set and the time-later
 * holdout → train → evaluate candidate and champion on that holdout → the gate → register (as
 * challenger when the gate passed) → optionally activate or start an experiment.
 *
 * With `warmStart`, the candidate continues from the champion's parameters and optimizer state
 * (sagemaker/model/warm-start.ts) on the rows after the champion's training window, or trains
 * fresh and says why when it cannot; the summary and the registry's metadata say which ran.
 *
 * The holdout is also installed where the local server's holdout evaluator reads it
 * (`<data dir>/holdout/holdout.jsonl`), so the gate `PUT /model/activate` runs again judges on the
 * same rows. A refused candidate is still registered (as a plain candidate, with its numbers), but
 * never named challenger, activated or put in an experiment.
 */

import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, unpackModel } from '../../sagemaker/index.js';
import { trainStep, writeHyperparameters } from '../../sagemaker/pipeline/train-step.js';
import { unpackedDir } from '../adapters/local/artifact-store.js';
import { HOLDOUT_FILE } from '../adapters/local/holdout-evaluator.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../core/lake/attribution.js';
import type { GateReport, HoldoutMetrics, ModelRecord } from '../core/schemas/models.js';
import { RetrainError, retrainWindows } from './retrain-windows.js';
import { buildDatasets, DEFAULT_MIN_ROWS } from './steps/build-datasets.js';
import { evaluateStep } from './steps/evaluate.js';
import { gateStep } from './steps/gate.js';
import { ApiError, ModelApi } from './steps/register.js';
import { afterChampion, warmStartUnusable } from './warm-start-window.js';

export { RetrainError } from './retrain-windows.js';

export interface RetrainOptions {
  readonly server: string;
  readonly token?: string;
  /** The server's data dir: its lake is read, its holdout replaced, its admin token read. */
  readonly dataDir: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly holdoutHours?: number;
  /** Default: now. */
  readonly cutoff?: Date;
  readonly windowSeconds?: number;
  readonly negativeRate?: number;
  readonly minRows?: number;
  /** Extra entries of hyperparameters.json (kebab-case names, as the container takes them). */
  readonly hyperparameters?: Record<string, string>;
  readonly version?: string;
  readonly activate?: boolean;
  /** Start an experiment champion vs the new challenger, this share of traffic to the challenger. */
  readonly experimentWeight?: number;
  /**
   * Continue from the champion instead of training fresh (default false, docs/retraining.md).
   * Without `from`, the training range then starts where the champion's ended, so no row is
   * learned twice.
   */
  readonly warmStart?: boolean;
}

export type RetrainStep = 'build' | 'train' | 'evaluate' | 'gate' | 'register';
export const RETRAIN_STEPS: readonly RetrainStep[] = ['build', 'train', 'evaluate', 'gate', 'register'];

export interface RetrainSummary {
  readonly windows: {
    train: { from: string; to: string };
    holdout: { from: string; to: string };
    labelled_until: string;
    cutoff: string;
  };
  readonly rows: { train: number; train_positives: number; holdout: number; holdout_positives: number };
  readonly training: {
    /** Whether the candidate continued from the champion (false: trained fresh). */
    warm_start: boolean;
    /** The champion it continued from. */
    warm_start_from: string | null;
    /** Why a warm start asked for trained fresh instead; null when it ran or was not asked for. */
    fresh_reason: string | null;
    passes: number | null;
    validation_logloss: number | null;
    hyperparameters: Record<string, string>;
    seconds: number;
  };
  readonly holdout: string;
  readonly candidate: HoldoutMetrics;
  readonly champion: (HoldoutMetrics & { model_id: string; version: string }) | null;
  readonly gate: Pick<GateReport, 'passed' | 'reasons'>;
  readonly model: Pick<ModelRecord, 'model_id' | 'version' | 'status' | 'alias'>;
  /** null when not asked for; else whether the server activated it (it runs the gate again). */
  readonly activation: { activated: boolean; detail: string | null } | null;
  readonly experiment: unknown;
  readonly seconds: number;
}

export type StepReporter = (step: RetrainStep, line: string) => void;

/** The champion's model folder on this machine (the local server's artifact store). */
async function championDir(champion: ModelRecord, work: string): Promise<string> {
  if (!champion.artifact_uri.startsWith('file:')) {
    throw new RetrainError(
      `the champion's artifact ${champion.artifact_uri} is not on this machine: retrain against a local server`,
    );
  }
  const artifact = fileURLToPath(champion.artifact_uri);
  const unpacked = unpackedDir(artifact);
  if (existsSync(join(unpacked, MANIFEST_FILE))) return unpacked;
  const dir = join(work, 'champion');
  await unpackModel(artifact, dir);
  return dir;
}

/** Replaces the server's holdout in one rename, so an activation in flight reads a whole file. */
async function installHoldout(file: string, dataDir: string): Promise<string> {
  const dir = join(dataDir, 'holdout');
  await mkdir(dir, { recursive: true });
  const target = join(dir, HOLDOUT_FILE);
  const tmp = `${target}.${process.pid}.tmp`;
  await copyFile(file, tmp);
  await rename(tmp, target);
  return target;
}

const metricsOf = (m: HoldoutMetrics): HoldoutMetrics => ({
  rows: m.rows,
  positives: m.positives,
  logloss: m.logloss,
  calibration: m.calibration,
  auc: m.auc,
});

function checkOptions(o: RetrainOptions): void {
  const w = o.experimentWeight;
  if (w !== undefined && !(w > 0 && w < 1)) {
    throw new RetrainError(`--experiment must be the challenger's share of traffic in (0, 1), got ${w}`);
  }
  if (w !== undefined && o.activate) {
    throw new RetrainError('--activate and --experiment exclude each other: a champion cannot be its own challenger');
  }
}

export async function runRetrain(options: RetrainOptions, report: StepReporter = () => {}): Promise<RetrainSummary> {
  const started = performance.now();
  checkOptions(options);
  if (!existsSync(options.dataDir)) {
    throw new RetrainError(
      `--data-dir ${options.dataDir}: no such directory (the server's data dir, default ./.adclick)`,
    );
  }
  const cutoff = options.cutoff ?? new Date();
  const windowSeconds = options.windowSeconds ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
  const windows = retrainWindows({
    from: options.from,
    to: options.to,
    holdoutHours: options.holdoutHours,
    cutoff,
    windowSeconds,
  });
  // The server first: a retrain against a server that is down fails before the long steps.
  const api = new ModelApi(options);
  const champion = await api.champion();
  if (options.experimentWeight !== undefined && !champion) {
    throw new RetrainError('--experiment needs a champion to compare the challenger with; there is none');
  }
  const work = await mkdtemp(join(tmpdir(), 'adclick-retrain-'));
  try {
    const iso = (d: Date) => d.toISOString();
    const champDir = champion ? await championDir(champion, work) : null;
    // Checked before the training range moves: a champion without a usable state means a fresh
    // training, which should have the whole range.
    const unusable = options.warmStart ? await warmStartUnusable(champDir) : null;
    const warmDir = options.warmStart && unusable === null ? champDir : null;
    let trainWindow = windows.train;
    if (warmDir) {
      trainWindow = await afterChampion(trainWindow, warmDir, options.from !== undefined, (line) =>
        report('build', line),
      );
    }
    report(
      'build',
      `building training set [${iso(trainWindow.from)}, ${iso(trainWindow.to)}) and holdout [${iso(windows.holdout.from)}, ${iso(windows.holdout.to)})`,
    );
    const datasets = await buildDatasets({
      lakeDir: join(options.dataDir, 'lake'),
      train: trainWindow,
      holdout: windows.holdout,
      cutoff,
      windowSeconds,
      negativeRate: options.negativeRate,
      minRows: options.minRows ?? DEFAULT_MIN_ROWS,
      trainCsv: join(work, 'train.csv'),
      holdoutFile: join(work, HOLDOUT_FILE),
    });
    const holdoutFile = await installHoldout(datasets.holdout.file, options.dataDir);
    report(
      'build',
      `training set ${datasets.train.examples} rows (${datasets.train.positives} clicks), holdout ${datasets.holdout.examples} rows (${datasets.holdout.positives} clicks) installed at ${holdoutFile} (${datasets.seconds.toFixed(1)} s)`,
    );

    const hyperparameters = { ...datasets.hyperparameters, ...options.hyperparameters };
    const hpFile = join(work, 'hyperparameters.json');
    await writeHyperparameters(hpFile, hyperparameters);
    report(
      'train',
      warmDir
        ? `training the candidate, warm-started from the champion${champion ? ` ${champion.model_id}` : ''}`
        : 'training the candidate fresh',
    );
    const trained = await trainStep({
      data: datasets.train.csv,
      hyperparametersFile: hpFile,
      modelDir: join(work, 'candidate'),
      trainingWindow: { from: datasets.train.from, to: datasets.train.to },
      metadata: { source: 'retrain' },
      ...(warmDir ? { warmStart: warmDir } : {}),
    });
    const warm = trained.warmStart;
    const freshReason = !options.warmStart ? null : (unusable ?? (warm.used ? null : (warm.reason ?? 'unknown')));
    if (freshReason) report('train', `warm start not possible, trained fresh: ${freshReason}`);
    report(
      'train',
      `trained${warm.used ? ' (warm start)' : ' (fresh)'}: ${trained.passes ?? '-'} passes, validation log loss ${trained.validationLogloss?.toFixed(5) ?? '-'} (${trained.seconds.toFixed(1)} s)`,
    );
    const warmFrom = warm.used && champion ? champion.model_id : null;

    report(
      'evaluate',
      `scoring the candidate${champion ? ` and the champion ${champion.model_id}` : ''} on the holdout`,
    );
    const evaluation = await evaluateStep({
      holdoutFile: datasets.holdout.file,
      candidateDir: trained.modelDir,
      championDir: champDir,
    });
    const fmt = (m: HoldoutMetrics) =>
      `log loss ${m.logloss.toFixed(5)}, calibration ${m.calibration?.toFixed(3) ?? '-'}, AUC ${m.auc?.toFixed(4) ?? '-'}`;
    report(
      'evaluate',
      `candidate ${fmt(evaluation.candidate.overall)}${evaluation.champion ? `; champion ${fmt(evaluation.champion.overall)}` : ''}`,
    );

    const gate = gateStep(evaluation);
    report('gate', gate.passed ? 'passed' : `refused: ${gate.reasons.join('; ')}`);

    const version =
      options.version ??
      `retrain-${iso(new Date())
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}`;
    let model = await api.upload(trained.modelDir, version, {
      source: 'retrain',
      train_from: datasets.train.from,
      train_to: datasets.train.to,
      holdout_from: datasets.holdout.from,
      holdout_to: datasets.holdout.to,
      train_rows: datasets.train.examples,
      holdout_logloss: evaluation.candidate.overall.logloss,
      champion_holdout_logloss: evaluation.champion?.overall.logloss ?? null,
      gate_passed: gate.passed,
      warm_start: warm.used,
      warm_start_from: warmFrom,
      // The registry keeps strings up to 1024 characters.
      warm_start_fallback: freshReason?.slice(0, 1024) ?? null,
    });
    if (gate.passed) model = await api.nameChallenger(model.model_id);
    report('register', `registered ${model.model_id} (version ${model.version}) as ${model.alias ?? model.status}`);

    let activation: RetrainSummary['activation'] = null;
    if (options.activate) {
      if (!gate.passed) {
        activation = { activated: false, detail: 'not attempted: the gate refused the candidate' };
      } else {
        try {
          model = await api.activate(model.model_id);
          activation = { activated: true, detail: null };
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 409)) throw err;
          activation = { activated: false, detail: err.message };
        }
      }
      report('register', activation.activated ? 'activated' : `not activated: ${activation.detail}`);
    }

    let experiment: unknown = null;
    if (options.experimentWeight !== undefined && champion && gate.passed) {
      const w = options.experimentWeight;
      try {
        experiment = await api.startExperiment(`retrain ${model.version}: champion vs challenger`, [
          { model_id: champion.model_id, weight: 1 - w },
          { model_id: model.model_id, weight: w },
        ]);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          throw new RetrainError(
            `the server has no POST /experiments route yet (${err.message}); the challenger ${model.model_id} is registered`,
          );
        }
        throw err;
      }
      report('register', `experiment started, ${w} of traffic to the challenger`);
    }

    return {
      windows: {
        train: { from: datasets.train.from, to: datasets.train.to },
        holdout: { from: datasets.holdout.from, to: datasets.holdout.to },
        labelled_until: iso(windows.labelledUntil),
        cutoff: iso(cutoff),
      },
      rows: {
        train: datasets.train.examples,
        train_positives: datasets.train.positives,
        holdout: datasets.holdout.examples,
        holdout_positives: datasets.holdout.positives,
      },
      training: {
        warm_start: warm.used,
        warm_start_from: warmFrom,
        fresh_reason: freshReason,
        passes: trained.passes,
        validation_logloss: trained.validationLogloss,
        hyperparameters,
        seconds: trained.seconds,
      },
      holdout: evaluation.holdout,
      candidate: metricsOf(evaluation.candidate.overall),
      champion:
        champion && evaluation.champion
          ? { model_id: champion.model_id, version: champion.version, ...metricsOf(evaluation.champion.overall) }
          : null,
      gate: { passed: gate.passed, reasons: gate.reasons },
      model: { model_id: model.model_id, version: model.version, status: model.status, alias: model.alias },
      activation,
      experiment,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
