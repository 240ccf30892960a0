import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
  type PutRecordBatchCommandOutput,
  ResourceNotFoundException,
} from '@aws-sdk/client-firehose';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoPredictionLog } from '../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import type { DynamoTableNames } from '../../../lambdas/adapters/aws/dynamodb/tables.js';
import { FirehoseWriter } from '../../../lambdas/adapters/aws/firehose/firehose-writer.js';
import type { PredictionRecord } from '../../../lambdas/core/ports.js';
import {
  createPredictionLogStreamHandler,
  type PredictionLogStreamHandler,
  parsePredictionLogStreamConfig,
} from '../../../lambdas/handlers/prediction-log-stream.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { fakeTiming } from '../../support/fake-timing.js';
import { dynamodbStreamEvent, dynamodbStreamRecord, sequenceNumber } from '../../support/stream-events.js';
import { lambdaContext } from '../../unit/handlers/api-gateway-events.js';

const STREAM = 'adclick-model-predictions';
const AT = new Date('2026-12-04T10:00:00.123Z');

const record = (id: string, patch: Partial<PredictionRecord> = {}): PredictionRecord => ({
  prediction_id: id,
  request_id: `req-${id}`,
  user_id: 'u_3f1c9a',
  ad_id: 'ad_14',
  probability: 0.0213,
  model_id: 'm_0192a1b2',
  model_version: '2026-12-01.1',
  variant: 'champion',
  experiment_id: null,
  fallback: false,
  consent: true,
  features: { device_type: 'mobile', position: 1, returning: true, region: null, ad_ctr: 0.031 },
  explanation: { base_value: -3, contributions: { device_type: 0.25 } },
  exploration_bonus: null,
  model_latency_ms: null,
  timestamp: AT,
  ...patch,
});

/** Firehose's reply accepting every record of a request. */
const accepted = (n: number): PutRecordBatchCommandOutput => ({
  $metadata: { httpStatusCode: 200 },
  FailedPutCount: 0,
  Encrypted: false,
  RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `49654${String(i).padStart(51, '0')}` })),
});

/** Firehose's reply refusing the records `fails` picks (ServiceUnavailableException is its throttle). */
const partly = (input: PutRecordBatchCommandInput, fails: (line: string) => boolean): PutRecordBatchCommandOutput => {
  const lines = linesOf(input);
  const responses = lines.map((line, i) =>
    fails(line)
      ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
      : { RecordId: `49654${String(i).padStart(51, '0')}` },
  );
  return {
    $metadata: { httpStatusCode: 200 },
    FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length,
    Encrypted: false,
    RequestResponses: responses,
  };
};

function linesOf(input: PutRecordBatchCommandInput): string[] {
  return (input.Records ?? []).map((r) => Buffer.from(r.Data!).toString('utf8'));
}

describe('the prediction log stream consumer', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let log: DynamoPredictionLog;
  const firehose = mockClient(FirehoseClient);
  const logger = new PowertoolsLogger({ serviceName: 'adclick-prediction-log-stream-test', logLevel: 'SILENT' });
  let handle: PredictionLogStreamHandler;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    firehose.restore();
    await db.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
    log = new DynamoPredictionLog(db.doc, tables.predictions);
    firehose.reset();
    vi.restoreAllMocks();
    const client = new FirehoseClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const writer = new FirehoseWriter(client, {
      deliveryStreamName: STREAM,
      retry: { baseDelayMs: 50, maxDelayMs: 1_000, maxTotalMs: 3_000 },
      timing: fakeTiming(),
    });
    handle = createPredictionLogStreamHandler({ logger, writer: () => writer });
  });

  /**
   * The stream record of each stored prediction. dynalite has no DynamoDB Streams, so the
   * NEW_IMAGE is the item read back raw (GetItem on the low-level client: DynamoDB JSON exactly
   * as the stream carries it) after DynamoPredictionLog wrote it.
   */
  async function inserted(records: PredictionRecord[], firstSeq = 1): Promise<DynamoDBRecord[]> {
    await log.putAll(records);
    return Promise.all(
      records.map(async (r, i) => {
        const raw = await db.client.send(
          new GetItemCommand({ TableName: tables.predictions, Key: { prediction_id: { S: r.prediction_id } } }),
        );
        return dynamodbStreamRecord(tables.predictions, firstSeq + i, {
          eventName: 'INSERT',
          keys: { prediction_id: { S: r.prediction_id } },
          newImage: raw.Item as Record<string, AttributeValue>,
        });
      }),
    );
  }

  it('sends each inserted prediction to Firehose as its model_predictions lake row, one per line', async () => {
    // Prepare
    const anonymous = record('p2', {
      user_id: null,
      consent: false,
      request_id: null,
      explanation: null,
      fallback: true,
      variant: 'challenger',
      experiment_id: 'exp_7',
    });
    const event = dynamodbStreamEvent(await inserted([record('p1'), anonymous]));
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records!.length));

    // Act
    const response = await handle(event, lambdaContext());

    // Assess: the columns of model_predictions in table order, the stored feature JSON unchanged, epoch ms
    expect(response).toEqual({ batchItemFailures: [] });
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.DeliveryStreamName).toBe(STREAM);
    expect(linesOf(calls[0]!.args[0].input)).toEqual([
      '{"prediction_id":"p1","request_id":"req-p1","user_id":"u_3f1c9a","ad_id":"ad_14","probability":0.0213,' +
        '"model_version":"2026-12-01.1","model_id":"m_0192a1b2","variant":"champion","experiment_id":null,' +
        '"fallback":false,"consent":true,' +
        '"features":"{\\"device_type\\":\\"mobile\\",\\"position\\":1,\\"returning\\":true,\\"region\\":null,\\"ad_ctr\\":0.031}",' +
        `"timestamp":${AT.getTime()},"exploration_bonus":null,"model_latency_ms":null}\n`,
      '{"prediction_id":"p2","request_id":null,"user_id":null,"ad_id":"ad_14","probability":0.0213,' +
        '"model_version":"2026-12-01.1","model_id":"m_0192a1b2","variant":"challenger","experiment_id":"exp_7",' +
        '"fallback":true,"consent":false,' +
        '"features":"{\\"device_type\\":\\"mobile\\",\\"position\\":1,\\"returning\\":true,\\"region\\":null,\\"ad_ctr\\":0.031}",' +
        `"timestamp":${AT.getTime()},"exploration_bonus":null,"model_latency_ms":null}\n`,
    ]);
  });

  it('re-sends only the records Firehose failed, until each is accepted', async () => {
    // Prepare: the first request throttles p2 and p4; the retry accepts them
    const event = dynamodbStreamEvent(await inserted(['p1', 'p2', 'p3', 'p4'].map((id) => record(id))));
    firehose
      .on(PutRecordBatchCommand)
      .callsFakeOnce((input: PutRecordBatchCommandInput) =>
        partly(input, (l) => l.includes('"p2"') || l.includes('"p4"')),
      )
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records!.length));

    // Act
    const response = await handle(event, lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const sent = firehose.commandCalls(PutRecordBatchCommand).map((c) => linesOf(c.args[0].input).map(idOf));
    expect(sent).toEqual([
      ['p1', 'p2', 'p3', 'p4'],
      ['p2', 'p4'],
    ]);
  });

  it('reports the records Firehose never accepts in batchItemFailures by sequence number', async () => {
    // Prepare: p2 is throttled on every attempt
    const event = dynamodbStreamEvent(
      await inserted(
        ['p1', 'p2', 'p3'].map((id) => record(id)),
        10,
      ),
    );
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => partly(input, (l) => l.includes('"p2"')));

    // Act
    const response = await handle(event, lambdaContext());

    // Assess: only p2, named by its stream sequence number; the others went once
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(11) }] });
    const sent = firehose.commandCalls(PutRecordBatchCommand).map((c) => linesOf(c.args[0].input).map(idOf));
    expect(sent[0]).toEqual(['p1', 'p2', 'p3']);
    expect(sent.length).toBeGreaterThan(2);
    expect(sent.slice(1).every((ids) => ids.length === 1 && ids[0] === 'p2')).toBe(true);
  });

  it('reports the whole batch when Firehose refuses the request outright, without retrying', async () => {
    // Prepare
    const event = dynamodbStreamEvent(
      await inserted(
        ['p1', 'p2'].map((id) => record(id)),
        20,
      ),
    );
    firehose.on(PutRecordBatchCommand).rejects(
      new ResourceNotFoundException({
        message: `Firehose ${STREAM} under account 123456789012 not found.`,
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const response = await handle(event, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: sequenceNumber(20) },
      { itemIdentifier: sequenceNumber(21) },
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
  });

  it('ignores the TTL expiry (REMOVE) and does not deliver a MODIFY, warning about it', async () => {
    // Prepare
    const [insert] = await inserted([record('p1')], 30);
    const key = { prediction_id: { S: 'p0' } };
    const remove = dynamodbStreamRecord(tables.predictions, 31, { eventName: 'REMOVE', keys: key });
    const modify = dynamodbStreamRecord(tables.predictions, 32, {
      eventName: 'MODIFY',
      keys: { prediction_id: { S: 'p1' } },
      newImage: insert!.dynamodb!.NewImage as Record<string, AttributeValue>,
    });
    const warn = vi.spyOn(logger, 'warn');
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records!.length));

    // Act
    const response = await handle(dynamodbStreamEvent([remove, insert!, modify]), lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const sent = firehose.commandCalls(PutRecordBatchCommand).map((c) => linesOf(c.args[0].input).map(idOf));
    expect(sent).toEqual([['p1']]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('modified'), expect.objectContaining({}));
  });

  it('sends nothing for a batch of TTL expiries', async () => {
    // Prepare
    const removes = [1, 2, 3].map((n) =>
      dynamodbStreamRecord(tables.predictions, n, { eventName: 'REMOVE', keys: { prediction_id: { S: `old-${n}` } } }),
    );

    // Act
    const response = await handle(dynamodbStreamEvent(removes), lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('skips and logs a malformed image without failing the batch or stalling the shard', async () => {
    // Prepare: three images that are not prediction items, between two good ones
    const [good1, good2] = await inserted([record('p1'), record('p2')], 40);
    const image = good1!.dynamodb!.NewImage as Record<string, AttributeValue>;
    const poison = [
      { ...image, prediction_id: { S: 'bad-1' }, features: { S: 'not json' } },
      { ...image, prediction_id: { S: 'bad-2' }, probability: { S: 'high' } },
      { ...image, prediction_id: { S: 'bad-3' }, ts: { N: '1e400' } },
    ].map((newImage, i) =>
      dynamodbStreamRecord(tables.predictions, 50 + i, {
        eventName: 'INSERT',
        keys: { prediction_id: newImage.prediction_id },
        newImage,
      }),
    );
    const error = vi.spyOn(logger, 'error');
    firehose
      .on(PutRecordBatchCommand)
      .callsFake((input: PutRecordBatchCommandInput) => accepted(input.Records!.length));

    // Act
    const response = await handle(dynamodbStreamEvent([good1!, ...poison, good2!]), lambdaContext());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const sent = firehose.commandCalls(PutRecordBatchCommand).map((c) => linesOf(c.args[0].input).map(idOf));
    expect(sent).toEqual([['p1', 'p2']]);
    const poisonLogs = error.mock.calls.filter(([message]) => String(message).startsWith('poison'));
    expect(poisonLogs.map(([, fields]) => (fields as { sequenceNumber: string }).sequenceNumber)).toEqual([
      sequenceNumber(50),
      sequenceNumber(51),
      sequenceNumber(52),
    ]);
  });
});

describe('the prediction log stream configuration', () => {
  it('names the missing delivery stream variable without echoing any value', () => {
    // Act
    const parse = () => parsePredictionLogStreamConfig({ AWS_REGION: 'eu-west-1' });

    // Assess
    expect(parse).toThrow(/ADCLICK_PREDICTIONS_FIREHOSE is not set/);
  });

  it('reads the region and the delivery stream name', () => {
    // Act
    const config = parsePredictionLogStreamConfig({ AWS_REGION: 'eu-west-1', ADCLICK_PREDICTIONS_FIREHOSE: STREAM });

    // Assess
    expect(config).toEqual({ region: 'eu-west-1', deliveryStreamName: STREAM });
  });
});

function idOf(line: string): string {
  return (JSON.parse(line) as { prediction_id: string }).prediction_id;
}
