/**
 * A Kinesis record as a stream consumer receives it (base64 `data`, the source stream's ARN) back
 * into the lake row the API appended (lake-json.ts: one JSON object of the table's columns,
 * timestamps as epoch milliseconds). The table is the one whose stream the record came from.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { LAKE_TABLE_NAMES, type LakeTableName } from '../../../core/lake/tables.js';
import type { LakeRow } from '../../../core/ports.js';

/** A record no retry can fix: logged, counted and skipped, so it never stalls its shard. */
export class PoisonRecordError extends Error {
  constructor(
    readonly sequenceNumber: string,
    readonly reason: string,
  ) {
    super(`Kinesis record ${sequenceNumber} skipped: ${reason}`);
    this.name = 'PoisonRecordError';
  }
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` → `<name>`; undefined for anything else. */
export function streamNameOfArn(arn: string | undefined): string | undefined {
  const match = /^arn:aws[a-z-]*:kinesis:[^:]*:\d*:stream\/([^/]+)$/.exec(arn ?? '');
  return match?.[1];
}

/** A record's data as the JSON object it carries, or why it is not one. */
export function parseRecordData(data: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return 'data is not base64-encoded JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'data is not a JSON object';
  return value as Record<string, unknown>;
}

export class LakeStreamDecoder {
  private readonly tables: ReadonlyMap<string, LakeTableName>;

  /** `streams`: the stream name of each lake table the consumer reads. */
  constructor(streams: Readonly<Partial<Record<LakeTableName, string>>>) {
    const tables = new Map<string, LakeTableName>();
    for (const table of LAKE_TABLE_NAMES) {
      const stream = streams[table];
      if (stream !== undefined) tables.set(stream, table);
    }
    this.tables = tables;
  }

  /** The lake row of the record; throws PoisonRecordError when it is not one. */
  decode(record: KinesisStreamRecord): LakeRow {
    const seq = record.kinesis.sequenceNumber;
    const stream = streamNameOfArn(record.eventSourceARN);
    const table = stream === undefined ? undefined : this.tables.get(stream);
    if (table === undefined)
      throw new PoisonRecordError(seq, `stream ${stream ?? '(unknown ARN)'} is not a lake table's`);
    const row = parseRecordData(record.kinesis.data);
    if (typeof row === 'string') throw new PoisonRecordError(seq, row);
    return { table, row: row as LakeRow['row'] };
  }
}
