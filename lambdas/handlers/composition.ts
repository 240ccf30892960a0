import type { Tracer } from '@aws-lambda-powertools/tracer';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { AthenaAnalytics } from '../adapters/aws/athena/athena-analytics.js';
import { KinesisEventLog } from '../adapters/aws/kinesis/kinesis-event-log.js';
import { createRedisClient } from '../adapters/aws/redis/redis-client.js';
import { PRESIGNING_S3_CLIENT_OPTIONS, S3ArtifactStore } from '../adapters/aws/s3/s3-artifact-store.js';
import { S3HoldoutEvaluator } from '../adapters/aws/s3/s3-holdout-evaluator.js';
import type { SageMakerControlClient } from '../adapters/aws/sagemaker/endpoint-deployment.js';
import { FallbackModels } from '../adapters/aws/sagemaker/fallback-models.js';
import type { AutoScalingControlClient } from '../adapters/aws/sagemaker/variant-autoscaling.js';
import { variantsInUse } from '../adapters/aws/sagemaker/variants-in-use.js';
import { type App, createApp } from '../core/app.js';
import type { FraudDetector, Logger, ModelDeployment } from '../core/ports.js';
import type { Deps } from '../core/usecases/deps.js';
import { createAutoScalingClient } from './autoscaling-client.js';
import type { ApiConfig } from './config.js';
import { awsErasureDeps } from './erasure-composition.js';
import { predictDepsOf, preloadChampion, requestHandlerOptions } from './predict-composition.js';

/**
 * In AWS the fraud rules run in the fraud consumer (fraud-consumer.ts), one detector over every
 * container's events; an API container sees a random share of them, too few to judge a rate.
 */
const RULES_RUN_IN_THE_FRAUD_CONSUMER: FraudDetector = { inspect: async () => [] };

/** The SDK clients and connections of one container. */
export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly kinesis: KinesisClient;
  readonly redis: Redis;
  readonly s3: S3Client;
  readonly sagemaker: SageMakerRuntimeClient;
  /** The SageMaker control plane: adds a production variant when a model is activated. */
  /**
   * The SageMaker control plane, for activation and experiment creation only. Left out, it is
   * made at the first of those calls: its SDK package alone costs ~140 ms of module init, which
   * no prediction should wait for.
   */
  readonly sagemakerControl?: SageMakerControlClient;
  /** Application Auto Scaling, for the same calls; left out, made at the first that scales a variant. */
  readonly autoscaling?: AutoScalingControlClient;
  readonly athena: AthenaClient;
  readonly secrets: SecretsManagerClient;
  readonly sqs: SQSClient;
}

/**
 * The clients of one container. With a tracer, each SDK client is instrumented (every AWS call
 * becomes an X-Ray subsegment: the latency budget is spent where the trace shows it).
 */
export function createAwsClients(config: ApiConfig, logger: Logger, tracer?: Tracer): AwsClients {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: config.region, maxAttempts: 3, requestHandler: requestHandlerOptions() }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const kinesis = new KinesisClient({ region: config.region, maxAttempts: 2, requestHandler: requestHandlerOptions() });
  // With an AUTH token secret, the connection waits for the token (predictDepsOf reads it).
  const redis = createRedisClient(config.redisUrl, config.redisAuthSecretArn ? { lazyConnect: true } : {});
  // ioredis reports each failed reconnect (at most one a second); without a listener it would
  // print them unstructured. The breaker keeps a dead Redis off the request path meanwhile.
  redis.on('error', (err: Error) => logger.warn('redis connection error', { error: err.message }));
  // The endpoint adapter enforces its own time budget and falls back; an SDK retry would only
  // spend that budget twice.
  const sagemaker = new SageMakerRuntimeClient({ region: config.region, maxAttempts: 1 });
  // One client for downloads and presigned uploads: presigning needs checksums only when required.
  const s3 = new S3Client({ region: config.region, ...PRESIGNING_S3_CLIENT_OPTIONS });
  const athena = new AthenaClient({ region: config.region });
  const secrets = new SecretsManagerClient({ region: config.region });
  const sqs = new SQSClient({ region: config.region, maxAttempts: 2, requestHandler: requestHandlerOptions() });
  if (tracer)
    for (const client of [dynamo, kinesis, s3, sagemaker, athena, secrets, sqs]) tracer.captureAWSv3Client(client);
  return { dynamo, kinesis, redis, s3, sagemaker, athena, secrets, sqs };
}

/**
 * The AWS composition root: builds every adapter once per container over clients made once,
 * reads the pseudonymisation key (a rejection is a 503 and the next invoke tries again) and
 * starts loading the champion's fallback copy. Two jobs of the local server's request path live
 * in stream consumers here, which see every container's events: counting features
 * (feature-counters.ts; the feature store is read-only in the API) and the fraud rules
 * (fraud-consumer.ts).
 */
/** Admin requests only (activation, experiment creation): the SDK's default retries absorb throttling. */
async function createSageMakerControlClient(config: ApiConfig, tracer: Tracer | undefined) {
  const { SageMakerClient } = await import('@aws-sdk/client-sagemaker');
  const client = new SageMakerClient({ region: config.region });
  tracer?.captureAWSv3Client(client);
  return client;
}

/** A deployment built at its first use, and built again after a failed build. */
function lazyDeployment(build: () => Promise<ModelDeployment>): ModelDeployment {
  let built: Promise<ModelDeployment> | undefined;
  return {
    prepare: async (models) => {
      built ??= build().catch((err: unknown) => {
        built = undefined;
        throw err;
      });
      return (await built).prepare(models);
    },
  };
}

export async function composeAws(
  config: ApiConfig,
  logger: Logger,
  clients: AwsClients = createAwsClients(config, logger),
  tracer?: Tracer,
): Promise<{ app: App; deps: Deps; clients: AwsClients }> {
  const { kinesis, s3, sagemakerControl, autoscaling, athena } = clients;
  const { scaling } = config.modelDeployment;
  const fallbacks = new FallbackModels(s3, { logger });
  // The same prediction adapters as the predict function's.
  const { deps: predictDeps, health } = await predictDepsOf(config, logger, clients, fallbacks);
  const deps: Deps = {
    ...predictDeps,
    // Activation and experiment creation first give each model its production variant.
    deployment: lazyDeployment(async () => {
      const { EndpointDeployment } = await import('../adapters/aws/sagemaker/endpoint-deployment.js');
      const { VariantAutoscaling } = await import('../adapters/aws/sagemaker/variant-autoscaling.js');
      return new EndpointDeployment(sagemakerControl ?? (await createSageMakerControlClient(config, tracer)), {
        endpointName: config.modelEndpoint,
        imageUri: config.modelDeployment.imageUri,
        executionRoleArn: config.modelDeployment.executionRoleArn,
        ...(config.modelDeployment.instanceType === undefined
          ? {}
          : {
              capacity: {
                instanceType: config.modelDeployment.instanceType,
                initialInstanceCount: config.modelDeployment.instanceCount,
              },
            }),
        fallbacks,
        inUse: variantsInUse(predictDeps.models, predictDeps.experiments),
        ...(scaling === undefined
          ? {}
          : {
              autoscaling: new VariantAutoscaling({
                endpointName: config.modelEndpoint,
                policy: scaling,
                client: async () => autoscaling ?? createAutoScalingClient(config.region, tracer),
                logger,
              }),
            }),
        logger,
      });
    }),
    events: new KinesisEventLog(kinesis, { streams: config.streams, logger }),
    fraud: RULES_RUN_IN_THE_FRAUD_CONSUMER,
    artifacts: new S3ArtifactStore(s3, { bucket: config.modelBucket }),
    holdout: new S3HoldoutEvaluator(s3, fallbacks, { location: config.holdout }),
    analytics: new AthenaAnalytics(athena, { ...config.athena, logger }),
    ...erasureOf(config, clients, logger),
    health,
  };
  preloadChampion(deps, fallbacks, logger);
  return { app: createApp(deps), deps, clients };
}

/** DELETE /users/{user_id} when the function is configured for it (erasure-composition.ts). */
function erasureOf(config: ApiConfig, clients: AwsClients, logger: Logger): Pick<Deps, 'erasure'> {
  const erasure = config.erasure;
  if (!erasure) return {};
  return {
    erasure: awsErasureDeps({
      config: erasure,
      region: config.region,
      dynamo: clients.dynamo,
      redis: clients.redis,
      athena: clients.athena,
      athenaQuery: config.athena,
      tables: { predictions: config.tables.predictions, features: config.tables.features },
      logger,
    }),
  };
}
