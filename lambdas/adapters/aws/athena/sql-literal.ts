/**
 * Athena's execution parameters are strings, each holding one SQL literal that Athena binds to
 * the query's next `?` (it refuses anything but a single constant). This is the one place a
 * request's values become SQL text, so every value gets exactly one literal:
 *
 * - text: `'…'` with each `'` doubled. Trino string literals have no backslash escapes, so that
 *   is the only character needing one; backslashes, newlines, `?`, `--` and any Unicode are
 *   plain characters inside the quotes. No string is refused.
 * - integers (safe ones): decimal digits, e.g. `3600` (INTEGER or BIGINT, as Trino types it).
 * - other finite numbers (fractions, integers beyond 2^53): a DOUBLE literal in exponent form,
 *   e.g. `5E-1` (a plain `0.5` would be a DECIMAL in Trino); `toExponential()` gives the
 *   shortest digits that read back as the same double. A negative number keeps its sign: `-7`.
 * - booleans `TRUE`/`FALSE`, null `NULL`.
 *
 * NaN and ±Infinity have no literal: a TypeError (a programming error: the use cases validate
 * every number first).
 */
import type { SqlParam } from '../../shared/sql-values.js';

export function sqlLiteral(value: SqlParam): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string':
      return `'${value.replaceAll("'", "''")}'`;
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    case 'number':
      if (Number.isSafeInteger(value)) return String(value);
      if (!Number.isFinite(value)) throw new TypeError(`no SQL literal for the number ${value}`);
      return value.toExponential().toUpperCase();
    default:
      throw new TypeError(`not a SQL parameter value: ${typeof value}`);
  }
}

/** The `ExecutionParameters` of a query: one literal per `?`, in order. */
export function executionParameters(params: readonly SqlParam[]): string[] {
  return params.map(sqlLiteral);
}
