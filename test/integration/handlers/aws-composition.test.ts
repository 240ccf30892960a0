import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient } from '../../../lambdas/adapters/aws/redis/redis-client.js';
import { type ApiHandler, createApiHandler } from '../../../lambdas/handlers/api.js';
import { type AwsClients, composeAws } from '../../../lambdas/handlers/composition.js';
import { parseApiConfig } from '../../../lambdas/handlers/config.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { type Kinesalite, startKinesalite } from '../../support/kinesalite.js';
import { RecordingLogger } from '../../support/memory-ports.js';
import { apiEvent, lambdaContext, withBody } from '../../unit/handlers/api-gateway-events.js';

const offline = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/**
 * The real composition root over dynalite and kinesalite, with Redis unreachable (a closed port):
 * proves the adapters are wired to the right tables and streams and that a dead Redis does not
 * stop a request.
 */
describe('AWS composition root behind the API handler', () => {
  let dynamo: Dynalite;
  let kinesis: Kinesalite;
  let redis: Redis;
  let handler: ApiHandler;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    [dynamo, kinesis] = await Promise.all([startDynalite(), startKinesalite()]);
    const tables = await dynamo.freshTables();
    await Promise.all(['impressions', 'clicks', 'suspicious'].map((s) => kinesis.createStream(s)));
    const config = parseApiConfig({
      AWS_REGION: 'us-east-1',
      ADCLICK_PREDICTIONS_TABLE: tables.predictions,
      ADCLICK_MODELS_TABLE: tables.models,
      ADCLICK_EXPERIMENTS_TABLE: tables.experiments,
      ADCLICK_ADS_TABLE: tables.ads,
      ADCLICK_FEATURES_TABLE: tables.features,
      ADCLICK_IMPRESSIONS_STREAM: 'impressions',
      ADCLICK_CLICKS_STREAM: 'clicks',
      ADCLICK_SUSPICIOUS_EVENTS_STREAM: 'suspicious',
      ADCLICK_MODEL_ENDPOINT: 'ctr',
      ADCLICK_MODEL_IMAGE_URI: '123456789012.dkr.ecr.us-east-1.amazonaws.com/adclick-serve:test',
      ADCLICK_MODEL_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/adclick-sagemaker-execution',
      ADCLICK_PREDICTION_LOG_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/adclick-prediction-log-dlq',
      ADCLICK_MODEL_BUCKET: 'adclick-models',
      ADCLICK_ATHENA_WORKGROUP: 'adclick',
      ADCLICK_ATHENA_DATABASE: 'adclick_lake',
      ADCLICK_REDIS_URL: 'redis://127.0.0.1:1',
      ADCLICK_PSEUDONYMISATION_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:adclick/key-AbCdEf',
    });
    redis = createRedisClient(config.redisUrl);
    redis.on('error', () => {});
    const clients: AwsClients = {
      dynamo: dynamo.doc,
      kinesis: kinesis.client,
      redis,
      // Never called by these requests: no model is active, no analytics are asked, DynamoDB does not throttle.
      s3: new S3Client(offline),
      sagemaker: new SageMakerRuntimeClient(offline),
      sagemakerControl: new SageMakerClient(offline),
      athena: new AthenaClient(offline),
      sqs: new SQSClient(offline),
      secrets: {
        send: async () => ({ SecretString: 'ab'.repeat(32), $metadata: {} }),
      } as unknown as SecretsManagerClient,
    };
    const { app } = await composeAws(config, logger, clients);
    handler = createApiHandler({
      logger: new PowertoolsLogger({ serviceName: 'adclick-api-test', logLevel: 'SILENT' }),
      compose: () => app,
    });
  });

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([dynamo?.stop(), kinesis?.stop()]);
  });

  it('stores and reads an ad through the DynamoDB catalogue', async () => {
    const put = await handler(apiEvent('put-ad.json'), lambdaContext());
    const get = await handler(apiEvent('put-ad.json', { httpMethod: 'GET', body: null }), lambdaContext());

    expect(put.statusCode).toBe(200);
    expect(get.statusCode).toBe(200);
    expect(JSON.parse(get.body)).toMatchObject({ ad_id: 'ad_7', advertiser_id: 'adv_3' });
  });

  it('acknowledges an impression once it is on its Kinesis stream, with Redis down', async () => {
    const body = JSON.stringify({
      impression_id: 'imp_1',
      user_id: 'u_42',
      ad_id: 'ad_7',
      timestamp: new Date().toISOString(),
    });
    const event = withBody(
      apiEvent('post-predict.json', { path: '/event/impression', resource: '/event/impression' }),
      body,
    );

    const result = await handler(event, lambdaContext());

    expect(result.statusCode).toBe(202);
    const records = await kinesis.readRecords('impressions');
    expect(records.map((r) => JSON.parse(r.data).impression_id)).toEqual(['imp_1']);
    expect(records[0]!.data).not.toContain('u_42');
  });

  it('answers /predict with 503 problem+json while no model is active', async () => {
    const result = await handler(apiEvent('post-predict.json'), lambdaContext());

    expect(result.statusCode).toBe(503);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
  });
});
