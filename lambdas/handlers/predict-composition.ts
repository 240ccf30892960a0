/**
 * The predict function's composition root: the adapters serving a prediction, built once per
 * container. The API function's root (composition.ts) builds the same ones through
 * `predictDepsOf`, so both functions predict with identical adapters and settings.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { DynamoAdCatalogue } from '../adapters/aws/dynamodb/ad-catalogue.js';
import { DynamoExperimentStore } from '../adapters/aws/dynamodb/experiment-store.js';
import { DynamoFeatureBackingStore } from '../adapters/aws/dynamodb/feature-table.js';
import { DynamoModelRegistry } from '../adapters/aws/dynamodb/model-registry.js';
import { DynamoPredictionLog } from '../adapters/aws/dynamodb/prediction-log.js';
import { lazyClient } from '../adapters/aws/lazy-client.js';
import { CircuitBreaker } from '../adapters/aws/redis/circuit-breaker.js';
import { createRedisClient } from '../adapters/aws/redis/redis-client.js';
import { RedisFeatureStore } from '../adapters/aws/redis/redis-feature-store.js';
import { RedisPredictionCache } from '../adapters/aws/redis/redis-prediction-cache.js';
import type { GetObjectClient } from '../adapters/aws/s3/download.js';
import { FallbackModels } from '../adapters/aws/sagemaker/fallback-models.js';
import { SageMakerModelEndpoint } from '../adapters/aws/sagemaker/sagemaker-endpoint.js';
import { connectWithPassword, readRedisAuthToken } from '../adapters/aws/secrets/redis-auth-token.js';
import { SecretKeyLoader } from '../adapters/aws/secrets/secret-key.js';
import {
  DeadLetterPredictionLog,
  type SendMessageBatchClient,
} from '../adapters/aws/sqs/dead-letter-prediction-log.js';
import { systemClock, TimeOrderedIds } from '../adapters/local/ids.js';
import type { PredictApp } from '../core/api/predict-routes.js';
import type { Logger } from '../core/ports.js';
import { DEFAULT_CORE_CONFIG, type HealthProbe, type PredictDeps } from '../core/usecases/deps.js';
import { PredictUseCase } from '../core/usecases/predict.js';
import { ModelRouting } from '../core/usecases/routing.js';
import type { PredictConfig } from './predict-config.js';

/** The clients a prediction needs. S3 and SQS serve rare paths only (see `createPredictClients`). */
export interface PredictClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly redis: Redis;
  readonly sagemaker: SageMakerRuntimeClient;
  readonly secrets: SecretsManagerClient;
  /** Downloads the fallback copy of a model. */
  readonly s3: GetObjectClient;
  /** Parks a throttled prediction log write. */
  readonly sqs: SendMessageBatchClient;
}

/**
 * Short SDK timeouts and few retries: the API's latency budget is tens of milliseconds, and the
 * adapters retry what is worth retrying themselves within bounded totals. Options, not a handler
 * instance: the SDK builds its own default handler from them, and the bundle need not carry a
 * second copy of @smithy's HTTP stack.
 */
export const requestHandlerOptions = () => ({ connectionTimeout: 1_000, requestTimeout: 2_000 });

/**
 * The predict function's clients. S3 (the fallback model's download) and SQS (a throttled log
 * write) are made, and their packages loaded, at their first use: no prediction waits for them at
 * cold start. With a tracer, each client is instrumented (every AWS call an X-Ray subsegment).
 */
export function createPredictClients(config: PredictConfig, logger: Logger, tracer?: Tracer): PredictClients {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: config.region, maxAttempts: 3, requestHandler: requestHandlerOptions() }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  // With an AUTH token secret, the connection waits for the token (predictDepsOf reads it).
  const redis = createRedisClient(config.redisUrl, config.redisAuthSecretArn ? { lazyConnect: true } : {});
  // ioredis reports each failed reconnect (at most one a second); without a listener it would
  // print them unstructured. The breaker keeps a dead Redis off the request path meanwhile.
  redis.on('error', (err: Error) => logger.warn('redis connection error', { error: err.message }));
  // The endpoint adapter enforces its own time budget and falls back; an SDK retry would only
  // spend that budget twice.
  const sagemaker = new SageMakerRuntimeClient({ region: config.region, maxAttempts: 1 });
  const secrets = new SecretsManagerClient({ region: config.region });
  if (tracer) for (const client of [dynamo, sagemaker, secrets]) tracer.captureAWSv3Client(client);
  const s3 = lazyClient(async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ region: config.region });
    tracer?.captureAWSv3Client(client);
    return client;
  });
  const sqs = lazyClient(async () => {
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient({ region: config.region, maxAttempts: 2, requestHandler: requestHandlerOptions() });
    tracer?.captureAWSv3Client(client);
    return client;
  });
  return { dynamo, redis, sagemaker, secrets, s3, sqs };
}

/** The prediction adapters over one container's clients, shared by the predict and API functions. */
export async function predictDepsOf(
  config: PredictConfig,
  logger: Logger,
  clients: Omit<PredictClients, 's3'>,
  fallbacks: FallbackModels,
): Promise<{ deps: PredictDeps; health: HealthProbe[] }> {
  const { dynamo, redis, sagemaker, secrets, sqs } = clients;
  if (config.redisAuthSecretArn)
    connectWithPassword(redis, await readRedisAuthToken(secrets, config.redisAuthSecretArn));
  const breaker = new CircuitBreaker({ name: 'redis' });
  const deps: PredictDeps = {
    model: new SageMakerModelEndpoint(sagemaker, fallbacks, { endpointName: config.modelEndpoint, logger }),
    predictionCache: new RedisPredictionCache(redis, { breaker, logger }),
    // Read-only here: the feature-counters consumer counts every event once, from the streams.
    features: new RedisFeatureStore(
      redis,
      new DynamoFeatureBackingStore(dynamo, { tableName: config.tables.features }),
      { breaker, logger, countEvents: false },
    ),
    // A write DynamoDB keeps throttling is parked on SQS and redriven (prediction-log-redrive.ts).
    predictions: new DeadLetterPredictionLog(new DynamoPredictionLog(dynamo, config.tables.predictions), sqs, {
      queueUrl: config.predictionLogDeadLetterQueueUrl,
      logger,
    }),
    ads: new DynamoAdCatalogue(dynamo, config.tables.ads),
    models: new DynamoModelRegistry(dynamo, config.tables.models),
    experiments: new DynamoExperimentStore(dynamo, config.tables.experiments),
    pseudonymiser: await new SecretKeyLoader(secrets, config.pseudonymisationSecretArn).pseudonymiser(),
    clock: systemClock,
    ids: new TimeOrderedIds(systemClock),
    logger,
    config: { ...DEFAULT_CORE_CONFIG, exploration: config.exploration },
  };
  const health: HealthProbe[] = [
    {
      name: 'redis',
      // Redis is a cache: without it features come from the durable store, so degraded, not down.
      check: async () =>
        redis.status === 'ready' && breaker.state === 'closed'
          ? { status: 'ok' }
          : { status: 'degraded', detail: `connection ${redis.status}, circuit ${breaker.state}` },
    },
  ];
  return { deps, health };
}

/** Starts loading the champion's fallback copy: it is wanted before the endpoint first fails, not after. */
export function preloadChampion(deps: Pick<PredictDeps, 'models'>, fallbacks: FallbackModels, logger: Logger): void {
  void deps.models
    .champion()
    .then((c) => c && fallbacks.load({ model_id: c.model_id, version: c.version, artifact_uri: c.artifact_uri }))
    .catch((err: unknown) => logger.warn('fallback model not preloaded', { error: String(err) }));
}

/**
 * The predict function's root: reads the pseudonymisation key (a rejection is a 503 and the next
 * invoke tries again), builds the adapters once and starts loading the champion's fallback copy.
 */
export async function composePredict(
  config: PredictConfig,
  logger: Logger,
  clients: PredictClients = createPredictClients(config, logger),
): Promise<{ app: PredictApp; deps: PredictDeps }> {
  const fallbacks = new FallbackModels(clients.s3, { logger });
  const { deps } = await predictDepsOf(config, logger, clients, fallbacks);
  preloadChampion(deps, fallbacks, logger);
  const routing = new ModelRouting(deps.models, deps.experiments, deps.clock, deps.config.routingCacheMs);
  return { app: { predict: new PredictUseCase(deps, routing) }, deps };
}
