import 'aws-sdk-client-mock-vitest/extend';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidSecretKeyError, SecretKeyLoader } from '../../../lambdas/adapters/aws/secrets/secret-key.js';
import { HmacPseudonymiser } from '../../../lambdas/adapters/shared/pseudonymiser.js';
import { DependencyUnavailableError } from '../../../lambdas/core/errors.js';

const SECRET_ID = 'adclick/pseudonymisation-key';
const KEY_HEX = '0f'.repeat(32);
const secrets = mockClient(SecretsManagerClient);

/** A GetSecretValue answer as Secrets Manager sends it. */
function secretValue(fields: { SecretString?: string; SecretBinary?: Uint8Array }) {
  return {
    $metadata: { httpStatusCode: 200 },
    ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET_ID}-AbCdEf`,
    Name: SECRET_ID,
    VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    VersionStages: ['AWSCURRENT'],
    CreatedDate: new Date('2026-12-01T00:00:00Z'),
    ...fields,
  };
}

function loader() {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
  });
  return new SecretKeyLoader(client, SECRET_ID);
}

beforeEach(() => secrets.reset());
afterAll(() => secrets.restore());

describe('SecretKeyLoader', () => {
  it('reads the secret once per container, however many callers ask', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretString: KEY_HEX }));
    const keys = loader();

    // Act
    const [a, b] = await Promise.all([keys.pseudonymiser(), keys.pseudonymiser()]);
    const c = await keys.pseudonymiser();

    // Assess
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ID });
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('pseudonymises with the key in the secret, as the local key file would', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretString: `${KEY_HEX}\n` }));
    const local = new HmacPseudonymiser(Buffer.from(KEY_HEX, 'hex'));

    // Act
    const pseudonymiser = await loader().pseudonymiser();

    // Assess
    expect(pseudonymiser.pseudonymise('user', 'u42')).toBe(local.pseudonymise('user', 'u42'));
  });

  it('accepts the key as a binary secret', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretBinary: Buffer.from(KEY_HEX, 'hex') }));
    const local = new HmacPseudonymiser(Buffer.from(KEY_HEX, 'hex'));

    // Act
    const pseudonymiser = await loader().pseudonymiser();

    // Assess
    expect(pseudonymiser.pseudonymise('ip', '192.0.2.1')).toBe(local.pseudonymise('ip', '192.0.2.1'));
  });

  it('does not cache a failed read: the next call reads again', async () => {
    // Prepare
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(
        new SecretsManagerServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'not authorized to perform secretsmanager:GetSecretValue',
        }),
      )
      .resolves(secretValue({ SecretString: KEY_HEX }));
    const keys = loader();

    // Act
    const failed = keys.pseudonymiser();
    await expect(failed).rejects.toBeInstanceOf(DependencyUnavailableError);
    const retried = await keys.pseudonymiser();

    // Assess
    expect(retried.pseudonymise('user', 'u1')).toMatch(/^u_/);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('reports a missing secret as a dependency failure naming the cause', async () => {
    // Prepare
    secrets
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    // Act
    const outcome = loader().pseudonymiser();

    // Assess
    await expect(outcome).rejects.toThrow(/ResourceNotFoundException/);
  });

  it('refuses a secret that does not hold a 32-byte key, and reads it again next time', async () => {
    // Prepare
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce(secretValue({ SecretString: 'abcd' }))
      .resolves(secretValue({ SecretString: KEY_HEX }));
    const keys = loader();

    // Act
    const bad = keys.pseudonymiser();
    await expect(bad).rejects.toBeInstanceOf(InvalidSecretKeyError);
    await expect(bad).rejects.toThrow(/holds 2 bytes, not 32/);
    const fixed = await keys.pseudonymiser();

    // Assess
    expect(fixed).toBeInstanceOf(HmacPseudonymiser);
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });
});
