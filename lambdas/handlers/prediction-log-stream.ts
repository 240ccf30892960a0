/**
 * The prediction log's DynamoDB stream (NEW_IMAGE) → the model_predictions Firehose: the predict
 * path writes each prediction once, to DynamoDB, and this consumer carries it to the lake.
 *
 * Per batch: INSERT images become lake rows (the JSON of the Kinesis streams, LakeJsonCodec, one
 * per line); a REMOVE is DynamoDB TTL expiring the item after 90 days and is ignored (the lake
 * keeps its own copy); a MODIFY cannot happen on a write-once log, so one is logged as a warning
 * and not delivered. An image that is not a prediction item is logged and skipped: retrying
 * cannot fix it, and reporting it would stall the shard behind it.
 *
 * Why not Powertools' BatchProcessor: it runs the record handler once per record, and every row
 * would then be its own PutRecordBatch call (a batch of 1,000 stream records → 1,000 requests
 * against Firehose's per-stream request quota, instead of 2). Here the whole batch goes to the
 * FirehoseWriter at once and the records it could not deliver come back by index, each reported
 * in `batchItemFailures` by its SequenceNumber — the same partial batch response BatchProcessor
 * builds. Lambda resumes the shard from the lowest failed sequence number, so records after it
 * are delivered again: the lake is at least once, readers de-duplicate on prediction_id.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod';
import { lakeRowOfStreamImage } from '../adapters/aws/dynamodb/prediction-item.js';
import { type FirehoseWriteResult, FirehoseWriter } from '../adapters/aws/firehose/firehose-writer.js';
import { LakeJsonCodec } from '../adapters/aws/kinesis/lake-json.js';
import { parseEnvironment } from './config-error.js';
import { coreLogger, tracedHandler } from './observability.js';

/** What the handler needs of a FirehoseWriter. */
export interface LakeLineWriter {
  putAll(lines: readonly string[]): Promise<FirehoseWriteResult>;
}

export interface PredictionLogStreamHandlerOptions {
  /** Builds the writer once per container, at the first invoke; a rejection is retried next invoke. */
  readonly writer: () => LakeLineWriter | Promise<LakeLineWriter>;
  readonly logger: PowertoolsLogger;
  readonly metrics?: Metrics;
}

export type PredictionLogStreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse>;

export function createPredictionLogStreamHandler(
  options: PredictionLogStreamHandlerOptions,
): PredictionLogStreamHandler {
  const { logger: powertools, metrics } = options;
  const codec = new LakeJsonCodec('model_predictions');
  let writer: Promise<LakeLineWriter> | undefined;
  const ready = () => {
    writer ??= Promise.resolve().then(options.writer);
    writer.catch(() => {
      writer = undefined;
    });
    return writer;
  };

  return async (event, context) => {
    powertools.addContext(context);
    try {
      const lines: string[] = [];
      const sequenceNumbers: string[] = [];
      let ignored = 0;
      let poison = 0;
      for (const record of event.Records) {
        const line = lineOf(record, codec, powertools);
        if (line === 'ignored') ignored++;
        else if (line === 'poison') poison++;
        else {
          lines.push(line);
          // An empty identifier makes Lambda fail the whole batch: right for a record it cannot name.
          sequenceNumbers.push(record.dynamodb?.SequenceNumber ?? '');
        }
      }
      const result =
        lines.length === 0 ? { delivered: 0, failed: [], requests: 0 } : await (await ready()).putAll(lines);
      const batchItemFailures = result.failed.map((f) => ({ itemIdentifier: sequenceNumbers[f.index]! }));
      if (batchItemFailures.length > 0) {
        powertools.error('predictions not delivered to firehose; the batch resumes from the first', {
          failed: batchItemFailures.length,
          firstSequenceNumber: batchItemFailures[0]!.itemIdentifier,
          reason: result.failed[0]!.reason,
        });
      }
      if (metrics) {
        metrics.captureColdStartMetric();
        metrics.addMetric('predictionsDelivered', MetricUnit.Count, result.delivered);
        metrics.addMetric('predictionsNotDelivered', MetricUnit.Count, result.failed.length);
        metrics.addMetric('poisonRecords', MetricUnit.Count, poison);
        metrics.addMetric('ignoredRecords', MetricUnit.Count, ignored);
        metrics.publishStoredMetrics();
      }
      return { batchItemFailures };
    } finally {
      powertools.resetKeys();
    }
  };
}

/** The record's lake row as one JSON line, or why it yields none. */
function lineOf(record: DynamoDBRecord, codec: LakeJsonCodec, logger: PowertoolsLogger): string | 'ignored' | 'poison' {
  const where = { eventID: record.eventID, sequenceNumber: record.dynamodb?.SequenceNumber };
  if (record.eventName === 'REMOVE') return 'ignored';
  if (record.eventName === 'MODIFY') {
    logger.warn('prediction log item modified: the log is write-once, the change is not delivered', where);
    return 'ignored';
  }
  if (record.eventName !== 'INSERT') {
    logger.error('poison stream record skipped: unknown eventName', { ...where, eventName: record.eventName });
    return 'poison';
  }
  const decoded = lakeRowOfStreamImage(record.dynamodb?.NewImage);
  if (!decoded.ok) {
    logger.error('poison stream record skipped: not a prediction log item', { ...where, problem: decoded.problem });
    return 'poison';
  }
  const json = codec.serialize(decoded.row);
  if (json === null) {
    logger.error('poison stream record skipped: not a model_predictions row', { ...where, problem: codec.problem });
    return 'poison';
  }
  return json;
}

/** The stream consumer's environment (issue 7's CDK sets it). */
const StreamEnvironment = z.object({
  AWS_REGION: z.string().trim().min(1, 'is empty').max(64),
  ADCLICK_PREDICTIONS_FIREHOSE: z.string().trim().min(1, 'is empty').max(64),
});

export interface PredictionLogStreamConfig {
  readonly region: string;
  readonly deliveryStreamName: string;
}

export function parsePredictionLogStreamConfig(
  env: Readonly<Record<string, string | undefined>>,
): PredictionLogStreamConfig {
  const data = parseEnvironment(StreamEnvironment, env);
  return { region: data.AWS_REGION, deliveryStreamName: data.ADCLICK_PREDICTIONS_FIREHOSE };
}

/**
 * Inside a stream consumer there is time to wait out a Firehose throttle (the function's timeout
 * should be ≥ 30 s); the SDK's own retries are kept to one so the writer's budget is the bound.
 */
export const STREAM_FIREHOSE_RETRY = { baseDelayMs: 100, maxDelayMs: 2_000, maxTotalMs: 10_000 } as const;

const powertools = new PowertoolsLogger({ serviceName: 'adclick-prediction-log-stream' });
const tracer = new Tracer({ serviceName: 'adclick-prediction-log-stream' });

/**
 * The deployed handler. A missing or malformed variable throws ConfigError at every invoke, so
 * the batch is retried (the shard waits) until the configuration is fixed or the event source's
 * retryAttempts run out and the batch goes to its on-failure destination.
 */
export const handler: PredictionLogStreamHandler = tracedHandler(
  tracer,
  'prediction-log-stream',
  createPredictionLogStreamHandler({
    logger: powertools,
    metrics: new Metrics({ serviceName: 'adclick-prediction-log-stream' }),
    writer: () => {
      const config = parsePredictionLogStreamConfig(process.env);
      const client = tracer.captureAWSv3Client(
        new FirehoseClient({
          region: config.region,
          maxAttempts: 2,
          requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
        }),
      );
      return new FirehoseWriter(client, {
        deliveryStreamName: config.deliveryStreamName,
        retry: STREAM_FIREHOSE_RETRY,
        logger: coreLogger(powertools),
      });
    },
  }),
);
