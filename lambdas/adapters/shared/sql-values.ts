/** The values the shared SQL (sql/) is bound with and answers in, on either engine. */
import type { LakeTableName } from '../../core/lake/tables.js';

/** A positional `?` value: DuckDB binds it; Athena takes it as a SQL literal (aws/athena/sql-literal.ts). */
export type SqlParam = string | number | boolean | null;

/** One result row as plain JSON values: BIGINTs as numbers, TIMESTAMPs and DATEs as ISO 8601 UTC text. */
export type SqlRow = Record<string, string | number | boolean | null>;

/**
 * A table's partitions holding the instants first..last (whole UTC hours, inclusive): what a
 * query reads of it, when it says so up front.
 */
export type PartitionRange = readonly [table: LakeTableName, first: Date, last: Date];
