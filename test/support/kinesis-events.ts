/**
 * Kinesis events as Lambda delivers them to a stream consumer (KinesisStreamEvent of
 * @types/aws-lambda): base64 data, realistic ARNs, event ids, sequence numbers and arrival times.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export const KINESIS_REGION = 'us-east-1';
export const KINESIS_ACCOUNT = '123456789012';
export const DEFAULT_SHARD_ID = 'shardId-000000000000';

export interface KinesisRecordSpec {
  /** An object is sent as its JSON; a string is sent as is (so a test can send poison). */
  readonly data: string | object;
  /** Default: the row's id column (`click_id`, `impression_id`), as the event log sets it. */
  readonly partitionKey?: string;
  /** Default: increasing from one event to the next in this process. */
  readonly sequenceNumber?: string;
  /** Default: `adclick-clicks` for a row with `click_id`, else `adclick-ad-impressions`. */
  readonly streamName?: string;
  readonly shardId?: string;
}

export function kinesisStreamArn(streamName: string): string {
  return `arn:aws:kinesis:${KINESIS_REGION}:${KINESIS_ACCOUNT}:stream/${streamName}`;
}

// Kinesis sequence numbers are 56 digits today, increasing within a shard.
let nextSequence = 49_656_780_238_498_172_537_163_924_416_349_818_946_173_890_476_800_000_002n;

/** A sequence number above every one this helper gave before. */
export function nextSequenceNumber(): string {
  nextSequence += 1_000n;
  return nextSequence.toString();
}

function idOf(data: string | object): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const row = data as Record<string, unknown>;
  const id = row.click_id ?? row.impression_id;
  return typeof id === 'string' ? id : undefined;
}

export function kinesisRecord(spec: KinesisRecordSpec): KinesisStreamRecord {
  const text = typeof spec.data === 'string' ? spec.data : JSON.stringify(spec.data);
  const sequenceNumber = spec.sequenceNumber ?? nextSequenceNumber();
  const isClick = typeof spec.data === 'object' && spec.data !== null && 'click_id' in spec.data;
  const streamName = spec.streamName ?? (isClick ? 'adclick-clicks' : 'adclick-ad-impressions');
  const shardId = spec.shardId ?? DEFAULT_SHARD_ID;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: spec.partitionKey ?? idOf(spec.data) ?? 'partition-0',
      sequenceNumber,
      data: Buffer.from(text, 'utf8').toString('base64'),
      approximateArrivalTimestamp: 1_764_900_000.123,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${KINESIS_ACCOUNT}:role/adclick-stream-consumer`,
    awsRegion: KINESIS_REGION,
    eventSourceARN: kinesisStreamArn(streamName),
  };
}

/** One batch: Lambda delivers records of one shard of one stream, in sequence order. */
export function kinesisEvent(records: readonly KinesisRecordSpec[]): KinesisStreamEvent {
  return { Records: records.map(kinesisRecord) };
}
