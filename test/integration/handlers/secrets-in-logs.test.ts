/**
 * Secrets never reach the functions' logs: the predict function's real composition root reads a
 * known pseudonymisation key and a known Redis AUTH token from (stubbed) Secrets Manager, talks
 * to a real redis-server that requires that token, and serves predictions, refusals and errors
 * with a real Powertools logger at DEBUG; then a token Redis refuses, and a key secret that is
 * unusable. Every line Powertools wrote (stdout and stderr) is searched for each secret.
 * The API function composes the same way (composeAws → predictDepsOf), so it reads the secrets
 * through the same code. The local server's side: test/e2e/secrets-in-logs.test.ts.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoModelRegistry } from '../../../lambdas/adapters/aws/dynamodb/model-registry.js';
import { createRedisClient } from '../../../lambdas/adapters/aws/redis/redis-client.js';
import { coreLogger } from '../../../lambdas/handlers/observability.js';
import { createPredictHandler } from '../../../lambdas/handlers/predict.js';
import { composePredict, type PredictClients } from '../../../lambdas/handlers/predict-composition.js';
import { type PredictConfig, parsePredictConfig } from '../../../lambdas/handlers/predict-config.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { modelRecord } from '../../support/memory-ports.js';
import { type TrainedArtifact, trainArtifact } from '../../support/model-artifacts.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../support/redis-server.js';
import { apiEvent, lambdaContext, withBody } from '../../unit/handlers/api-gateway-events.js';
import {
  containerAnswer,
  InvokeEndpointCommand,
  modelRef,
  s3Client,
  sagemakerClient,
  serveArtifacts,
} from '../aws/sagemaker/helpers.js';

const KEY_HEX = '5ec2e7000b5e55ed5ec2e7000b5e55ed0123456789abcdeffedcba9876543210';
const REDIS_TOKEN = 'SeCrEt-redis-auth-token-7a41c9e05b';
const WRONG_REDIS_TOKEN = 'SeCrEt-wrong-redis-token-2f8d06b3c1';
/** 31 bytes: a key secret the loader must refuse, without quoting it. */
const UNUSABLE_KEY_HEX = 'badc0ffee0ddf00dbadc0ffee0ddf00dbadc0ffee0ddf00dbadc0ffee0ddf0';
const KEY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:adclick/pseudonymisation-AbCdEf';
const REDIS_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:adclick/redis-auth-GhIjKl';

const SECRET_FORMS: Record<string, string> = {
  'pseudonymisation key (hex)': KEY_HEX,
  'pseudonymisation key (HEX)': KEY_HEX.toUpperCase(),
  'pseudonymisation key (base64)': Buffer.from(KEY_HEX, 'hex').toString('base64'),
  'pseudonymisation key (base64url)': Buffer.from(KEY_HEX, 'hex').toString('base64url'),
  'Redis AUTH token': REDIS_TOKEN,
  'wrong Redis AUTH token': WRONG_REDIS_TOKEN,
  'unusable key': UNUSABLE_KEY_HEX,
  'unusable key (base64)': Buffer.from(UNUSABLE_KEY_HEX, 'hex').toString('base64'),
};

const CHAMPION = modelRef('m_0192a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', '2026-12-02.1');
const sagemakerMock = mockClient(SageMakerRuntimeClient);
const s3Mock = mockClient(S3Client);

/** Everything written on stdout and stderr while `work` runs (Powertools writes JSON lines there). */
async function capturedOutput(work: (soFar: () => string) => Promise<void>): Promise<string> {
  let output = '';
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += String(chunk);
      return true;
    });
  }
  try {
    await work(() => output);
  } finally {
    vi.restoreAllMocks();
  }
  return output;
}

describe.skipIf(!hasRedisServer)('the predict function with known secrets', () => {
  let dynamo: Dynalite;
  let redisServer: RedisServer;
  let artifact: TrainedArtifact;
  let config: PredictConfig;
  const opened: Redis[] = [];

  /** Secrets Manager as the function sees it: each ARN's SecretString. */
  const secretsOf = (values: Record<string, string>) =>
    ({
      send: async (command: GetSecretValueCommand) => {
        const value = values[command.input.SecretId ?? ''];
        if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
        return { SecretString: value, $metadata: {} };
      },
    }) as unknown as SecretsManagerClient;

  const clients = (secrets: SecretsManagerClient): PredictClients => {
    // as createPredictClients makes it: lazy, so that the token read from the secret is sent at connect
    const redis = createRedisClient(config.redisUrl, { lazyConnect: true });
    opened.push(redis);
    return {
      dynamo: dynamo.doc,
      redis,
      sagemaker: sagemakerClient(),
      s3: s3Client(),
      sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      secrets,
    };
  };

  /** The deployed wiring: one Powertools logger at DEBUG for the handler and the composition. */
  const handlerWith = (secrets: SecretsManagerClient) => {
    const powertools = new PowertoolsLogger({ serviceName: 'adclick-predict-secrets-test', logLevel: 'DEBUG' });
    const made = clients(secrets);
    made.redis.on('error', (err: Error) =>
      coreLogger(powertools).warn('redis connection error', { error: err.message }),
    );
    return {
      handler: createPredictHandler({
        logger: powertools,
        compose: async (logger) => (await composePredict(config, logger, made)).app,
      }),
      redis: made.redis,
    };
  };

  const predictEvent = (body: unknown) => withBody(apiEvent('post-predict.json'), JSON.stringify(body));

  beforeAll(async () => {
    [dynamo, redisServer, artifact] = await Promise.all([startDynalite(), startRedisServer(), trainArtifact(2)]);
    // The server requires the AUTH token from now on, as ElastiCache with AUTH does.
    const admin = new Redis(redisServer.url);
    await admin.config('SET', 'requirepass', REDIS_TOKEN);
    admin.disconnect();
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
      ADCLICK_REDIS_URL: redisServer.url,
      ADCLICK_REDIS_AUTH_SECRET_ARN: REDIS_ARN,
      ADCLICK_PSEUDONYMISATION_SECRET_ARN: KEY_ARN,
    });
    const registry = new DynamoModelRegistry(dynamo.doc, config.tables.models);
    await registry.create(
      modelRecord({ model_id: CHAMPION.model_id, version: CHAMPION.version, artifact_uri: CHAMPION.artifact_uri }),
    );
    await registry.promote(CHAMPION.model_id, new Date(), null);
    serveArtifacts(s3Mock, { [CHAMPION.model_id]: artifact.bytes });
    sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(artifact.scorer, input));
  }, 120_000);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    for (const r of opened) r.disconnect();
    await redisServer?.stop();
    await dynamo?.stop();
  });

  it('logs none of them while serving, refusing and failing requests with the right secrets', async () => {
    // Prepare
    const { handler, redis } = handlerWith(secretsOf({ [KEY_ARN]: KEY_HEX, [REDIS_ARN]: REDIS_TOKEN }));
    const statuses: number[] = [];

    // Act
    const output = await capturedOutput(async () => {
      statuses.push(
        (await handler(predictEvent({ user_id: 'u_secret', ad_id: 'ad_1', explain: true }), lambdaContext()))
          .statusCode,
      );
      await vi.waitFor(() => expect(redis.status).toBe('ready'), { timeout: 5_000, interval: 20 });
      statuses.push(
        (await handler(predictEvent({ user_id: 'u_secret', ad_id: 'ad_2', request_id: 'r-1' }), lambdaContext()))
          .statusCode,
      );
      // a refusal: the gateway did not authorise the call (no API key identity)
      const anonymous = predictEvent({ user_id: 'u_secret', ad_id: 'ad_3' });
      const noIdentity = apiEvent('get-health.json').requestContext.identity;
      statuses.push(
        (
          await handler(
            { ...anonymous, requestContext: { ...anonymous.requestContext, identity: noIdentity } },
            lambdaContext(),
          )
        ).statusCode,
      );
      // invalid input, and an unhandled failure (the endpoint and its fallback both fail)
      statuses.push((await handler(predictEvent({ user_id: 'u_secret' }), lambdaContext())).statusCode);
      sagemakerMock.on(InvokeEndpointCommand).rejects(Object.assign(new Error('boom'), { name: 'ModelError' }));
      statuses.push((await handler(predictEvent({ user_id: 'u_secret', ad_id: 'ad_4' }), lambdaContext())).statusCode);
      sagemakerMock.on(InvokeEndpointCommand).callsFake((input) => containerAnswer(artifact.scorer, input));
    });

    // Assess
    expect(statuses.slice(0, 4)).toEqual([200, 200, 403, 400]);
    expect(redis.status).toBe('ready');
    expect(output).toContain('"level":"');
    expect(Object.entries(SECRET_FORMS).filter(([, v]) => output.includes(v))).toEqual([]);
  });

  it('logs none of them when Redis refuses the token', async () => {
    // Prepare
    const { handler } = handlerWith(secretsOf({ [KEY_ARN]: KEY_HEX, [REDIS_ARN]: WRONG_REDIS_TOKEN }));

    // Act
    let status = 0;
    const output = await capturedOutput(async (soFar) => {
      status = (await handler(predictEvent({ user_id: 'u_secret', ad_id: 'ad_5' }), lambdaContext())).statusCode;
      // the refused AUTH is reported through the client's error event
      await vi.waitFor(() => expect(soFar()).toMatch(/redis connection error/), { timeout: 5_000, interval: 20 });
    });

    // Assess
    expect(status).toBe(200);
    expect(Object.entries(SECRET_FORMS).filter(([, v]) => output.includes(v))).toEqual([]);
  });

  it('logs none of them when the key secret is unusable or missing', async () => {
    // Prepare
    const unusable = handlerWith(secretsOf({ [KEY_ARN]: UNUSABLE_KEY_HEX, [REDIS_ARN]: REDIS_TOKEN })).handler;
    const missing = handlerWith(secretsOf({ [REDIS_ARN]: REDIS_TOKEN })).handler;

    // Act
    const statuses: number[] = [];
    const output = await capturedOutput(async () => {
      statuses.push((await unusable(predictEvent({ user_id: 'u_secret', ad_id: 'ad_6' }), lambdaContext())).statusCode);
      statuses.push((await missing(predictEvent({ user_id: 'u_secret', ad_id: 'ad_7' }), lambdaContext())).statusCode);
    });

    // Assess
    expect(statuses).toEqual([500, 503]);
    expect(output).toContain('request failed before routing');
    expect(Object.entries(SECRET_FORMS).filter(([, v]) => output.includes(v))).toEqual([]);
  });
});
