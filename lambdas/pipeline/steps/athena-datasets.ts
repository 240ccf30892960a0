/**
 * The build step's Athena mode (the pipeline's BuildTrainingSet): the same training-set SQL
 * (sql/training/training-set.sql) and the same request and parameters as the local build, run on
 * Athena through the analytics' query runner, then written as the same files by the same DuckDB
 * writers (training-set-csv.ts for the csv, build-datasets.ts's holdout statement), on an
 * in-memory database that holds only the query's rows. So a training set built in AWS and one
 * built locally from the same lake are the same files.
 *
 * Not written back into the lake's training_examples (the local build does that): in AWS the
 * Glue table is the lake's, and a processing job appending to it is a later step.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LABEL_COLUMN } from '../../../sagemaker/data/columns.js';
import { quoteLiteral } from '../../adapters/local/duckdb/lake-database.js';
import { trainingCsvColumns, writeTrainingCsv } from '../../adapters/local/duckdb/training-set-csv.js';
import {
  labelledUntil,
  TRAINING_SET_QUERY,
  type TrainingSetRequest,
  trainingSetParams,
} from '../../adapters/local/duckdb/training-set-request.js';
import type { SqlParam, SqlRow } from '../../adapters/shared/sql-values.js';
import { LAKE_TABLES } from '../../core/lake/tables.js';

/** What the build needs of AthenaQueryRunner. */
export interface SqlRunner {
  run(name: string, params: readonly SqlParam[]): Promise<SqlRow[]>;
}

const DUCKDB_TYPES = {
  string: 'VARCHAR',
  int64: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

/** The training_examples rows of one request, as a DuckDB table `examples` (in time order). */
export interface AthenaRows {
  readonly request: TrainingSetRequest;
  readonly labelledUntil: Date;
  readonly examples: number;
  readonly positives: number;
  readonly connection: DuckDBConnection;
  readonly table: string;
}

/**
 * Runs the training-set query of `request` on Athena and loads its rows into `table` of the
 * connection (through a JSON Lines file in `workDir`: the runner's rows are JS values).
 */
export async function loadAthenaRows(
  runner: SqlRunner,
  request: TrainingSetRequest,
  connection: DuckDBConnection,
  table: string,
  workDir: string,
): Promise<AthenaRows> {
  const rows = await runner.run(TRAINING_SET_QUERY, trainingSetParams(request));
  const file = join(workDir, `${table}.jsonl`);
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  const columns = LAKE_TABLES.training_examples.columns
    .map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(DUCKDB_TYPES[c.type])}`)
    .join(', ');
  await connection.run(
    rows.length === 0
      ? `CREATE TABLE ${table} AS SELECT * FROM read_json('/dev/null', columns = {${columns}}) LIMIT 0`
      : `CREATE TABLE ${table} AS SELECT * FROM read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = {${columns}})`,
  );
  await rm(file, { force: true });
  const positives = rows.reduce((n, r) => n + (Number(r.label) === 1 ? 1 : 0), 0);
  return {
    request,
    labelledUntil: labelledUntil(request),
    examples: rows.length,
    positives,
    connection,
    table,
  };
}

/** Writes the rows as the csv of `adclick train`; returns its string columns (`categorical`). */
export async function writeAthenaCsv(rows: AthenaRows, path: string): Promise<string[]> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    if (rows.examples === 0) {
      await writeFile(tmp, `${LABEL_COLUMN}\n`);
      await rename(tmp, path);
      return [];
    }
    const columns = await trainingCsvColumns(rows.connection, rows.table);
    await writeTrainingCsv(rows.connection, rows.table, columns, tmp);
    await rename(tmp, path);
    return columns.categorical;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** An in-memory DuckDB connection for the duration of `work`. */
export async function withMemoryDuckDb<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
