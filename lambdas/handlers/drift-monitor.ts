/**
 * The drift monitor on a schedule (EventBridge): one `DriftMonitor.check()` per invoke over the
 * DynamoDB registry and experiments and the Athena analytics (docs/drift.md). A rollback first
 * gives the restored champion its SageMaker variant (EndpointDeployment, as an activation does),
 * then promotes it in the registry, which the API containers follow within their routing cache
 * (a second); their fallback copy follows the first request routed to it.
 *
 * After the check, the endpoint's housekeeping: serving models whose variant a racing update
 * dropped get it back, and endpoint configs and models superseded by earlier updates are deleted
 * (superseded-configs.ts). Its failure is logged, never fails the invoke.
 *
 * A failed check fails the invoke (after logging): EventBridge's asynchronous invoke retries it,
 * and the next schedule tick runs anyway, so nothing is lost by giving up on one.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import * as z from 'zod';
import { AthenaAnalytics } from '../adapters/aws/athena/athena-analytics.js';
import { DynamoExperimentStore } from '../adapters/aws/dynamodb/experiment-store.js';
import { DynamoModelRegistry } from '../adapters/aws/dynamodb/model-registry.js';
import {
  EndpointDeployment,
  type EndpointDeploymentConfig,
  type SageMakerControlClient,
} from '../adapters/aws/sagemaker/endpoint-deployment.js';
import { type DeletedResources, deleteSuperseded } from '../adapters/aws/sagemaker/superseded-configs.js';
import { VariantAutoscaling } from '../adapters/aws/sagemaker/variant-autoscaling.js';
import { variantsInUse } from '../adapters/aws/sagemaker/variants-in-use.js';
import { systemClock } from '../adapters/local/ids.js';
import { DependencyUnavailableError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { type DriftConfig, DriftMonitor, type DriftReport } from '../core/usecases/drift.js';
import { createAutoScalingClient } from './autoscaling-client.js';
import { type ApiConfig, ApiEnvironment, modelDeploymentOf } from './config.js';
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
  // The same endpoint and model settings as the API's: a rollback deploys as an activation does.
  ...ApiEnvironment.pick({
    ADCLICK_MODEL_ENDPOINT: true,
    ADCLICK_MODEL_IMAGE_URI: true,
    ADCLICK_MODEL_EXECUTION_ROLE_ARN: true,
    ADCLICK_MODEL_INSTANCE_TYPE: true,
    ADCLICK_MODEL_INSTANCE_COUNT: true,
    ADCLICK_MODEL_MIN_INSTANCES: true,
    ADCLICK_MODEL_MAX_INSTANCES: true,
    ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE: true,
  }).shape,
  ADCLICK_DRIFT_WINDOW_HOURS: z.coerce.number().positive('must be positive').max(168).optional(),
  ADCLICK_DRIFT_MIN_IMPRESSIONS: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
  ADCLICK_DRIFT_MIN_CLICKS: z.coerce.number().int().min(1).max(1_000_000_000).optional(),
});

export interface DriftMonitorConfig {
  readonly region: string;
  readonly modelsTable: string;
  readonly experimentsTable: string;
  readonly athena: { readonly workgroup: string; readonly database: string };
  readonly modelEndpoint: string;
  readonly modelDeployment: ApiConfig['modelDeployment'];
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
    modelEndpoint: e.ADCLICK_MODEL_ENDPOINT,
    modelDeployment: modelDeploymentOf(e),
    drift: {
      ...(e.ADCLICK_DRIFT_WINDOW_HOURS === undefined ? {} : { windowMs: e.ADCLICK_DRIFT_WINDOW_HOURS * 3_600_000 }),
      ...(e.ADCLICK_DRIFT_MIN_IMPRESSIONS === undefined ? {} : { minImpressions: e.ADCLICK_DRIFT_MIN_IMPRESSIONS }),
      ...(e.ADCLICK_DRIFT_MIN_CLICKS === undefined ? {} : { minClicks: e.ADCLICK_DRIFT_MIN_CLICKS }),
    },
  };
}

/**
 * How long a rollback waits for the endpoint update that adds the restored champion's variant:
 * most of the function's 5 minutes (nobody waits on a scheduled check). An update taking longer
 * fails the action; the next check finds the variant in service and completes the rollback.
 */
export const ROLLBACK_DEPLOY_WAIT = { baseDelayMs: 5_000, maxDelayMs: 15_000, maxTotalMs: 180_000 };

/** One scheduled invoke's work: the check, then (in AWS) the endpoint's housekeeping. */
export interface ScheduledDriftCheck {
  check(): Promise<DriftReport>;
  tidyEndpoint?(): Promise<DeletedResources>;
}

/** What the monitor needs: the registry, the experiments, the analytics and the model endpoint. */
export function composeDriftMonitor(
  config: DriftMonitorConfig,
  logger: PowertoolsLogger,
  tracer?: Tracer,
): ScheduledDriftCheck {
  // Nobody waits on a scheduled check: the SDK may retry a throttle longer than the API's.
  const client = new DynamoDBClient({
    region: config.region,
    maxAttempts: 5,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  });
  const athena = new AthenaClient({ region: config.region });
  const sagemaker = new SageMakerClient({ region: config.region });
  if (tracer) for (const c of [client, athena, sagemaker]) tracer.captureAWSv3Client(c);
  const dynamo = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const log = coreLogger(logger);
  const models = new DynamoModelRegistry(dynamo, config.modelsTable);
  const experiments = new DynamoExperimentStore(dynamo, config.experimentsTable);
  const { instanceType, instanceCount, imageUri, executionRoleArn, scaling } = config.modelDeployment;
  const deployment: EndpointDeploymentConfig = {
    endpointName: config.modelEndpoint,
    imageUri,
    executionRoleArn,
    ...(instanceType === undefined ? {} : { capacity: { instanceType, initialInstanceCount: instanceCount } }),
    inUse: variantsInUse(models, experiments),
    ...(scaling === undefined
      ? {}
      : {
          autoscaling: new VariantAutoscaling({
            endpointName: config.modelEndpoint,
            policy: scaling,
            client: () => createAutoScalingClient(config.region, tracer),
            logger: log,
          }),
        }),
    logger: log,
  };
  const monitor = new DriftMonitor(
    {
      models,
      experiments,
      analytics: new AthenaAnalytics(athena, { ...config.athena, logger: log }),
      clock: systemClock,
      logger: log,
      deployment: new EndpointDeployment(sagemaker, { ...deployment, wait: ROLLBACK_DEPLOY_WAIT }),
    },
    config.drift,
  );
  // Housekeeping starts an update when it must but does not wait for it: the next invoke sees it.
  const housekeeping = new EndpointDeployment(sagemaker, { ...deployment, wait: { maxTotalMs: 0 } });
  return withEndpointHousekeeping(monitor, housekeeping, sagemaker, config.modelEndpoint, log);
}

/** The check, then the endpoint's housekeeping: dropped serving variants back, superseded configs gone. */
export function withEndpointHousekeeping(
  monitor: Pick<DriftMonitor, 'check'>,
  housekeeping: Pick<EndpointDeployment, 'reconcile'>,
  client: SageMakerControlClient,
  endpointName: string,
  logger?: Logger,
): ScheduledDriftCheck {
  return {
    check: () => monitor.check(),
    tidyEndpoint: async () => {
      await housekeeping.reconcile();
      return deleteSuperseded(client, { endpointName, ...(logger ? { logger } : {}) });
    },
  };
}

export interface DriftMonitorHandlerOptions {
  /** Built once per container at the first invoke; a failure is retried at the next. */
  readonly compose: () => ScheduledDriftCheck | Promise<ScheduledDriftCheck>;
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
  let monitor: Promise<ScheduledDriftCheck> | undefined;
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
      const composed = await ready();
      const report = await composed.check();
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
      await tidyEndpoint(composed, logger);
      return result;
    } catch (err) {
      logger.error('drift check failed', { error: err as Error });
      throw err;
    } finally {
      logger.resetKeys();
    }
  };
}

/** Logged, never thrown: the check's result is what the invoke answers for. */
async function tidyEndpoint(composed: ScheduledDriftCheck, logger: PowertoolsLogger): Promise<void> {
  if (!composed.tidyEndpoint) return;
  try {
    await composed.tidyEndpoint();
  } catch (err) {
    const busy = err instanceof DependencyUnavailableError;
    logger.warn(busy ? 'model endpoint housekeeping waits for an update' : 'model endpoint housekeeping failed', {
      error: err as Error,
    });
  }
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
