/**
 * Step 1 of the retraining pipeline (docs/retraining.md): the training set of [train.from,
 * train.to) as the csv `adclick train` reads, and the time-later holdout of [holdout.from,
 * holdout.to) as the holdout.jsonl the gate reads (`{"features": {...}, "label": 0|1}` a line,
 * lambdas/adapters/shared/holdout-metrics.ts). Both come from the same training-set build
 * (sql/training/training-set.sql on the local lake), so the holdout is labelled exactly as the
 * training rows are; the holdout keeps every negative (its metrics are the traffic's), and its
 * features are the logged JSON snapshots, typed as the scorer sees them online.
 *
 * In AWS the pipeline's first step runs the same SQL on Athena (`buildDatasetsOnAthena`). The
 * command line over both is build-datasets.ts.
 */
import { rename, rm } from 'node:fs/promises';
import { LakeDatabase, quoteLiteral } from '../../adapters/local/duckdb/lake-database.js';
import {
  buildTrainingSet,
  type TrainingSetBuild,
  TrainingSetRequestError,
} from '../../adapters/local/duckdb/training-set.js';
import { trainingSetRequest } from '../../adapters/local/duckdb/training-set-request.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../core/lake/attribution.js';
import { RetrainError, type TimeWindow } from '../retrain-windows.js';
import { loadAthenaRows, type SqlRunner, withMemoryDuckDb, writeAthenaCsv } from './athena-datasets.js';

/** Fewer examples than this in either set make a model (or its judgement) noise. */
export const DEFAULT_MIN_ROWS = 1000;

export interface BuildDatasetsOptions {
  readonly lakeDir: string;
  readonly train: TimeWindow;
  readonly holdout: TimeWindow;
  readonly cutoff: Date;
  readonly windowSeconds?: number;
  /** Share of the training negatives kept (the holdout keeps all). */
  readonly negativeRate?: number;
  readonly trainCsv: string;
  readonly holdoutFile: string;
  readonly minRows?: number;
}

export interface DatasetSummary {
  readonly from: string;
  readonly to: string;
  readonly examples: number;
  readonly positives: number;
}

export interface BuiltDatasets {
  readonly train: DatasetSummary & { readonly csv: string; readonly negativeRate: number };
  readonly holdout: DatasetSummary & { readonly file: string };
  /** hyperparameters.json entries the training step needs: the csv's string columns, the down-sampling. */
  readonly hyperparameters: Record<string, string>;
  readonly seconds: number;
}

const OPTION_OF: Readonly<Record<string, string>> = {
  from: '--from',
  to: '--to',
  cutoff: '--cutoff',
  windowSeconds: '--window',
  negativeRate: '--negative-rate',
};

/** A request error as a RetrainError naming the step's options. */
async function asRetrainError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TrainingSetRequestError) {
      throw new RetrainError(err.issues.map((i) => `${OPTION_OF[i.field] ?? i.field} ${i.message}`).join('; '));
    }
    throw err;
  }
}

const build = (options: Parameters<typeof buildTrainingSet>[0]) => asRetrainError(() => buildTrainingSet(options));

function enough(
  what: string,
  window: TimeWindow,
  built: Pick<TrainingSetBuild, 'examples' | 'positives'>,
  minRows: number,
): void {
  const range = `[${window.from.toISOString()}, ${window.to.toISOString()})`;
  if (built.examples < minRows) {
    throw new RetrainError(
      `the ${what} ${range} holds ${built.examples} labelled examples, fewer than the ${minRows} needed (--min-rows): widen the window or let more traffic arrive`,
    );
  }
  if (built.positives === 0) {
    throw new RetrainError(`the ${what} ${range} holds no clicks: nothing to learn or judge a click rate from`);
  }
}

/** The COPY writing training_examples rows of `source` as holdout JSON Lines, in time order. */
function holdoutStatement(source: string, path: string): string {
  return `COPY (SELECT json(features) AS features, CAST(label AS INTEGER) AS label FROM ${source}
                 ORDER BY timestamp, prediction_id)
            TO ${quoteLiteral(path)} (FORMAT json)`;
}

/** Writes the rows of the given training_examples files as holdout JSON Lines, in time order. */
async function writeHoldoutJsonl(lakeDir: string, files: readonly string[], path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const db = await LakeDatabase.open({ lakeDir });
  try {
    const source = `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
    await db.exec(holdoutStatement(source, tmp));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    db.close();
  }
}

export async function buildDatasets(options: BuildDatasetsOptions): Promise<BuiltDatasets> {
  const started = performance.now();
  const minRows = options.minRows ?? DEFAULT_MIN_ROWS;
  const windowSeconds = options.windowSeconds ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
  const train = await build({
    lakeDir: options.lakeDir,
    ...options.train,
    cutoff: options.cutoff,
    windowSeconds,
    negativeRate: options.negativeRate ?? 1,
    csvPath: options.trainCsv,
  });
  enough('training range', options.train, train, minRows);
  // Into the lake too (so the AWS and local lakes hold the same training_examples); the JSONL is
  // read back from exactly the files this build wrote.
  const holdout = await build({
    lakeDir: options.lakeDir,
    ...options.holdout,
    cutoff: options.cutoff,
    windowSeconds,
    negativeRate: 1,
  });
  checkHoldout(options, holdout, minRows);
  await writeHoldoutJsonl(options.lakeDir, holdout.lake?.files ?? [], options.holdoutFile);

  return datasetsReport(options, train, holdout, train.request.negativeRate, train.csv?.categorical ?? [], started);
}

export interface AthenaDatasetsOptions extends Omit<BuildDatasetsOptions, 'lakeDir'> {
  /** Runs the shared SQL on Athena (AthenaQueryRunner, with a budget long enough for a build). */
  readonly runner: SqlRunner;
  /** Where the query's rows are staged while the files are written. */
  readonly workDir: string;
}

/**
 * buildDatasets on Athena (athena-datasets.ts): the same requests, checks and files; the lake's
 * training_examples are not written.
 */
export async function buildDatasetsOnAthena(options: AthenaDatasetsOptions): Promise<BuiltDatasets> {
  const started = performance.now();
  const minRows = options.minRows ?? DEFAULT_MIN_ROWS;
  const windowSeconds = options.windowSeconds ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS;
  const request = (window: TimeWindow, negativeRate: number) =>
    asRetrainError(async () => trainingSetRequest({ ...window, cutoff: options.cutoff, windowSeconds, negativeRate }));
  const trainRequest = await request(options.train, options.negativeRate ?? 1);
  const holdoutRequest = await request(options.holdout, 1);
  return withMemoryDuckDb(async (connection) => {
    const train = await loadAthenaRows(options.runner, trainRequest, connection, 'train_rows', options.workDir);
    enough('training range', options.train, train, minRows);
    const holdout = await loadAthenaRows(options.runner, holdoutRequest, connection, 'holdout_rows', options.workDir);
    checkHoldout(options, holdout, minRows);
    const categorical = await writeAthenaCsv(train, options.trainCsv);
    const tmp = `${options.holdoutFile}.${process.pid}.tmp`;
    await connection.run(holdoutStatement(holdout.table, tmp));
    await rename(tmp, options.holdoutFile);

    return datasetsReport(options, train, holdout, trainRequest.negativeRate, categorical, started);
  });
}

/** The holdout must be labelled to its end and hold enough rows (both builds). */
function checkHoldout(
  options: Pick<BuildDatasetsOptions, 'holdout'>,
  holdout: { labelledUntil: Date; examples: number; positives: number },
  minRows: number,
): void {
  if (holdout.labelledUntil.getTime() < options.holdout.to.getTime()) {
    throw new RetrainError(
      `the holdout is labelled only until ${holdout.labelledUntil.toISOString()}, before its end ${options.holdout.to.toISOString()}`,
    );
  }
  enough('holdout', options.holdout, holdout, minRows);
}

/** What a build reports, whichever engine ran the SQL. */
function datasetsReport(
  options: Pick<BuildDatasetsOptions, 'train' | 'holdout' | 'trainCsv' | 'holdoutFile'>,
  train: { examples: number; positives: number },
  holdout: { examples: number; positives: number },
  negativeRate: number,
  categorical: readonly string[],
  started: number,
): BuiltDatasets {
  const hyperparameters: Record<string, string> = {};
  if (negativeRate < 1) hyperparameters['data-negative-rate'] = String(negativeRate);
  if (categorical.length > 0) hyperparameters.categorical = categorical.join(',');
  return {
    train: {
      from: options.train.from.toISOString(),
      to: options.train.to.toISOString(),
      examples: train.examples,
      positives: train.positives,
      csv: options.trainCsv,
      negativeRate,
    },
    holdout: {
      from: options.holdout.from.toISOString(),
      to: options.holdout.to.toISOString(),
      examples: holdout.examples,
      positives: holdout.positives,
      file: options.holdoutFile,
    },
    hyperparameters,
    seconds: (performance.now() - started) / 1000,
  };
}
