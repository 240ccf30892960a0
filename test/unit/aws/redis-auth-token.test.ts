/**
 * The Redis AUTH token read from Secrets Manager (stubbed: no emulator) and handed to a client
 * made before the token was known, against a real redis-server that requires it.
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisClient, waitUntilReady } from '../../../lambdas/adapters/aws/redis/redis-client.js';
import {
  connectWithPassword,
  InvalidRedisAuthTokenError,
  readRedisAuthToken,
} from '../../../lambdas/adapters/aws/secrets/redis-auth-token.js';
import { DependencyUnavailableError } from '../../../lambdas/core/errors.js';
import { hasRedisServer, startRedisServer } from '../../support/redis-server.js';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:adclick-dev-redis-auth-AbCdEf';
const TOKEN = 'q7Xv2LmN9pR4sT6uW8yZ1aB3cD5eF7gH';
const secrets = mockClient(SecretsManagerClient);

function client() {
  return new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
  });
}

function secretString(value: string | undefined) {
  return {
    $metadata: { httpStatusCode: 200 },
    ARN: SECRET_ARN,
    Name: 'adclick-dev-redis-auth',
    VersionStages: ['AWSCURRENT'],
    ...(value === undefined ? {} : { SecretString: value }),
  };
}

beforeEach(() => secrets.reset());
afterAll(() => secrets.restore());

describe('readRedisAuthToken', () => {
  it('returns the secret string of the named secret', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves(secretString(`${TOKEN}\n`));

    // Act
    const token = await readRedisAuthToken(client(), SECRET_ARN);

    // Assess
    expect(token).toBe(TOKEN);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  it('reports an unreadable secret as a dependency outage', async () => {
    // Prepare
    secrets
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    // Act
    const reading = readRedisAuthToken(client(), SECRET_ARN);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it.each([
    ['is empty', ''],
    ['is too short for ElastiCache', 'short'],
    ['holds a character ElastiCache refuses', `${TOKEN}@`],
  ])('refuses a token that %s, without echoing it', async (_, value) => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves(secretString(value));

    // Act
    const reading = readRedisAuthToken(client(), SECRET_ARN);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(InvalidRedisAuthTokenError);
    await expect(reading).rejects.not.toThrow(value === '' ? /^$/ : value);
  });
});

describe.skipIf(!hasRedisServer)('connectWithPassword', () => {
  const opened: Redis[] = [];
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const c of opened.splice(0)) c.disconnect();
    await stop?.();
  });

  async function serverRequiring(password: string) {
    const server = await startRedisServer();
    stop = server.stop;
    const admin = createRedisClient(server.url, { connectTimeout: 1_000, commandTimeout: 1_000 });
    opened.push(admin);
    await waitUntilReady(admin, 1_000);
    await admin.config('SET', 'requirepass', password);
    return server;
  }

  it('authenticates a client made before the token was read', async () => {
    // Prepare
    const server = await serverRequiring(TOKEN);
    const redis = createRedisClient(server.url, { lazyConnect: true, connectTimeout: 1_000, commandTimeout: 1_000 });
    opened.push(redis);

    // Act
    connectWithPassword(redis, TOKEN);
    const ready = await waitUntilReady(redis, 2_000);

    // Assess
    expect(ready).toBe(true);
    expect(await redis.ping()).toBe('PONG');
  });

  it('never gets a client with another token ready', async () => {
    // Prepare
    const server = await serverRequiring(TOKEN);
    const redis = createRedisClient(server.url, { lazyConnect: true, connectTimeout: 1_000, commandTimeout: 1_000 });
    redis.on('error', () => {});
    opened.push(redis);

    // Act
    connectWithPassword(redis, 'another-token-0123456789');
    const ready = await waitUntilReady(redis, 1_000);

    // Assess
    expect(ready).toBe(false);
  });
});
