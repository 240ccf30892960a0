/**
 * A lake row as the Kinesis record the Firehose converts to Parquet against the Glue schema: one
 * JSON object of the table's columns, every column present (null when absent), timestamps as
 * milliseconds since the epoch (the Firehose's Hive JSON SerDe reads them with the `millis`
 * timestamp format).
 *
 * The local log's RowCodec already validates and serialises a row in one pass; its payload is
 * `<table> <that object>`, so this codec is the RowCodec minus its table prefix. Validation and
 * the JSON stay the same code in both adapters.
 */
import type { LakeTableName } from '../../../core/lake/tables.js';
import { RowCodec } from '../../local/event-log/row-codec.js';

export class LakeJsonCodec {
  readonly table: LakeTableName;
  readonly idColumn: string;
  private readonly codec: RowCodec;
  private readonly prefixLength: number;

  constructor(table: LakeTableName) {
    this.codec = new RowCodec(table);
    this.table = table;
    this.idColumn = this.codec.idColumn;
    this.prefixLength = table.length + 1;
  }

  /** Why the last `serialize` returned null. */
  get problem(): string {
    return this.codec.problem;
  }

  /** The row as a JSON object of the table's columns, or null (see `problem`) when it does not fit the table. */
  serialize(row: Readonly<Record<string, unknown>>): string | null {
    const payload = this.codec.serialize(row);
    return payload === null ? null : payload.slice(this.prefixLength);
  }
}
