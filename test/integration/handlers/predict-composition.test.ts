/**
 * The predict function's real composition root over dynalite, with the SageMaker endpoint and S3
 * stubbed (no emulator exists) and Redis unreachable: a prediction is scored, logged in the
 * DynamoDB prediction log and answered; the fallback copy is downloaded through the lazily made
 * S3 client; other routes are not this function's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoModelRegistry } from '../../../lambdas/adapters/aws/dynamodb/model-registry.js';
import { DynamoPredictionLog } from '../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import { createRedisClient } from '../../../lambdas/adapters/aws/redis/redis-client.js';
import type { GatewayHandler } from '../../../lambdas/handlers/gateway-handler.js';
import { createPredictHandler } from '../../../lambdas/handlers/predict.js';
import { composePredict, type PredictClients } from '../../../lambdas/handlers/predict-composition.js';
import { type PredictConfig, parsePredictConfig } from '../../../lambdas/handlers/predict-config.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { modelRecord, RecordingLogger } from '../../support/memory-ports.js';
import { type TrainedArtifact, trainArtifact } from '../../support/model-artifacts.js';
import { apiEvent, lambdaContext, withBody } from '../../unit/handlers/api-gateway-events.js';
import {
  containerAnswer,
  InvokeEndpointCommand,
  modelRef,
  s3Client,
  sagemakerClient,
  serveArtifacts,
} from '../aws/sagemaker/helpers.js';

const sagemakerMock = mockClient(SageMakerRuntimeClient);
const s3Mock = mockClient(S3Client);
const CHAMPION = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '2026-12-01.1');

describe('the predict function over its AWS composition root', () => {
  let dynamo: Dynalite;
  let redis: Redis;
  let config: PredictConfig;
  let artifact: TrainedArtifact;
  let tmp: string;
  const logger = new RecordingLogger();

  const clients = (): PredictClients => ({
    dynamo: dynamo.doc,
    redis,
    sagemaker: sagemakerClient(),
    s3: s3Client(),
    sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    secrets: {
      send: async () => ({ SecretString: 'ab'.repeat(32), $metadata: {} }),
    } as unknown as SecretsManagerClient,
  });

  const handlerOver = async (): Promise<GatewayHandler> => {
    const { app } = await composePredict(config, logger, clients());
    return createPredictHandler({
      logger: new PowertoolsLogger({ serviceName: 'adclick-predict-test', logLevel: 'SILENT' }),
      compose: () => app,
    });
  };

  beforeAll(async () => {
    [dynamo, artifact] = await Promise.all([startDynalite(), trainArtifact(1)]);
    tmp = await mkdtemp(join(tmpdir(), 'adclick-predict-fn-'));
    const tables = await dynamo.freshTables();
    config = parsePredictConfig({
      AWS_REGION: 'us-east-1',
      ADCLICK_PREDICTIONS_TABLE: tables.predictions,
      ADCLICK_MODELS_TABLE: tables.models,
      ADCLICK_EXPERIMENTS_TABLE: tables.experiments,
      ADCLICK_ADS_TABLE: tables.ads,
      ADCLICK_FEATURES_TABLE: tables.features,
      ADCLICK_MODEL_ENDPOINT: 'ctr',
      ADCLICK_PREDICTION_LOG_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/adclick-prediction-log-dlq',
      ADCLICK_REDIS_URL: 'redis://127.0.0.1:1',
      ADCLICK_PSEUDONYMISATION_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:adclick/key-AbCdEf',
    });
    redis = createRedisClient(config.redisUrl);
    redis.on('error', () => {});
  });

  afterAll(async () => {
    redis?.disconnect();
    await dynamo?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    sagemakerMock.reset();
    s3Mock.reset();
    serveArtifacts(s3Mock, { [CHAMPION.model_id]: artifact.bytes });
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(artifact.scorer, input));
  });

  it('answers /predict with 503 problem+json while no model is active', async () => {
    // Prepare
    const handler = await handlerOver();

    // Act
    const result = await handler(apiEvent('post-predict.json'), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
  });

  it('scores through the endpoint, logs the prediction in DynamoDB and preloads the fallback copy', async () => {
    // Prepare
    const registry = new DynamoModelRegistry(dynamo.doc, config.tables.models);
    await registry.create(
      modelRecord({ model_id: CHAMPION.model_id, version: CHAMPION.version, artifact_uri: CHAMPION.artifact_uri }),
    );
    await registry.promote(CHAMPION.model_id, new Date(), null);
    const handler = await handlerOver();
    const event = withBody(
      apiEvent('post-predict.json'),
      JSON.stringify({ user_id: 'u_1', ad_id: 'ad_3', features: { device_type: 'mobile' } }),
    );

    // Act
    const result = await handler(event, lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
    const prediction = JSON.parse(result.body) as { prediction_id: string; probability: number; fallback?: boolean };
    expect(prediction.fallback).toBeUndefined();
    expect(prediction.probability).toBeGreaterThan(0);
    const [logged] = await new DynamoPredictionLog(dynamo.doc, config.tables.predictions).getMany([
      prediction.prediction_id,
    ]);
    expect(logged).toMatchObject({ ad_id: 'ad_3', model_id: CHAMPION.model_id, fallback: false });
    expect(logged!.user_id).not.toBe('u_1');
    await expect.poll(() => s3Mock.commandCalls(GetObjectCommand).length).toBeGreaterThan(0);
  });

  it('answers 400 naming ad_id when the body lacks it', async () => {
    // Prepare
    const handler = await handlerOver();

    // Act
    const result = await handler(
      withBody(apiEvent('post-predict.json'), JSON.stringify({ user_id: 'u_1' })),
      lambdaContext(),
    );

    // Assess
    expect(result.statusCode).toBe(400);
    expect(result.body).toContain('ad_id');
  });

  it('serves no route but the two predict routes', async () => {
    // Prepare
    const handler = await handlerOver();

    // Act
    const result = await handler(apiEvent('put-ad.json', { httpMethod: 'GET', body: null }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(404);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
  });
});
