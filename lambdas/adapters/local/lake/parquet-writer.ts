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
 * REQUIRED. Columns are written in the table's column order, Snappy-compressed; string columns
 * carry no min/max statistics (they cost more to compute than they save on unsorted data), the
 * others do.
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
    readonly rowIndex: number,
    detail: string,
  ) {
    super(`${table} (row ${rowIndex}): ${detail}`);
    this.name = 'LakeValueError';
  }
}

/** Rows per row group: large enough for analytics scans, small enough to stream. */
const ROW_GROUP_SIZE = 128 * 1024;
/** Distinct strings remembered per column while encoding (bounds the cache of a unique-id column). */
const STRING_CACHE_LIMIT = 4096;

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

/** Epoch milliseconds of a timestamp given as a Date, epoch milliseconds or ISO 8601 text; NaN otherwise. */
export function timestampMillis(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (typeof v === 'string') return Date.parse(v);
  return Number.NaN;
}

/**
 * Accumulates rows of one table column by column (timestamps as epoch milliseconds), so that a
 * large batch holds no row objects, then hands the columns to the Parquet encoder.
 */
export class LakeColumnsBuilder {
  readonly table: LakeTableName;
  private readonly columns: readonly LakeColumn[];
  private readonly values: unknown[][];
  private readonly staged: unknown[];
  private count = 0;

  constructor(table: LakeTableName) {
    this.table = table;
    this.columns = LAKE_TABLES[table].columns;
    this.values = this.columns.map(() => []);
    this.staged = new Array(this.columns.length);
  }

  get rowCount(): number {
    return this.count;
  }

  /**
   * Adds the row, or returns why it does not fit the table (and adds nothing). Timestamps may be
   * Dates, epoch milliseconds or ISO 8601 text; missing nullable values are null; keys that are
   * not columns are ignored.
   */
  add(row: Readonly<Record<string, unknown>>): string | null {
    const columns = this.columns;
    const staged = this.staged;
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      let v = row[column.name];
      if (column.type === 'timestamp' && v !== null && v !== undefined) {
        v = timestampMillis(v);
        if (Number.isNaN(v)) return `${column.name} expected a valid timestamp`;
      } else {
        const problem = lakeValueProblem(column, v);
        if (problem !== null) return `${column.name} ${problem}`;
      }
      staged[c] = v ?? null;
    }
    for (let c = 0; c < columns.length; c++) this.values[c]!.push(staged[c]);
    this.count++;
    return null;
  }

  /** The columns as hyparquet-writer input. */
  columnData(): ColumnSource[] {
    return this.columns.map((column, c) => ({
      name: column.name,
      data: physicalValues(column, this.values[c]!),
      statistics: column.type !== 'string',
    }));
  }
}

function physicalValues(column: LakeColumn, values: readonly unknown[]): ColumnSource['data'] {
  const n = values.length;
  switch (column.type) {
    case 'string': {
      // UTF-8 once per distinct value of a repetitive column (device types, ad ids, ...).
      const cache = new Map<string, Uint8Array>();
      const out: (Uint8Array | null)[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i] as string | null;
        if (v === null) {
          out[i] = null;
          continue;
        }
        let bytes = cache.get(v);
        if (bytes === undefined) {
          bytes = Buffer.from(v, 'utf8');
          if (cache.size < STRING_CACHE_LIMIT) cache.set(v, bytes);
        }
        out[i] = bytes;
      }
      return out;
    }
    case 'int64':
    case 'timestamp': {
      const scale = column.type === 'timestamp' ? 1000n : 1n;
      if (!column.nullable) {
        const out = new BigInt64Array(n);
        for (let i = 0; i < n; i++) out[i] = BigInt(values[i] as number) * scale;
        return out;
      }
      return values.map((v) => (v === null ? null : BigInt(v as number) * scale));
    }
    case 'double':
      return column.nullable ? (values as (number | null)[]) : Float64Array.from(values as number[]);
    case 'boolean':
      return values as (boolean | null)[];
  }
}

/** Encodes the builder's rows as a Parquet file in memory. */
export async function encodeLakeColumns(
  columns: LakeColumnsBuilder,
  options: { kvMetadata?: Record<string, string> } = {},
): Promise<Uint8Array> {
  const writer = new ByteWriter(Math.max(1024, columns.rowCount * 64));
  await parquetWrite({
    writer,
    schema: lakeParquetSchema(columns.table),
    columnData: columns.columnData(),
    rowGroupSize: ROW_GROUP_SIZE,
    createdBy: 'adclick lake writer',
    kvMetadata: [
      { key: 'adclick.table', value: columns.table },
      ...Object.entries(options.kvMetadata ?? {}).map(([key, value]) => ({ key, value })),
    ],
  });
  return writer.getBytes();
}

/** The rows as a builder; throws LakeValueError when a row does not fit the table. */
export function lakeColumns(table: LakeTableName, rows: readonly LakeRecord[]): LakeColumnsBuilder {
  const builder = new LakeColumnsBuilder(table);
  for (let i = 0; i < rows.length; i++) {
    const problem = builder.add(rows[i]!);
    if (problem !== null) throw new LakeValueError(table, i, problem);
  }
  return builder;
}

/** Encodes rows of a table as a Parquet file in memory; throws LakeValueError for a row that does not fit. */
export async function encodeLakeParquet(
  table: LakeTableName,
  rows: readonly LakeRecord[],
  options: { kvMetadata?: Record<string, string> } = {},
): Promise<Uint8Array> {
  return await encodeLakeColumns(lakeColumns(table, rows), options);
}

/**
 * Writes the rows (a builder, or row objects) to `path` atomically: into `<path>.tmp`, fsynced,
 * then renamed over `path`, so a reader sees the whole file or none of it and a rewrite replaces
 * the file. The caller fsyncs the directory to make the rename durable.
 */
export async function writeLakeParquetFile(
  path: string,
  table: LakeTableName,
  rows: LakeColumnsBuilder | readonly LakeRecord[],
  options: { kvMetadata?: Record<string, string> } = {},
): Promise<{ bytes: number }> {
  const builder = rows instanceof LakeColumnsBuilder ? rows : lakeColumns(table, rows);
  if (builder.table !== table) throw new Error(`rows of ${builder.table} cannot be written as ${table}`);
  const bytes = await encodeLakeColumns(builder, options);
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
