/**
 * The training-set build on the local lake: `sql/training/training-set.sql` (the text Athena runs
 * in AWS) on DuckDB, its rows written into the lake's `training_examples` and, optionally, as a
 * CSV in the contract of `adclick train`. `adclick build-training-set` runs it; `adclick retrain`
 * (issue 6) is to call it too, and pass its `request.negativeRate` and `csv.categorical` to the
 * trainer (docs/training-set.md).
 *
 * DuckDB writes every file itself (the rows never pass through JavaScript): the query's rows go
 * once, partitioned, into a staging folder beside the lake's tables (`<lake>/.staging/`, which no
 * table's view reads); the CSV is read from there; then the staged files are published into the
 * table (see training-examples-files.ts: a build replaces the rows of the impression hours it
 * covers, so building a range again never doubles it). The staging folder, DuckDB's spill files
 * included, is removed whatever happens.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { LABEL_COLUMN } from '../../../../sagemaker/data/columns.js';
import { LAKE_TABLES } from '../../../core/lake/tables.js';
import { loadSql } from '../../shared/sql-files.js';
import { LakeDatabase, quoteIdent, quoteLiteral } from './lake-database.js';
import { publishTrainingExamples, type StagedFile, stagedFiles } from './training-examples-files.js';
import { type TrainingCsvColumns, trainingCsvColumns, writeTrainingCsv } from './training-set-csv.js';
import {
  impressionHours,
  labelledUntil,
  TRAINING_SET_QUERY,
  type TrainingSetRequest,
  type TrainingSetRequestInput,
  trainingSetParams,
  trainingSetRequest,
} from './training-set-request.js';

export { TrainingCsvError } from './training-set-csv.js';
export { TrainingSetRequestError } from './training-set-request.js';

export interface BuildTrainingSetOptions extends TrainingSetRequestInput {
  readonly lakeDir: string;
  /** Also write the rows as a CSV in the contract of `adclick train` (its folder is created). */
  readonly csvPath?: string;
  /** Write the rows into the lake's training_examples (default true). */
  readonly writeLake?: boolean;
  /** DuckDB threads (default: every core; a build is a batch job). */
  readonly threads?: number;
  /**
   * DuckDB's memory limit (default: half the machine's memory; beyond it joins and sorts spill
   * into the staging folder). 10 M impressions need about 3 GB.
   */
  readonly memoryLimit?: string;
}

export interface TrainingSetBuild {
  readonly request: TrainingSetRequest;
  /** Impressions before this were labelled: `to`, or the whole hour at or before cutoff − window. */
  readonly labelledUntil: Date;
  readonly examples: number;
  readonly positives: number;
  /** Negatives kept (after down-sampling). */
  readonly negatives: number;
  /** The lake files written and the files of earlier builds of the same hours removed. */
  readonly lake: { readonly files: string[]; readonly removed: number } | null;
  readonly csv: ({ readonly path: string } & TrainingCsvColumns) | null;
  readonly seconds: number;
  /** Seconds of each step: the query (its rows staged), the csv, publishing into the lake. */
  readonly timings: { readonly query: number; readonly csv: number; readonly publish: number };
}

/** The COPY that runs the training-set query and stages its rows, partitioned for publishing. */
function stageStatement(rowsDir: string): string {
  const columns = LAKE_TABLES.training_examples.columns.map((c) => quoteIdent(c.name)).join(', ');
  return `COPY (
    SELECT ${columns},
           strftime(timestamp, '%Y-%m-%d') AS dt,
           strftime(timestamp, '%H') AS hour,
           strftime(impression_timestamp, '%Y-%m-%dT%H') AS impression_hour
      FROM (
${loadSql(TRAINING_SET_QUERY, 'duckdb')}
      ) examples
  ) TO ${quoteLiteral(rowsDir)} (
    FORMAT parquet, COMPRESSION snappy,
    PARTITION_BY (dt, hour, impression_hour), FILENAME_PATTERN 'part_{i}',
    KV_METADATA {'adclick.table': 'training_examples'}
  )`;
}

/** A relation over the staged files (given one by one: a folder name may hold glob characters). */
function stagedRelation(files: readonly StagedFile[]): string {
  return `read_parquet([${files.map((f) => quoteLiteral(f.path)).join(', ')}], hive_partitioning = false)`;
}

async function counts(connection: DuckDBConnection, files: readonly StagedFile[]) {
  if (files.length === 0) return { examples: 0, positives: 0 };
  const reader = await connection.runAndReadAll(
    `SELECT count(*) AS examples, coalesce(sum(label), 0) AS positives FROM ${stagedRelation(files)}`,
  );
  const row = reader.getRowObjectsJS()[0] as { examples: bigint; positives: bigint | number };
  return { examples: Number(row.examples), positives: Number(row.positives) };
}

const dtOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Builds the training set of the request; see the module comment. */
export async function buildTrainingSet(options: BuildTrainingSetOptions): Promise<TrainingSetBuild> {
  const started = performance.now();
  const request = trainingSetRequest(options);
  const stagingRoot = join(options.lakeDir, '.staging');
  await mkdir(stagingRoot, { recursive: true });
  const staging = await mkdtemp(join(stagingRoot, 'training_examples-'));
  const rowsDir = join(staging, 'rows');
  let db: LakeDatabase | undefined;
  try {
    db = await LakeDatabase.open({
      lakeDir: options.lakeDir,
      threads: options.threads ?? availableParallelism(),
      memoryLimit: options.memoryLimit ?? `${Math.floor(totalmem() / 2 / 2 ** 20)}MB`,
      tempDirectory: join(staging, 'spill'),
    });
    const built = await db.withConnection(async (connection) => {
      // The staged files need no order (the csv is sorted when written); keeping it would make
      // DuckDB buffer the query's output.
      await connection.run('SET preserve_insertion_order = false');
      await connection.run(stageStatement(rowsDir), trainingSetParams(request) as DuckDBValue[]);
      const files = await stagedFiles(rowsDir);
      const { examples, positives } = await counts(connection, files);
      const queried = performance.now();
      let csv: TrainingSetBuild['csv'] = null;
      if (options.csvPath !== undefined) {
        const columns: TrainingCsvColumns =
          files.length > 0
            ? await trainingCsvColumns(connection, stagedRelation(files))
            : { features: [], categorical: [] };
        await mkdir(dirname(options.csvPath), { recursive: true });
        const tmp = `${options.csvPath}.${process.pid}.tmp`;
        try {
          if (files.length > 0) await writeTrainingCsv(connection, stagedRelation(files), columns, tmp);
          else await writeFile(tmp, `${LABEL_COLUMN}\n`);
          await rename(tmp, options.csvPath);
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        csv = { path: options.csvPath, ...columns };
      }
      return { files, examples, positives, csv, queried, csvDone: performance.now() };
    });

    let lake: TrainingSetBuild['lake'] = null;
    if (options.writeLake ?? true) {
      const window = request.windowSeconds * 1000;
      const result = await publishTrainingExamples(built.files, options.lakeDir, impressionHours(request), {
        from: dtOf(request.from.getTime() - window),
        to: dtOf(request.to.getTime() + window),
      });
      lake = { files: result.written, removed: result.removed.length };
    }
    const published = performance.now();
    return {
      request,
      labelledUntil: labelledUntil(request),
      examples: built.examples,
      positives: built.positives,
      negatives: built.examples - built.positives,
      lake,
      csv: built.csv,
      seconds: (published - started) / 1000,
      timings: {
        query: (built.queried - started) / 1000,
        csv: (built.csvDone - built.queried) / 1000,
        publish: (published - built.csvDone) / 1000,
      },
    };
  } finally {
    db?.close();
    await rm(staging, { recursive: true, force: true });
  }
}
