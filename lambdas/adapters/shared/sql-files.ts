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
  // Trino's from_base(text, radix), for the hex digits the training set's down-sampling hash gives.
  "CREATE OR REPLACE MACRO from_base(s, radix) AS CASE WHEN radix = 16 THEN CAST('0x' || s AS BIGINT) ELSE error('from_base: only radix 16') END",
  // Trino's approximate percentile of a group (a constant percentage in [0, 1]). Both engines use
  // a sketch of bounded memory, so their answers are close to, not equal to, each other's.
  'CREATE OR REPLACE MACRO approx_percentile(x, percentage) AS approx_quantile(x, percentage)',
];

/** Text rewrites for what a macro cannot express, per dialect: [pattern, replacement]. */
export const DIALECT_REWRITES: Readonly<Record<SqlDialect, readonly (readonly [RegExp, string])[]>> = {
  duckdb: [
    // Trino's approximate distinct count.
    [/\bapprox_distinct\s*\(/gi, 'approx_count_distinct('],
    // Trino's upper-case hex md5 of a string's UTF-8 bytes; DuckDB's md5 hashes the UTF-8 bytes
    // and returns lower-case hex. The parentheses balance as before.
    [/\bto_hex\s*\(\s*md5\s*\(\s*to_utf8\s*\(/gi, 'upper(md5(('],
  ],
  athena: [],
};

/** Where `sql/` is: beside the sources (or dist/), or ADCLICK_SQL_DIR when a bundle moves it. */
export function sqlDirectory(): string {
  const fromEnv = process.env.ADCLICK_SQL_DIR;
  if (fromEnv) return fromEnv;
  // A CommonJS Lambda bundle has no import.meta.url: its stack must say where sql/ was copied.
  if (typeof import.meta.url !== 'string') throw new Error('ADCLICK_SQL_DIR is not set: this bundle cannot find sql/.');
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

const QUERY_NAME = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/;
/** A line `-- @include <name>`: replaced by the text of `sql/<name>.sql` (a shared WITH list). */
const INCLUDE_LINE = /^--[ \t]*@include[ \t]+(\S+)[ \t]*$/gm;

/**
 * Several queries share one definition (the analytics queries share what an impression and a
 * click are): the definition lives once, in a file the queries include, never in copies.
 */
export function expandIncludes(text: string, read: (name: string) => string, seen: readonly string[] = []): string {
  return text.replace(INCLUDE_LINE, (_, name: string) => {
    if (!QUERY_NAME.test(name)) throw new Error(`not a query name: ${name}`);
    if (seen.includes(name)) throw new Error(`SQL include cycle: ${[...seen, name].join(' -> ')}`);
    return expandIncludes(read(name).trimEnd(), read, [...seen, name]);
  });
}

const readSqlFile = (name: string) => readFileSync(join(sqlDirectory(), `${name}.sql`), 'utf8');

/**
 * The text of `sql/<name>.sql` in a dialect, with its includes expanded, read once per process.
 * `name` is a path under sql/ without the extension, e.g. `analytics/ad-performance`.
 */
export function loadSql(name: string, dialect: SqlDialect): string {
  if (!QUERY_NAME.test(name)) throw new Error(`not a query name: ${name}`);
  const key = `${dialect}:${name}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = toDialect(expandIncludes(readSqlFile(name), readSqlFile, [name]), dialect);
    cache.set(key, text);
  }
  return text;
}
