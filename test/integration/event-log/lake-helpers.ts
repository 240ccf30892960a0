/** Helpers for the event-log tests: temp dirs and DuckDB over the lake. */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryDuckDb } from '../../support/duckdb.js';

export interface TempDirs {
  readonly root: string;
  readonly logDir: string;
  readonly lakeDir: string;
  cleanup(): Promise<void>;
}

export async function tempDirs(prefix = 'event-log-'): Promise<TempDirs> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  return {
    root,
    logDir: join(root, 'log'),
    lakeDir: join(root, 'lake'),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** `read_parquet` over one lake table, with its Hive partition columns. */
export function lakeTable(lakeDir: string, table: string): string {
  return `read_parquet('${join(lakeDir, table).replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true)`;
}

/** The ids of a lake table and how often each occurs. */
export async function idCounts(lakeDir: string, table: string, idColumn: string): Promise<Map<string, number>> {
  const rows = await queryDuckDb(
    `SELECT ${idColumn} AS id, CAST(count(*) AS INTEGER) AS n FROM ${lakeTable(lakeDir, table)} GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.id as string, r.n as number]));
}

export { queryDuckDb };
