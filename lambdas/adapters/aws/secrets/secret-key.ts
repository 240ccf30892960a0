/**
 * The pseudonymisation key from Secrets Manager, read once per Lambda container: every cold
 * start costs one GetSecretValue, warm requests none. The secret holds the key as 64 hex
 * characters (SecretString), the same text as the local key file, so a key can move between
 * the two; a binary secret of 32 bytes is accepted too.
 *
 * A failed read is not cached: the next request tries again (after an IAM or network fix)
 * instead of the container failing until it is recycled.
 */
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { DependencyUnavailableError } from '../../../core/errors.js';
import { HmacPseudonymiser, PSEUDONYMISATION_KEY_BYTES } from '../../shared/pseudonymiser.js';

/** What the loader needs of a SecretsManagerClient (a SecretsManagerClient is one). */
export interface GetSecretValueClient {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

/** The secret exists but does not hold a usable key: a deployment error, not an outage. */
export class InvalidSecretKeyError extends Error {
  constructor(secretId: string, detail: string) {
    super(`The pseudonymisation key in secret ${secretId} is unusable: ${detail}`);
    this.name = 'InvalidSecretKeyError';
  }
}

export function decodeKey(secretId: string, out: GetSecretValueCommandOutput): Buffer {
  let key: Buffer;
  if (out.SecretString !== undefined) {
    const text = out.SecretString.trim();
    if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0)
      throw new InvalidSecretKeyError(secretId, 'the secret string is not hex');
    key = Buffer.from(text, 'hex');
  } else if (out.SecretBinary !== undefined) {
    key = Buffer.from(out.SecretBinary);
  } else {
    throw new InvalidSecretKeyError(secretId, 'the secret has no value');
  }
  if (key.length !== PSEUDONYMISATION_KEY_BYTES)
    throw new InvalidSecretKeyError(secretId, `it holds ${key.length} bytes, not ${PSEUDONYMISATION_KEY_BYTES}`);
  return key;
}

export class SecretKeyLoader {
  private pending: Promise<HmacPseudonymiser> | undefined;

  constructor(
    private readonly client: GetSecretValueClient,
    /** The secret's name or ARN, from config. */
    private readonly secretId: string,
  ) {}

  /**
   * The pseudonymiser over the key; concurrent first calls share one read. Rejects with
   * DependencyUnavailableError when Secrets Manager cannot be read, InvalidSecretKeyError when
   * the secret holds no valid key.
   */
  pseudonymiser(): Promise<HmacPseudonymiser> {
    if (!this.pending) {
      const loading = this.load();
      this.pending = loading;
      loading.catch(() => {
        if (this.pending === loading) this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async load(): Promise<HmacPseudonymiser> {
    let out: GetSecretValueCommandOutput;
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    } catch (err) {
      const e = new DependencyUnavailableError(
        `The pseudonymisation key could not be read from Secrets Manager (${(err as Error).name}).`,
      );
      e.cause = err;
      throw e;
    }
    return new HmacPseudonymiser(decodeKey(this.secretId, out));
  }
}
