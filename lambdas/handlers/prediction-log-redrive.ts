/**
 * The prediction log's dead-letter queue → the prediction log: each message holds records the
 * API parked on SQS while DynamoDB was unavailable (DeadLetterPredictionLog); they are written
 * with the log's own conditional put, so a record already stored (written before the failure, by
 * a client's retry, or by a replay of this message) is a duplicate and is dropped: write-once.
 *
 * Powertools batch processing (EventType.SQS) with partial batch responses: a message whose write
 * fails (DynamoDB still throttling) is reported in `batchItemFailures` and comes back after the
 * visibility timeout; a malformed message is logged and reported failed too, so it is never
 * deleted unread: SQS's redrive policy moves it to the second dead-letter queue after
 * maxReceiveCount receives, where an operator can look at it.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { DynamoPredictionLog } from '../adapters/aws/dynamodb/prediction-log.js';
import { decodePredictionMessage } from '../adapters/aws/sqs/prediction-log-message.js';
import type { PredictionLog } from '../core/ports.js';
import { parseEnvironment } from './config-error.js';
import { tracedHandler } from './observability.js';

export interface PredictionLogRedriveHandlerOptions {
  /**
   * The log to write to, built once per container at the first invoke: the DynamoDB log itself,
   * never the dead-letter decorator (a failing write must come back to this queue, not loop).
   */
  readonly log: () => PredictionLog | Promise<PredictionLog>;
  readonly logger: PowertoolsLogger;
  readonly metrics?: Metrics;
}

export type PredictionLogRedriveHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A message that is not a prediction log message; retrying will not change it. */
export class MalformedRedriveMessageError extends Error {
  override name = 'MalformedRedriveMessageError';
}

export function createPredictionLogRedriveHandler(
  options: PredictionLogRedriveHandlerOptions,
): PredictionLogRedriveHandler {
  const { logger, metrics } = options;
  const processor = new BatchProcessor(EventType.SQS);
  let log: Promise<PredictionLog> | undefined;
  const ready = () => {
    log ??= Promise.resolve().then(options.log);
    log.catch(() => {
      log = undefined;
    });
    return log;
  };
  let target: PredictionLog | undefined;
  let written = 0;
  let duplicates = 0;

  const recordHandler = async (message: SQSRecord): Promise<void> => {
    const decoded = decodePredictionMessage(message.body);
    if (!decoded.ok) {
      logger.error('malformed dead-letter message: left for the queue redrive policy', {
        messageId: message.messageId,
        receiveCount: message.attributes.ApproximateReceiveCount,
        problem: decoded.problem,
      });
      throw new MalformedRedriveMessageError(decoded.problem);
    }
    const result = await target!.putAll(decoded.records);
    written += decoded.records.length - result.duplicates.length;
    duplicates += result.duplicates.length;
  };

  return async (event, context) => {
    logger.addContext(context);
    written = 0;
    duplicates = 0;
    try {
      // Built before any message is touched: a configuration error fails the invoke as a whole
      // (logged by Lambda) instead of posing as a batch of failed messages.
      target = await ready();
      const response = await processPartialResponse(event, recordHandler, processor, {
        context,
        // Every message failing is still a partial response: the queue keeps them all either way.
        throwOnFullBatchFailure: false,
      });
      const failed = response.batchItemFailures.length;
      if (failed > 0 || written > 0 || duplicates > 0) {
        logger.info('dead-letter predictions redriven', {
          messages: event.Records.length,
          failed,
          written,
          duplicates,
        });
      }
      if (metrics) {
        metrics.captureColdStartMetric();
        metrics.addMetric('predictionsRedriven', MetricUnit.Count, written);
        metrics.addMetric('redriveDuplicates', MetricUnit.Count, duplicates);
        metrics.addMetric('redriveFailedMessages', MetricUnit.Count, failed);
        metrics.publishStoredMetrics();
      }
      return response as SQSBatchResponse;
    } finally {
      logger.resetKeys();
    }
  };
}

const RedriveEnvironment = z.object({
  AWS_REGION: z.string().trim().min(1, 'is empty').max(64),
  ADCLICK_PREDICTIONS_TABLE: z.string().trim().min(1, 'is empty').max(1024),
});

export interface PredictionLogRedriveConfig {
  readonly region: string;
  readonly predictionsTable: string;
}

export function parsePredictionLogRedriveConfig(
  env: Readonly<Record<string, string | undefined>>,
): PredictionLogRedriveConfig {
  const data = parseEnvironment(RedriveEnvironment, env);
  return { region: data.AWS_REGION, predictionsTable: data.ADCLICK_PREDICTIONS_TABLE };
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-prediction-log-redrive' });
const tracer = new Tracer({ serviceName: 'adclick-prediction-log-redrive' });

/**
 * The deployed handler. Nobody is waiting on a redrive, so the DynamoDB client may retry a
 * throttle longer than the API's (standard retry mode, 5 attempts).
 */
export const handler: PredictionLogRedriveHandler = tracedHandler(
  tracer,
  'prediction-log-redrive',
  createPredictionLogRedriveHandler({
    logger: powertools,
    metrics: new Metrics({ serviceName: 'adclick-prediction-log-redrive' }),
    log: () => {
      const config = parsePredictionLogRedriveConfig(process.env);
      const doc = DynamoDBDocumentClient.from(
        tracer.captureAWSv3Client(
          new DynamoDBClient({
            region: config.region,
            maxAttempts: 5,
            requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
          }),
        ),
        { marshallOptions: { removeUndefinedValues: true } },
      );
      return new DynamoPredictionLog(doc, config.predictionsTable);
    },
  }),
);
