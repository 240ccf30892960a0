import { createHmac } from 'node:crypto';
import { GenerationalMap } from '../../core/collections/generational-map.js';
import type { Pseudonymiser } from '../../core/ports.js';

/**
 * Pseudonyms kept per generation (two generations are held: at most 2 × this many, ~40 MB).
 * Traffic repeats users and their IPs (every prediction and event of a session): a hit saves an
 * HMAC (~3 µs), the largest single cost of an event on the ingest path.
 */
const CACHE_ENTRIES_PER_GENERATION = 100_000;

/** The key length the pseudonymiser expects, whichever store holds it (key file or Secrets Manager). */
export const PSEUDONYMISATION_KEY_BYTES = 32;

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
