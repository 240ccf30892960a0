import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoPredictionLog } from '../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import type { DynamoTableNames } from '../../../lambdas/adapters/aws/dynamodb/tables.js';
import { DeadLetterPredictionLog } from '../../../lambdas/adapters/aws/sqs/dead-letter-prediction-log.js';
import {
  createPredictionLogRedriveHandler,
  type PredictionLogRedriveHandler,
  parsePredictionLogRedriveConfig,
} from '../../../lambdas/handlers/prediction-log-redrive.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { queueUrl, sqsEvent, sqsRecord } from '../../support/stream-events.js';
import { lambdaContext } from '../../unit/handlers/api-gateway-events.js';
import { prediction, sqsAnswer } from '../aws/sqs/dead-letter-fixtures.js';
import { type ThrottledDynamo, throttledDynamo } from '../aws/sqs/throttled-dynamo.js';

const QUEUE = 'adclick-prediction-log-dlq';

describe('the prediction log redrive', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let dynamo: ThrottledDynamo;
  const sqs = mockClient(SQSClient);
  const sqsClient = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const logger = new PowertoolsLogger({ serviceName: 'adclick-prediction-log-redrive-test', logLevel: 'SILENT' });
  let handle: PredictionLogRedriveHandler;

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
    vi.restoreAllMocks();
    handle = createPredictionLogRedriveHandler({
      logger,
      log: () => new DynamoPredictionLog(dynamo.doc, tables.predictions),
    });
  });

  afterEach(() => {
    dynamo.destroy();
  });

  /** The API's log: DynamoDB behind the dead-letter decorator. */
  const apiLog = () =>
    new DeadLetterPredictionLog(new DynamoPredictionLog(dynamo.doc, tables.predictions), sqsClient, {
      queueUrl: queueUrl(QUEUE),
    });

  /** What Lambda would deliver from the queue: every message the API sent, as an SQSEvent. */
  const deliveredEvent = (): SQSEvent =>
    sqsEvent(
      sqs
        .commandCalls(SendMessageBatchCommand)
        .flatMap((c) => c.args[0].input.Entries ?? [])
        .map((e, i) => sqsRecord(QUEUE, i, e.MessageBody!)),
    );

  const rawItem = async (table: string, id: string) =>
    (await db.client.send(new GetItemCommand({ TableName: table, Key: { prediction_id: { S: id } } }))).Item;

  it('puts a throttled prediction back into the log, stored exactly as a direct put stores it', async () => {
    // Prepare: DynamoDB throttles the API's put past its retries, so the record goes to the queue
    const records = [prediction('p1'), prediction('p2', { user_id: null, consent: false, explanation: null })];
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    expect(await apiLog().putAll(records)).toEqual({ duplicates: [] });
    dynamo.throttleNext = 0;
    const direct = await db.freshTables();
    await new DynamoPredictionLog(db.doc, direct.predictions).putAll(records);

    // Act
    const response = await handle(deliveredEvent(), lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await apiLog().getMany(['p1', 'p2'])).toEqual(records);
    for (const id of ['p1', 'p2']) {
      expect(await rawItem(tables.predictions, id)).toEqual(await rawItem(direct.predictions, id));
    }
  });

  it('counts a replayed redrive once and keeps the stored record', async () => {
    // Prepare
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    await apiLog().putAll([prediction('p1')]);
    dynamo.throttleNext = 0;
    const event = deliveredEvent();
    await handle(event, lambdaContext());
    const stored = await rawItem(tables.predictions, 'p1');

    // Act: SQS delivers the same message again (at least once)
    const again = await handle(event, lambdaContext());

    // Assess
    expect(again).toEqual({ batchItemFailures: [] });
    const scan = await db.client.send(new ScanCommand({ TableName: tables.predictions, Select: 'COUNT' }));
    expect(scan.Count).toBe(1);
    expect(await rawItem(tables.predictions, 'p1')).toEqual(stored);
  });

  it('keeps the record the client stored on its retry when the parked copy arrives later', async () => {
    // Prepare: parked while throttled; the client's retry (same id) then lands directly, re-scored
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    await apiLog().putAll([prediction('p1')]);
    dynamo.throttleNext = 0;
    await apiLog().putAll([prediction('p1', { probability: 0.5 })]);

    // Act
    const response = await handle(deliveredEvent(), lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await apiLog().getMany(['p1']))[0]?.probability).toBe(0.5);
  });

  it('reports a message back to the queue while DynamoDB still throttles', async () => {
    // Prepare
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    await apiLog().putAll([prediction('p1')]);
    const event = deliveredEvent();

    // Act
    const response = await handle(event, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    dynamo.throttleNext = 0;
    expect(await apiLog().getMany(['p1'])).toEqual([undefined]);
  });

  it('logs a malformed message and reports it failed, writing the good ones', async () => {
    // Prepare
    dynamo.throttleNext = Number.POSITIVE_INFINITY;
    await apiLog().putAll([prediction('p1')]);
    dynamo.throttleNext = 0;
    const good = deliveredEvent().Records[0]!;
    const malformed = [
      sqsRecord(QUEUE, 7, 'not json'),
      sqsRecord(QUEUE, 8, JSON.stringify({ kind: 'something-else', records: [] })),
      sqsRecord(QUEUE, 9, good.body.replace('"probability":0.30000000000000004', '"probability":"high"')),
    ];
    const error = vi.spyOn(logger, 'error');

    // Act
    const response = await handle(sqsEvent([malformed[0]!, good, ...malformed.slice(1)]), lambdaContext());

    // Assess
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      malformed.map((m) => m.messageId).sort(),
    );
    expect(await apiLog().getMany(['p1'])).toEqual([prediction('p1')]);
    expect(error.mock.calls.filter(([message]) => String(message).startsWith('malformed'))).toHaveLength(3);
  });
});

describe('the prediction log redrive configuration', () => {
  it('names the missing table variable', () => {
    // Act
    const parse = () => parsePredictionLogRedriveConfig({ AWS_REGION: 'eu-west-1', ADCLICK_PREDICTIONS_TABLE: ' ' });

    // Assess
    expect(parse).toThrow(/ADCLICK_PREDICTIONS_TABLE is empty/);
  });
});
