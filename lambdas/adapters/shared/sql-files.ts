/**
 * The analytics and training-set SQL, written once in `sql/` and run by DuckDB locally and by
 * Athena in AWS.
 *
 * The files are written in the dialect both engines accept (standard SQL with `?` positional
 * parameters: Athena's execution parameters and DuckDB's prepared statements bind them the same
 * way). Where the engines differ the file uses the Athena (Trino) spelling, and DuckDB gets it in
 * one of two small, tested ways: a DuckDB macro of the same name defined when the lake database
 * opens (`DUCKDB_MACROS`), or, where a macro cannot do it, a rewrite in `DIALECT_REWRITES`. Never a
 * second copy of a query.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SqlDialect = 'duckdb' | 'athena';

/**
 * Trino functions DuckDB lacks, as DuckDB macros. The argument order and results match Trino's
 * for the inputs our queries give them.
 */
export const DUCKDB_MACROS: readonly string[] = [
  // Trino's name for extracting a JSON scalar as text.
  'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
];

/** Text rewrites for what a macro cannot express, per dialect: [pattern, replacement]. */
export const DIALECT_REWRITES: Readonly<Record<SqlDialect, readonly (readonly [RegExp, string])[]>> = {
  duckdb: [
    // Trino's approximate distinct count.
    [/\bapprox_distinct\s*\(/gi, 'approx_count_distinct('],
  ],
  athena: [],
};

/** Where `sql/` is: beside the sources (or dist/), or ADCLICK_SQL_DIR when a bundle moves it. */
export function sqlDirectory(): string {
  const fromEnv = process.env.ADCLICK_SQL_DIR;
  if (fromEnv) return fromEnv;
  // lambdas/adapters/shared/ → the repository (or dist/) root.
  return join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'sql');
}

/** Applies the dialect's rewrites to a query text. */
export function toDialect(sql: string, dialect: SqlDialect): string {
  let out = sql;
  for (const [pattern, replacement] of DIALECT_REWRITES[dialect]) out = out.replace(pattern, replacement);
  return out;
}

const cache = new Map<string, string>();

/**
 * The text of `sql/<name>.sql` in a dialect, read once per process. `name` is a path under sql/
 * without the extension, e.g. `analytics/ad-performance`.
 */
export function loadSql(name: string, dialect: SqlDialect): string {
  if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/.test(name)) throw new Error(`not a query name: ${name}`);
  const key = `${dialect}:${name}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = toDialect(readFileSync(join(sqlDirectory(), `${name}.sql`), 'utf8'), dialect);
    cache.set(key, text);
  }
  return text;
}
