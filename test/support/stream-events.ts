/**
 * DynamoDB Streams and SQS events as Lambda delivers them (@types/aws-lambda shapes, with the
 * fields a real event carries: ARNs, sequence numbers, approximate creation times, SQS
 * attributes and MD5s), built around the images and bodies a test supplies.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent, SQSEvent, SQSRecord } from 'aws-lambda';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

export function tableStreamArn(table: string): string {
  return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/stream/2026-12-01T00:00:00.000`;
}

/** Sequence numbers as DynamoDB Streams writes them: 21+ decimal digits, increasing in a shard. */
export function sequenceNumber(n: number): string {
  return `4${String(100_000_000_000_000_000_000 + n * 100).padStart(21, '0')}`;
}

export interface StreamRecordSpec {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Record<string, SdkAttributeValue>;
  readonly newImage?: Record<string, SdkAttributeValue>;
  readonly oldImage?: Record<string, SdkAttributeValue>;
  /** Epoch seconds of the change. */
  readonly createdAt?: number;
}

/**
 * One stream record. A REMOVE made by TTL carries DynamoDB's service identity, as AWS sends it;
 * NEW_IMAGE streams carry no OldImage, so `oldImage` is dropped for that view.
 */
export function dynamodbStreamRecord(table: string, n: number, spec: StreamRecordSpec): DynamoDBRecord {
  const image = spec.eventName === 'REMOVE' ? undefined : spec.newImage;
  return {
    eventID: createHash('md5').update(`${table}:${n}`).digest('hex'),
    eventName: spec.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    dynamodb: {
      ApproximateCreationDateTime: spec.createdAt ?? 1_796_378_400,
      Keys: spec.keys as Record<string, AttributeValue>,
      ...(image ? { NewImage: image as Record<string, AttributeValue> } : {}),
      SequenceNumber: sequenceNumber(n),
      SizeBytes: Buffer.byteLength(JSON.stringify({ k: spec.keys, i: image ?? {} })),
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: tableStreamArn(table),
    ...(spec.eventName === 'REMOVE'
      ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } }
      : {}),
  };
}

export function dynamodbStreamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

export function queueArn(queue: string): string {
  return `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}`;
}

export function queueUrl(queue: string): string {
  return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queue}`;
}

/** One SQS message as the event source mapping delivers it. */
export function sqsRecord(queue: string, n: number, body: string, receiveCount = 1): SQSRecord {
  const messageId = `0f6a3c2e-1b7d-4e59-9a0c-${String(n).padStart(12, '0')}`;
  return {
    messageId,
    receiptHandle: `AQEB${Buffer.from(`${queue}:${messageId}:${receiveCount}`).toString('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1796378400123',
      SenderId: 'AROAEXAMPLEROLEID:adclick-api',
      ApproximateFirstReceiveTimestamp: '1796378401456',
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(queue),
    awsRegion: REGION,
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
