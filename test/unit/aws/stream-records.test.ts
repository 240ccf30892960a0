import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  LakeStreamDecoder,
  PoisonRecordError,
  streamNameOfArn,
} from '../../../lambdas/adapters/aws/kinesis/stream-records.js';
import { ConfigError } from '../../../lambdas/handlers/config.js';
import { parseFraudConsumerConfig } from '../../../lambdas/handlers/fraud-consumer.js';

const record = (stream: string, data: string): KinesisStreamRecord => ({
  kinesis: {
    kinesisSchemaVersion: '1.0',
    partitionKey: 'pk',
    sequenceNumber: '49657000000000000000000000000000000000000000000000000001',
    data,
    approximateArrivalTimestamp: 1_796_378_400,
  },
  eventSource: 'aws:kinesis',
  eventVersion: '1.0',
  eventID: 'shardId-000000000000:49657000000000000000000000000000000000000000000000000001',
  eventName: 'aws:kinesis:record',
  invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
  awsRegion: 'eu-west-1',
  eventSourceARN: `arn:aws:kinesis:eu-west-1:123456789012:stream/${stream}`,
});
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('LakeStreamDecoder', () => {
  const decoder = new LakeStreamDecoder({ ad_impressions: 'imps', clicks: 'clicks' });

  it('returns the row of the table whose stream the record came from', () => {
    expect(decoder.decode(record('clicks', b64('{"click_id":"c1"}')))).toEqual({
      table: 'clicks',
      row: { click_id: 'c1' },
    });
  });

  it.each([
    ['a stream of no lake table', record('other', b64('{}')), /not a lake table/],
    ['data that is not JSON', record('clicks', b64('{"click_id":')), /not base64-encoded JSON/],
    ['a JSON array', record('clicks', b64('[1]')), /not a JSON object/],
    ['JSON null', record('clicks', b64('null')), /not a JSON object/],
  ])('throws PoisonRecordError for %s', (_, r, reason) => {
    expect(() => decoder.decode(r)).toThrow(PoisonRecordError);
    expect(() => decoder.decode(r)).toThrow(reason);
  });

  it('reads the stream name from a Kinesis ARN, in any partition', () => {
    expect(streamNameOfArn('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/x-y')).toBe('x-y');
    expect(streamNameOfArn('arn:aws:sqs:eu-west-1:123456789012:queue')).toBeUndefined();
    expect(streamNameOfArn(undefined)).toBeUndefined();
  });
});

describe('fraud consumer configuration', () => {
  it('names every missing variable without echoing values', () => {
    try {
      parseFraudConsumerConfig({ AWS_REGION: 'eu-west-1', ADCLICK_CLICKS_STREAM: 'c' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        'ADCLICK_IMPRESSIONS_STREAM is not set',
        'ADCLICK_SUSPICIOUS_EVENTS_STREAM is not set',
      ]);
    }
  });
});
