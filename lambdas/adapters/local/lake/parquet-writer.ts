/**
 * Writes rows of one lake table as a Parquet file whose schema comes from `LAKE_TABLES`:
 *
 * | lake type | Parquet physical type | annotation                           | DuckDB type |
 * | --------- | --------------------- | ------------------------------------ | ----------- |
 * | string    | BYTE_ARRAY            | UTF8                                 | VARCHAR     |
 * | int64     | INT64                 | -                                    | BIGINT      |
 * | double    | DOUBLE                | -                                    | DOUBLE      |
 * | boolean   | BOOLEAN               | -                                    | BOOLEAN     |
 * | timestamp | INT64                 | TIMESTAMP_MICROS (UTC-normalised)    | TIMESTAMP   |
 *
 * Timestamps use the legacy TIMESTAMP_MICROS annotation, which Athena/Glue, Spark and DuckDB all
 * read as a plain TIMESTAMP holding UTC, so `date_trunc('hour', timestamp)` lines up with the
 * `hour=` partition whatever the session time zone. Nullable columns are OPTIONAL, others
 * REQUIRED. Columns are written in the table's column order, Snappy-compressed.
 */
import { open, rename, rm } from 'node:fs/promises';
import { ByteWriter, type ColumnSource, parquetWrite, type SchemaElement } from 'hyparquet-writer';
import { LAKE_TABLES, type LakeColumn, type LakeTableName } from '../../../core/lake/tables.js';

export type LakeValue = string | number | boolean | Date | null;
export type LakeRecord = Readonly<Record<string, LakeValue | undefined>>;

/** A value that does not fit its column's type (or a null in a required column). */
export class LakeValueError extends TypeError {
  constructor(
    readonly table: LakeTableName,
    readonly column: string,
    readonly rowIndex: number,
    detail: string,
  ) {
    super(`${table}.${column} (row ${rowIndex}): ${detail}`);
    this.name = 'LakeValueError';
  }
}

/** Rows per row group: large enough for analytics scans, small enough to stream. */
const ROW_GROUP_SIZE = 128 * 1024;

/** The Parquet schema (root first) of a lake table. */
export function lakeParquetSchema(table: LakeTableName): SchemaElement[] {
  const { columns } = LAKE_TABLES[table];
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const column of columns) schema.push(schemaElement(column));
  return schema;
}

function schemaElement(column: LakeColumn): SchemaElement {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (column.type) {
    case 'string':
      return { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
    case 'int64':
      return { name: column.name, type: 'INT64', repetition_type };
    case 'double':
      return { name: column.name, type: 'DOUBLE', repetition_type };
    case 'boolean':
      return { name: column.name, type: 'BOOLEAN', repetition_type };
    case 'timestamp':
      return { name: column.name, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type };
  }
}

/**
 * The column data of the rows; throws LakeValueError when a value does not fit its column.
 * Missing keys are nulls; keys that are not columns are ignored. Strings are handed over as
 * UTF-8 bytes, encoded once per distinct value for repetitive columns; string columns carry no
 * min/max statistics (they cost more to compute than they save on unsorted data), the others do.
 */
export function lakeColumnData(table: LakeTableName, rows: readonly LakeRecord[]): ColumnSource[] {
  return LAKE_TABLES[table].columns.map((column) => ({
    name: column.name,
    data: columnValues(table, column, rows),
    statistics: column.type !== 'string',
  }));
}

/** Distinct strings remembered per column while encoding (bounds the cache of a unique-id column). */
const STRING_CACHE_LIMIT = 4096;

/**
 * Why a value does not fit a column (null when it does): strings are strings, int64 values safe
 * integers, doubles finite numbers, timestamps valid Dates; null (or undefined) only when nullable.
 */
export function lakeValueProblem(column: LakeColumn, v: unknown): string | null {
  if (v === null || v === undefined) return column.nullable ? null : 'is required';
  switch (column.type) {
    case 'string':
      return typeof v === 'string' ? null : `expected a string, got ${typeof v}`;
    case 'int64':
      return typeof v === 'number' && Number.isSafeInteger(v) ? null : 'expected a safe integer';
    case 'double':
      return typeof v === 'number' && Number.isFinite(v) ? null : 'expected a finite number';
    case 'boolean':
      return typeof v === 'boolean' ? null : `expected a boolean, got ${typeof v}`;
    case 'timestamp':
      return v instanceof Date && Number.isFinite(v.getTime()) ? null : 'expected a valid Date';
  }
}

function columnValues(table: LakeTableName, column: LakeColumn, rows: readonly LakeRecord[]): ColumnSource['data'] {
  const n = rows.length;
  const { name, type } = column;
  const out: (Uint8Array | number | bigint | boolean | null)[] = new Array(n);
  const cache = type === 'string' ? new Map<string, Uint8Array>() : null;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    const problem = lakeValueProblem(column, v);
    if (problem !== null) throw new LakeValueError(table, name, i, problem);
    if (v === null || v === undefined) out[i] = null;
    else if (cache !== null) {
      let bytes = cache.get(v as string);
      if (bytes === undefined) {
        bytes = Buffer.from(v as string, 'utf8');
        if (cache.size < STRING_CACHE_LIMIT) cache.set(v as string, bytes);
      }
      out[i] = bytes;
    } else if (type === 'int64') out[i] = BigInt(v as number);
    else if (type === 'timestamp') out[i] = BigInt((v as Date).getTime()) * 1000n;
    else out[i] = v as number | boolean;
  }
  return out;
}

/** Encodes the rows as a Parquet file in memory. */
export async function encodeLakeParquet(
  table: LakeTableName,
  rows: readonly LakeRecord[],
  options: { kvMetadata?: Record<string, string> } = {},
): Promise<Uint8Array> {
  const writer = new ByteWriter(Math.max(1024, rows.length * 64));
  await parquetWrite({
    writer,
    schema: lakeParquetSchema(table),
    columnData: lakeColumnData(table, rows),
    rowGroupSize: ROW_GROUP_SIZE,
    createdBy: 'adclick lake writer',
    kvMetadata: [
      { key: 'adclick.table', value: table },
      ...Object.entries(options.kvMetadata ?? {}).map(([key, value]) => ({ key, value })),
    ],
  });
  return writer.getBytes();
}

/**
 * Writes the rows to `path` atomically: into `<path>.tmp`, fsynced, then renamed over `path`
 * (so a reader sees the whole file or none of it, and a rewrite replaces the file). The caller
 * fsyncs the directory to make the rename durable.
 */
export async function writeLakeParquetFile(
  path: string,
  table: LakeTableName,
  rows: readonly LakeRecord[],
  options: { kvMetadata?: Record<string, string> } = {},
): Promise<{ bytes: number }> {
  const bytes = await encodeLakeParquet(table, rows, options);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  return { bytes: bytes.length };
}
