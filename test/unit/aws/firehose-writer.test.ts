import type { PutRecordBatchCommand, PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import { describe, expect, it } from 'vitest';
import {
  FIREHOSE_MAX_BYTES_PER_RECORD,
  FirehoseWriter,
  type PutRecordBatchClient,
} from '../../../lambdas/adapters/aws/firehose/firehose-writer.js';

/** A delivery stream that accepts everything and remembers each request's record sizes. */
function acceptingStream(): PutRecordBatchClient & { requests: number[][] } {
  const requests: number[][] = [];
  return {
    requests,
    send: async (command: PutRecordBatchCommand): Promise<PutRecordBatchCommandOutput> => {
      const records = command.input.Records ?? [];
      requests.push(records.map((r) => r.Data!.length));
      return {
        $metadata: { httpStatusCode: 200 },
        FailedPutCount: 0,
        Encrypted: false,
        RequestResponses: records.map((_, i) => ({ RecordId: `rec-${i}` })),
      };
    },
  };
}

describe('the Firehose writer', () => {
  it('sends at most 500 records a request', async () => {
    // Prepare
    const stream = acceptingStream();
    const writer = new FirehoseWriter(stream, { deliveryStreamName: 's' });

    // Act
    const result = await writer.putAll(Array.from({ length: 1_201 }, (_, i) => `{"i":${i}}`));

    // Assess
    expect(stream.requests.map((r) => r.length)).toEqual([500, 500, 201]);
    expect(result).toMatchObject({ delivered: 1_201, failed: [], requests: 3 });
  });

  it('keeps each request within 4 MiB', async () => {
    // Prepare: 900 KB lines, so 4 fit in a request and the fifth starts the next
    const stream = acceptingStream();
    const writer = new FirehoseWriter(stream, { deliveryStreamName: 's' });
    const line = 'x'.repeat(900_000);

    // Act
    await writer.putAll(Array.from({ length: 10 }, () => line));

    // Assess
    expect(stream.requests.map((r) => r.length)).toEqual([4, 4, 2]);
    for (const sizes of stream.requests) expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('refuses a record over 1,000 KiB without sending it and delivers the others', async () => {
    // Prepare: the newline the writer appends is what tips the record over
    const stream = acceptingStream();
    const writer = new FirehoseWriter(stream, { deliveryStreamName: 's' });

    // Act
    const result = await writer.putAll(['{}', 'x'.repeat(FIREHOSE_MAX_BYTES_PER_RECORD), '{}']);

    // Assess
    expect(result.failed.map((f) => f.index)).toEqual([1]);
    expect(result.delivered).toBe(2);
    expect(stream.requests).toEqual([[3, 3]]);
  });
});
