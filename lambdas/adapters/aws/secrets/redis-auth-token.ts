/**
 * The ElastiCache AUTH token from Secrets Manager, read once per Lambda container by the
 * composition roots, so that the token never sits in a function's environment (where anyone who
 * may read the function's configuration would see it). The secret holds the token as its plain
 * SecretString, as the CDK state stack generates it.
 */
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { Redis } from 'ioredis';
import { DependencyUnavailableError } from '../../../core/errors.js';
import type { GetSecretValueClient } from './secret-key.js';

/** ElastiCache's rule for AUTH tokens: 16-128 printable ASCII characters, none of @ " /. */
const AUTH_TOKEN = /^[\x21-\x7e]{16,128}$/;

/** The secret exists but does not hold a usable token: a deployment error, not an outage. */
export class InvalidRedisAuthTokenError extends Error {
  constructor(secretId: string, detail: string) {
    super(`The Redis AUTH token in secret ${secretId} is unusable: ${detail}`);
    this.name = 'InvalidRedisAuthTokenError';
  }
}

/**
 * Reads the token. Rejects with DependencyUnavailableError when Secrets Manager cannot be read
 * (the composition fails and the next invoke tries again), InvalidRedisAuthTokenError when the
 * secret holds no valid token. Never puts the token in an error message.
 */
export async function readRedisAuthToken(client: GetSecretValueClient, secretId: string): Promise<string> {
  let out: GetSecretValueCommandOutput;
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (err) {
    const e = new DependencyUnavailableError(
      `The Redis AUTH token could not be read from Secrets Manager (${(err as Error).name}).`,
    );
    e.cause = err;
    throw e;
  }
  const token = out.SecretString?.trim();
  if (token === undefined || token === '')
    throw new InvalidRedisAuthTokenError(secretId, 'the secret has no string value');
  if (!AUTH_TOKEN.test(token) || /[@"/]/.test(token))
    throw new InvalidRedisAuthTokenError(secretId, 'it is not 16-128 printable characters without @, " or /');
  return token;
}

/**
 * Starts the connection of a client made with `lazyConnect: true`, authenticating with a password
 * that was only known after the client was made. A failed first connect is reported through the
 * client's 'error' event and retried by its retryStrategy, like any later reconnect.
 */
export function connectWithPassword(client: Redis, password: string): void {
  client.options.password = password;
  client.connect().catch(() => {});
}
