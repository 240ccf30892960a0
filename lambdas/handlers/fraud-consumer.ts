import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import * as z from 'zod';
import { KinesisEventLog } from '../adapters/aws/kinesis/kinesis-event-log.js';
import { LakeStreamDecoder, PoisonRecordError } from '../adapters/aws/kinesis/stream-records.js';
import { RuleFraudDetector } from '../core/fraud/detector.js';
import { fraudEventFromLakeRow, suspiciousEventRow } from '../core/fraud/lake-rows.js';
import type { EventLog, FraudDetector, LakeRow } from '../core/ports.js';
import { parseEnvironment } from './config-error.js';
import { coreLogger, tracedHandler } from './observability.js';

export interface FraudConsumer {
  /** The rules' state: one detector for the life of the container (see the handler's doc). */
  readonly detector: FraudDetector;
  readonly decoder: LakeStreamDecoder;
  /** Where flags go: the `suspicious_events` stream. */
  readonly flags: EventLog;
}

export interface FraudConsumerHandlerOptions {
  /** Builds the consumer once per container, at the first invoke; a rejection is retried next time. */
  readonly compose: () => Promise<FraudConsumer> | FraudConsumer;
  readonly logger: PowertoolsLogger;
  readonly metrics?: Metrics;
}

export type FraudConsumerHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** `shardId-000000000001:4959…` → its shard and its sequence number as a comparable integer. */
function positionOf(record: KinesisStreamRecord): { shard: string; seq: bigint } {
  const shard = record.eventID.slice(0, record.eventID.indexOf(':'));
  return { shard, seq: BigInt(record.kinesis.sequenceNumber) };
}

/**
 * The click-fraud rules in AWS: a consumer of both event streams (`ad_impressions` and `clicks`)
 * that runs the same RuleFraudDetector the local server runs and appends its flags to the
 * `suspicious_events` stream.
 *
 * The rules judge a user's, an IP's and a site's events together, across both streams, so one
 * detector must see every event: the function runs as a singleton (reserved concurrency 1, both
 * streams as event sources; issue 7's stack sets it), and its state lives in the container.
 * A new container starts with empty windows, so for the first rate window (a minute) and until
 * sites have history it flags less; it never flags more.
 *
 * Records are inspected in order (Powertools' batch processor, sequentially). A record that is
 * not a lake row is logged, counted (`poisonRecords`) and skipped: reporting it would stall its
 * shard forever. The flags are appended once the batch is inspected; when that fails they stay
 * in the container's outbox, the whole batch is reported failed (its first sequence number) so
 * the shard does not move past events whose flags are not stored, and the retry sends the outbox
 * first. A replayed record is not inspected twice: the highest sequence number inspected per shard
 * is remembered.
 */
export function createFraudConsumerHandler(options: FraudConsumerHandlerOptions): FraudConsumerHandler {
  const { logger: powertools, metrics } = options;
  const logger = coreLogger(powertools);
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const inspected = new Map<string, bigint>();
  let outbox: LakeRow[] = [];
  let consumer: Promise<FraudConsumer> | undefined;
  const ready = () => {
    consumer ??= Promise.resolve().then(options.compose);
    consumer.catch(() => {
      consumer = undefined;
    });
    return consumer;
  };

  return async (event, context) => {
    powertools.addContext(context);
    const { detector, decoder, flags } = await ready();
    let events = 0;
    let poison = 0;
    let replays = 0;
    const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
      const { shard, seq } = positionOf(record);
      const last = inspected.get(shard);
      if (last !== undefined && seq <= last) {
        replays++;
        return;
      }
      try {
        const fraudEvent = fraudEventFromLakeRow(decoder.decode(record));
        if (fraudEvent === null)
          throw new PoisonRecordError(record.kinesis.sequenceNumber, 'not an impression or click row');
        const found = await detector.inspect([fraudEvent]);
        for (const flag of found) outbox.push(suspiciousEventRow(flag));
        events++;
      } catch (err) {
        if (!(err instanceof PoisonRecordError)) throw err;
        poison++;
        logger.error('poison record skipped', { sequenceNumber: err.sequenceNumber, reason: err.reason, shard });
      }
      inspected.set(shard, seq);
    };
    const response = await processPartialResponse(event, recordHandler, processor, {
      context,
      processInParallel: false,
    });

    const pending = outbox;
    let stored = true;
    if (pending.length > 0) {
      try {
        await flags.append(pending);
        outbox = [];
      } catch (err) {
        stored = false;
        logger.error('suspicious events not stored; the batch will be retried', {
          flags: pending.length,
          error: String(err),
        });
      }
    }
    if (metrics) {
      metrics.captureColdStartMetric();
      metrics.addMetric('eventsInspected', MetricUnit.Count, events);
      metrics.addMetric('suspiciousEvents', MetricUnit.Count, stored ? pending.length : 0);
      if (poison > 0) metrics.addMetric('poisonRecords', MetricUnit.Count, poison);
      if (replays > 0) metrics.addMetric('replayedRecords', MetricUnit.Count, replays);
      metrics.publishStoredMetrics();
    }
    const first = event.Records[0];
    if (!stored && first) return { batchItemFailures: [{ itemIdentifier: first.kinesis.sequenceNumber }] };
    return response;
  };
}

/** The environment of the fraud consumer, as issue 7's stack sets it. */
export const FraudConsumerEnvironment = z.object({
  AWS_REGION: z.string().trim().min(1),
  ADCLICK_IMPRESSIONS_STREAM: z.string().trim().min(1).max(128),
  ADCLICK_CLICKS_STREAM: z.string().trim().min(1).max(128),
  ADCLICK_SUSPICIOUS_EVENTS_STREAM: z.string().trim().min(1).max(128),
});

export function parseFraudConsumerConfig(env: Readonly<Record<string, string | undefined>>) {
  return parseEnvironment(FraudConsumerEnvironment, env);
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-fraud' });
const tracer = new Tracer({ serviceName: 'adclick-fraud' });

export const handler: FraudConsumerHandler = tracedHandler(
  tracer,
  'fraud-consumer',
  createFraudConsumerHandler({
    logger: powertools,
    metrics: new Metrics({ serviceName: 'adclick-fraud' }),
    compose: () => {
      const env = parseFraudConsumerConfig(process.env);
      const kinesis = tracer.captureAWSv3Client(
        new KinesisClient({
          region: env.AWS_REGION,
          maxAttempts: 3,
          requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
        }),
      );
      return {
        detector: new RuleFraudDetector(),
        decoder: new LakeStreamDecoder({
          ad_impressions: env.ADCLICK_IMPRESSIONS_STREAM,
          clicks: env.ADCLICK_CLICKS_STREAM,
        }),
        flags: new KinesisEventLog(kinesis, {
          streams: { suspicious_events: env.ADCLICK_SUSPICIOUS_EVENTS_STREAM },
          logger: coreLogger(powertools),
        }),
      };
    },
  }),
);
