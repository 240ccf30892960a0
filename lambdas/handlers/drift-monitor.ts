/**
 * The drift monitor on a schedule (EventBridge): one `DriftMonitor.check()` per invoke over the
 * DynamoDB registry and experiments and the Athena analytics (docs/drift.md). A rollback is a
 * registry promotion, which the API containers follow within their routing cache (a second).
 *
 * A failed check fails the invoke (after logging): EventBridge's asynchronous invoke retries it,
 * and the next schedule tick runs anyway, so nothing is lost by giving up on one.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import * as z from 'zod';
import { AthenaAnalytics } from '../adapters/aws/athena/athena-analytics.js';
import { DynamoExperimentStore } from '../adapters/aws/dynamodb/experiment-store.js';
import { DynamoModelRegistry } from '../adapters/aws/dynamodb/model-registry.js';
import { systemClock } from '../adapters/local/ids.js';
import { type DriftConfig, DriftMonitor, type DriftReport } from '../core/usecases/drift.js';
import { parseEnvironment } from './config-error.js';
import { coreLogger, tracedHandler } from './observability.js';

const name = z.string().trim().min(1, 'is empty').max(1024);

/** The drift monitor's environment, as the CDK stack sets it; the thresholds are optional. */
export const DriftMonitorEnvironment = z.object({
  AWS_REGION: name,
  ADCLICK_MODELS_TABLE: name,
  ADCLICK_EXPERIMENTS_TABLE: name,
  ADCLICK_ATHENA_WORKGROUP: name,
  ADCLICK_ATHENA_DATABASE: name,
  ADCLICK_DRIFT_WINDOW_HOURS: z.coerce.number().positive('must be positive').max(168).optional(),
  ADCLICK_DRIFT_MIN_IMPRESSIONS: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
  ADCLICK_DRIFT_MIN_CLICKS: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
});

export interface DriftMonitorConfig {
  readonly region: string;
  readonly modelsTable: string;
  readonly experimentsTable: string;
  readonly athena: { readonly workgroup: string; readonly database: string };
  /** Only what the environment sets; the rest are DEFAULT_DRIFT_CONFIG's. */
  readonly drift: Partial<DriftConfig>;
}

export function parseDriftMonitorConfig(env: Readonly<Record<string, string | undefined>>): DriftMonitorConfig {
  const e = parseEnvironment(DriftMonitorEnvironment, env);
  return {
    region: e.AWS_REGION,
    modelsTable: e.ADCLICK_MODELS_TABLE,
    experimentsTable: e.ADCLICK_EXPERIMENTS_TABLE,
    athena: { workgroup: e.ADCLICK_ATHENA_WORKGROUP, database: e.ADCLICK_ATHENA_DATABASE },
    drift: {
      ...(e.ADCLICK_DRIFT_WINDOW_HOURS === undefined ? {} : { windowMs: e.ADCLICK_DRIFT_WINDOW_HOURS * 3_600_000 }),
      ...(e.ADCLICK_DRIFT_MIN_IMPRESSIONS === undefined ? {} : { minImpressions: e.ADCLICK_DRIFT_MIN_IMPRESSIONS }),
      ...(e.ADCLICK_DRIFT_MIN_CLICKS === undefined ? {} : { minClicks: e.ADCLICK_DRIFT_MIN_CLICKS }),
    },
  };
}

/** What the monitor needs: the registry, the experiments and the analytics, nothing else. */
export function composeDriftMonitor(
  config: DriftMonitorConfig,
  logger: PowertoolsLogger,
  tracer?: Tracer,
): DriftMonitor {
  // Nobody waits on a scheduled check: the SDK may retry a throttle longer than the API's.
  const client = new DynamoDBClient({
    region: config.region,
    maxAttempts: 5,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  });
  const athena = new AthenaClient({ region: config.region });
  if (tracer) for (const c of [client, athena]) tracer.captureAWSv3Client(c);
  const dynamo = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const log = coreLogger(logger);
  return new DriftMonitor(
    {
      models: new DynamoModelRegistry(dynamo, config.modelsTable),
      experiments: new DynamoExperimentStore(dynamo, config.experimentsTable),
      analytics: new AthenaAnalytics(athena, { ...config.athena, logger: log }),
      clock: systemClock,
      logger: log,
    },
    config.drift,
  );
}

export interface DriftMonitorHandlerOptions {
  /** Built once per container at the first invoke; a failure is retried at the next. */
  readonly compose: () => Pick<DriftMonitor, 'check'> | Promise<Pick<DriftMonitor, 'check'>>;
  readonly logger: PowertoolsLogger;
  readonly metrics?: Metrics;
}

/** The invoke's answer (visible in a test invoke and in the async invocation record). */
export interface DriftMonitorResult {
  readonly window: DriftReport['window'];
  readonly checked: number;
  readonly events: readonly { kind: string; model_id: string; rolled_back_to: string | null }[];
  readonly failures: number;
}

export type DriftMonitorHandler = (event: ScheduledEvent, context: Context) => Promise<DriftMonitorResult>;

export function createDriftMonitorHandler(options: DriftMonitorHandlerOptions): DriftMonitorHandler {
  const { logger, metrics } = options;
  let monitor: Promise<Pick<DriftMonitor, 'check'>> | undefined;
  const ready = () => {
    monitor ??= Promise.resolve().then(options.compose);
    monitor.catch(() => {
      monitor = undefined;
    });
    return monitor;
  };

  return async (event, context) => {
    logger.addContext(context);
    logger.appendKeys({ scheduled_time: event.time });
    try {
      const report = await (await ready()).check();
      const result: DriftMonitorResult = {
        window: report.window,
        checked: report.checks.length,
        events: report.events.map((e) => ({ kind: e.kind, model_id: e.model_id, rolled_back_to: e.rolled_back_to })),
        failures: report.failures.length,
      };
      const verdicts = report.checks.map((c) => ({
        model_id: c.model_id,
        role: c.role,
        verdict: c.verdict,
        impressions: c.metrics.impressions,
        clicks: c.metrics.clicks,
        calibration: c.metrics.calibration,
        logloss: c.metrics.logloss,
        baseline_logloss: c.baseline_logloss,
      }));
      if (report.events.length > 0 || report.failures.length > 0) {
        logger.warn('drift check acted', { ...result, checks: verdicts });
      } else {
        logger.info('drift check', { window: report.window, checks: verdicts });
      }
      if (metrics) {
        metrics.captureColdStartMetric();
        metrics.addMetric('modelsChecked', MetricUnit.Count, result.checked);
        metrics.addMetric('rollbacks', MetricUnit.Count, report.events.filter((e) => e.kind === 'rolled_back').length);
        metrics.addMetric(
          'experimentsStopped',
          MetricUnit.Count,
          report.events.reduce((n, e) => n + e.experiment_ids.length, 0),
        );
        metrics.addMetric('driftFlags', MetricUnit.Count, report.events.filter((e) => e.kind === 'flagged').length);
        metrics.addMetric('driftActionFailures', MetricUnit.Count, report.failures.length);
        metrics.publishStoredMetrics();
      }
      return result;
    } catch (err) {
      logger.error('drift check failed', { error: err as Error });
      throw err;
    } finally {
      logger.resetKeys();
    }
  };
}

const powertools = new PowertoolsLogger({ serviceName: 'adclick-drift-monitor' });
const tracer = new Tracer({ serviceName: 'adclick-drift-monitor' });

export const handler: DriftMonitorHandler = tracedHandler(
  tracer,
  'drift-monitor',
  createDriftMonitorHandler({
    logger: powertools,
    metrics: new Metrics({ serviceName: 'adclick-drift-monitor' }),
    compose: () => composeDriftMonitor(parseDriftMonitorConfig(process.env), powertools, tracer),
  }),
);
