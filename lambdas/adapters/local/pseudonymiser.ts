import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { GenerationalMap } from '../../core/collections/generational-map.js';
import type { Pseudonymiser } from '../../core/ports.js';

const KEY_BYTES = 32;
/**
 * Pseudonyms kept per generation (two generations are held: at most 2 × this many, ~40 MB).
 * Traffic repeats users and their IPs (every prediction and event of a session): a hit saves an
 * HMAC (~3 µs), the largest single cost of an event on the ingest path.
 */
const CACHE_ENTRIES_PER_GENERATION = 100_000;

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
  // Generations dropped whole rather than an LRU: an LRU's bookkeeping per lookup cost about as
  // much as the HMAC it saved, which made caching one-off values (most IPs) a loss.
  private readonly users = new GenerationalMap<string, string>(Number.POSITIVE_INFINITY, CACHE_ENTRIES_PER_GENERATION);
  private readonly ips = new GenerationalMap<string, string>(Number.POSITIVE_INFINITY, CACHE_ENTRIES_PER_GENERATION);

  constructor(private readonly key: Buffer) {}

  pseudonymise(kind: 'user' | 'ip', value: string): string {
    const cache = kind === 'user' ? this.users : this.ips;
    const hit = cache.get(value);
    if (hit !== undefined) return hit;
    const pseudonym = this.hmac(kind, value);
    cache.set(value, pseudonym);
    return pseudonym;
  }

  private hmac(kind: 'user' | 'ip', value: string): string {
    const digest = createHmac('sha256', this.key).update(kind).update('\u0000').update(value).digest('base64url');
    return `${kind === 'user' ? 'u_' : 'ip_'}${digest.slice(0, 22)}`;
  }
}
