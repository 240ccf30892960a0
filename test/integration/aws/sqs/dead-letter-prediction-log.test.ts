import {
  RequestThrottled,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoPredictionLog } from '../../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import { DeadLetterPredictionLog } from '../../../../lambdas/adapters/aws/sqs/dead-letter-prediction-log.js';
import { decodePredictionMessage } from '../../../../lambdas/adapters/aws/sqs/prediction-log-message.js';
import { toProblem } from '../../../../lambdas/core/api/problem.js';
import { DependencyUnavailableError } from '../../../../lambdas/core/errors.js';
import type { PredictionRecord } from '../../../../lambdas/core/ports.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { fakeTiming } from '../../../support/fake-timing.js';
import { queueUrl } from '../../../support/stream-events.js';
import { prediction, sqsAnswer } from './dead-letter-fixtures.js';
import { type ThrottledDynamo, throttledDynamo } from './throttled-dynamo.js';

const QUEUE = queueUrl('adclick-prediction-log-dlq');
describe('the dead-letter prediction log', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let dynamo: ThrottledDynamo;
  const sqs = mockClient(SQSClient);
  const sqsClient = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    sqs.restore();
    await db.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
    dynamo = throttledDynamo(db.endpoint);
    sqs.reset();
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => sqsAnswer(input));
  });

  afterEach(() => {
    dynamo.destroy();
  });

  const log = (options: { maxMessageBytes?: number } = {}) =>
    new DeadLetterPredictionLog(new DynamoPredictionLog(dynamo.doc, tables.predictions), sqsClient, {
      queueUrl: QUEUE,
      timing: fakeTiming(),
      ...options,
    });

  const queued = (): PredictionRecord[] =>
    sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .flatMap((e) => {
        const decoded = decodePredictionMessage(e.MessageBody!);
        if (!decoded.ok) throw new Error(decoded.problem);
        return decoded.records;
      });

  it('writes through to DynamoDB and sends nothing to the queue when DynamoDB answers', async () => {
    // Act
    const result = await log().putAll([prediction('p1')]);

    // Assess
    expect(result).toEqual({ duplicates: [] });
    expect(await log().getMany(['p1'])).toEqual([prediction('p1')]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('lets the client retry a brief throttle before any record goes to the queue', async () => {
    // Prepare: two throttles, inside the client's three attempts
    dynamo.throttleNext = 2;

    // Act
    const result = await log().putAll([prediction('p1')]);

    // Assess
    expect(result).toEqual({ duplicates: [] });
    expect(dynamo.putCalls).toBe(3);
    expect(await log().getMany(['p1'])).toEqual([prediction('p1')]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('parks the records, losslessly, on the queue once the throttling outlasts the retries', async () => {
    // Prepare
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    const records = [prediction('p1'), prediction('p2', { user_id: null, consent: false, explanation: null })];

    // Act
    const result = await log().putAll(records);

    // Assess: answered as written; not in DynamoDB; exactly the records on the queue
    expect(result).toEqual({ duplicates: [] });
    expect(dynamo.putCalls).toBe(6);
    dynamo.throttleNext = 0;
    expect(await log().getMany(['p1', 'p2'])).toEqual([undefined, undefined]);
    const sent = sqs.commandCalls(SendMessageBatchCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.args[0].input.QueueUrl).toBe(QUEUE);
    expect(queued()).toEqual(records);
  });

  it('splits the records into messages and requests within the SQS limits', async () => {
    // Prepare: about 1 KB a record, 2 KB messages → one record a message, 25 messages → 3 requests
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    const records = Array.from({ length: 25 }, (_, i) => prediction(`p${i}`, { features: { blob: 'x'.repeat(900) } }));

    // Act
    await log({ maxMessageBytes: 2_000 }).putAll(records);

    // Assess
    const requests = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
    expect(requests.map((r) => r.length)).toEqual([10, 10, 5]);
    for (const entries of requests) {
      expect(new Set(entries.map((e) => e.Id)).size).toBe(entries.length);
      for (const e of entries) expect(Buffer.byteLength(e.MessageBody!)).toBeLessThanOrEqual(2_000);
    }
    expect(queued()).toEqual(records);
  });

  it('re-sends only the entries SQS failed', async () => {
    // Prepare: the first request fails entries m1 and m3
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    const records = Array.from({ length: 4 }, (_, i) => prediction(`p${i}`, { features: { blob: 'x'.repeat(900) } }));
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: SendMessageBatchCommandInput) => sqsAnswer(input, (id) => id === 'm1' || id === 'm3'))
      .callsFake((input: SendMessageBatchCommandInput) => sqsAnswer(input));

    // Act
    const result = await log({ maxMessageBytes: 2_000 }).putAll(records);

    // Assess
    expect(result).toEqual({ duplicates: [] });
    const ids = sqs.commandCalls(SendMessageBatchCommand).map((c) => (c.args[0].input.Entries ?? []).map((e) => e.Id));
    expect(ids).toEqual([
      ['m0', 'm1', 'm2', 'm3'],
      ['m1', 'm3'],
    ]);
  });

  it('answers 503 (DependencyUnavailable) when the queue cannot take the records either', async () => {
    // Prepare
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    sqs
      .on(SendMessageBatchCommand)
      .rejects(new RequestThrottled({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    // Act
    const failure = await log()
      .putAll([prediction('p1')])
      .catch((err: unknown) => err);

    // Assess
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect(toProblem(failure).status).toBe(503);
    expect((failure as Error).cause).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(sqs.commandCalls(SendMessageBatchCommand).length).toBeGreaterThan(1);
  });

  it('does not park records when the failure is not a throttle or an outage', async () => {
    // Prepare: a table that does not exist is a broken deployment, not a busy one
    const broken = new DeadLetterPredictionLog(new DynamoPredictionLog(dynamo.doc, 'no-such-table'), sqsClient, {
      queueUrl: QUEUE,
    });

    // Act
    const failure = await broken.putAll([prediction('p1')]).catch((err: unknown) => err);

    // Assess
    expect(failure).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
