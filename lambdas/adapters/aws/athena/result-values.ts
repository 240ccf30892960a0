/**
 * Athena's query results as the rows DuckDB gives locally (shared/sql-values.ts `SqlRow`).
 * GetQueryResults returns every value as text (`VarCharValue`, absent for NULL) with the column
 * types in `ResultSetMetadata.ColumnInfo`; each value is read back by its column's type, so the
 * row mapping shared with DuckDB sees the same shapes: integers and doubles as numbers (BIGINTs
 * as JS numbers, as the local adapter casts them), booleans as booleans, TIMESTAMPs and DATEs as
 * ISO 8601 UTC text with milliseconds (DuckDB's Date → toISOString). Other types stay text.
 */
import type { ColumnInfo, Row } from '@aws-sdk/client-athena';
import type { SqlRow } from '../../shared/sql-values.js';

type Value = SqlRow[string];

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'real', 'float', 'double', 'decimal']);

// Trino renders timestamps `2026-12-01 10:00:00.000` (more or fewer fraction digits by precision).
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,12}))?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The base name of a column type: `decimal(10,2)` → `decimal`, `timestamp(3)` → `timestamp`. */
const baseType = (type: string | undefined): string => (type ?? 'varchar').toLowerCase().replace(/\(.*$/, '').trim();

function timestampValue(text: string): string {
  const m = TIMESTAMP.exec(text);
  if (m === null) return text;
  // Truncated to milliseconds, as DuckDB's conversion to a JS Date does.
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  return Number.isNaN(at) ? text : new Date(at).toISOString();
}

/** One cell: its text (undefined for NULL) read as its column's type. */
export function typedValue(type: string | undefined, text: string | undefined): Value {
  if (text === undefined) return null;
  const base = baseType(type);
  if (NUMERIC.has(base)) return Number(text); // Trino writes NaN and Infinity as Number reads them.
  if (base === 'boolean') return text === 'true';
  if (base === 'timestamp') return timestampValue(text);
  if (base === 'date') return DATE.test(text) ? `${text}T00:00:00.000Z` : text;
  return text;
}

/** Data rows (no header) as objects keyed by column name. */
export function typedRows(columns: readonly ColumnInfo[], rows: readonly Row[]): SqlRow[] {
  return rows.map((row) => {
    const out: SqlRow = {};
    const data = row.Data ?? [];
    columns.forEach((column, i) => {
      out[column.Name ?? `_col${i}`] = typedValue(column.Type, data[i]?.VarCharValue);
    });
    return out;
  });
}
