import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
import type { Pseudonymiser } from '../../core/ports.js';

const KEY_BYTES = 32;
/** Most traffic repeats users: caching their pseudonyms saves an HMAC per request on the hot path. */
const CACHE_ENTRIES = 100_000;

/**
 * Reads the HMAC key from `file`, creating it with mode 0600 on first use. Creation is
 * exclusive (O_EXCL), so two processes starting at once agree on one key.
 */
export function loadOrCreateKey(file: string): Buffer {
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const key = randomBytes(KEY_BYTES);
      writeSync(fd, key.toString('hex'));
      return key;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length !== KEY_BYTES) throw new Error(`The pseudonymisation key in ${file} is not ${KEY_BYTES} hex bytes.`);
  return key;
}

/** Keyed HMAC-SHA256, truncated to 128 bits and prefixed by kind, so a user and an IP never collide. */
export class HmacPseudonymiser implements Pseudonymiser {
  private readonly cache = new LRUCache<string, string>({ max: CACHE_ENTRIES });

  constructor(private readonly key: Buffer) {}

  pseudonymise(kind: 'user' | 'ip', value: string): string {
    // Users repeat (every prediction and event of a session); IPs far less, and a cache entry
    // for a one-off value costs more than the HMAC it would save.
    if (kind === 'ip') return this.hmac(kind, value);
    const hit = this.cache.get(value);
    if (hit !== undefined) return hit;
    const pseudonym = this.hmac(kind, value);
    this.cache.set(value, pseudonym);
    return pseudonym;
  }

  private hmac(kind: 'user' | 'ip', value: string): string {
    const digest = createHmac('sha256', this.key).update(kind).update('\u0000').update(value).digest('base64url');
    return `${kind === 'user' ? 'u_' : 'ip_'}${digest.slice(0, 22)}`;
  }
}
