/**
 * Training examples as a CSV in the contract of `adclick train` (DESIGN.md, "The model"): a
 * header row, the label column `click` (0/1), one column per key of the feature snapshots, an
 * empty cell where a snapshot lacks the key (or holds null), rows in time order.
 *
 * The keys come from the data, so nothing about them reaches SQL unquoted: each is bound as a
 * string literal (a JSON pointer, `/` + the key with `~` and `/` escaped, and the header text),
 * never as an identifier. DuckDB renames output columns whose names differ only in case, so the
 * header is written as the first data row (DuckDB's CSV writer quotes it like any value) under
 * positional column names.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { LABEL_COLUMN } from '../../../../sagemaker/data/columns.js';
import { quoteLiteral } from './lake-database.js';

/** More distinct snapshot keys than this is not a feature set but a runaway key space. */
export const MAX_FEATURE_COLUMNS = 1024;
const MAX_KEY_LENGTH = 256;

/** The rows cannot be written in the CSV contract; the message says why. */
export class TrainingCsvError extends Error {
  override readonly name = 'TrainingCsvError';
}

export interface TrainingCsvColumns {
  /** Feature columns, in header order (sorted). */
  readonly features: string[];
  /**
   * Columns holding JSON strings. `adclick train` types a column from its cells, so a string
   * feature whose values all look like numbers (a zip code) must be named with --categorical
   * to be encoded as the scorer encodes it online (as a string).
   */
  readonly categorical: string[];
}

/** The RFC 6901 pointer to a top-level key. */
export function jsonPointer(key: string): string {
  return `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** Why a snapshot key cannot be a column of the CSV (null when it can). */
export function csvColumnProblem(key: string): string | null {
  if (key === LABEL_COLUMN) {
    return `a feature is named "${LABEL_COLUMN}", the label column of the CSV contract; rename the feature`;
  }
  if (key === '' || key.length > MAX_KEY_LENGTH)
    return `feature key of ${key.length} characters (1 to ${MAX_KEY_LENGTH})`;
  // --categorical takes a comma-separated, trimmed list: such a name could not be passed back.
  if (/[\u0000-\u001f\u007f,]/.test(key) || key.trim() !== key) {
    return `feature key ${JSON.stringify(key)} holds a control character, a comma or surrounding spaces`;
  }
  return null;
}

/** The feature columns of the rows in `source` (a relation with a `features` JSON text column). */
export async function trainingCsvColumns(connection: DuckDBConnection, source: string): Promise<TrainingCsvColumns> {
  // json_keys and json_type('$.*') list an object's members in the same order.
  const reader = await connection.runAndReadAll(
    `SELECT key, bool_or(type = 'VARCHAR') AS strings
       FROM (SELECT unnest(json_keys(features)) AS key, unnest(json_type(features, '$.*')) AS type FROM ${source})
      GROUP BY key
      ORDER BY key
      LIMIT ${MAX_FEATURE_COLUMNS + 1}`,
  );
  const rows = reader.getRowObjectsJS() as { key: string; strings: boolean }[];
  if (rows.length > MAX_FEATURE_COLUMNS) {
    throw new TrainingCsvError(`the feature snapshots hold more than ${MAX_FEATURE_COLUMNS} distinct keys`);
  }
  for (const { key } of rows) {
    const problem = csvColumnProblem(key);
    if (problem) throw new TrainingCsvError(problem);
  }
  return {
    features: rows.map((r) => r.key),
    categorical: rows.filter((r) => r.strings).map((r) => r.key),
  };
}

/**
 * Writes the rows of `source` (training_examples columns) as the CSV, ordered by prediction time
 * then id. The caller writes to a temporary name and renames it into place.
 */
export async function writeTrainingCsv(
  connection: DuckDBConnection,
  source: string,
  columns: TrainingCsvColumns,
  path: string,
): Promise<void> {
  const n = columns.features.length;
  const names = [...Array.from({ length: n }, (_, i) => `c${i}`), 'click'];
  const header = [...columns.features, LABEL_COLUMN].map(quoteLiteral);
  const values = columns.features.map((_, i) => `v[${i + 1}]`);
  const pointers = `[${columns.features.map((k) => quoteLiteral(jsonPointer(k))).join(', ')}]::VARCHAR[]`;
  const extract = n > 0 ? `json_extract_string(features, ${pointers})` : 'CAST([] AS VARCHAR[])';
  await connection.run(
    `COPY (
       SELECT ${names.join(', ')} FROM (
         SELECT 0 AS part, NULL::TIMESTAMP AS ts, NULL::VARCHAR AS id,
                ${header.map((h, i) => `${h} AS ${names[i]}`).join(', ')}
         UNION ALL
         SELECT 1, timestamp, prediction_id,
                ${[...values, 'CAST(label AS VARCHAR)'].map((v, i) => `${v} AS ${names[i]}`).join(', ')}
           FROM (SELECT ${extract} AS v, label, timestamp, prediction_id FROM ${source})
       ) ORDER BY part, ts, id
     ) TO ${quoteLiteral(path)} (FORMAT csv, HEADER false, DELIMITER ',', QUOTE '"', ESCAPE '"', NULLSTR '')`,
  );
}
