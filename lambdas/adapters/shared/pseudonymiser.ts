import { GenerationalMap } from '../../core/collections/generational-map.js';
import type { Pseudonymiser } from '../../core/ports.js';
import { HmacSha256 } from './hmac-sha256.js';

/**
 * User pseudonyms kept per generation (two generations are held: at most 2 × this many). Every
 * prediction and event of a session repeats its user, and a hit is a Map lookup instead of an HMAC.
 * IPs are not cached: most are seen once or twice, and a cache entry for a one-off value costs
 * more (two misses, an insert, old-generation memory) than the ~0.8 µs HMAC it would save.
 */
const USER_CACHE_ENTRIES_PER_GENERATION = 100_000;

/** The key length the pseudonymiser expects, whichever store holds it (key file or Secrets Manager). */
export const PSEUDONYMISATION_KEY_BYTES = 32;

/** Keyed HMAC-SHA256, truncated to 128 bits and prefixed by kind, so a user and an IP never collide. */
export class HmacPseudonymiser implements Pseudonymiser {
  // Generations dropped whole rather than an LRU: an LRU's bookkeeping per lookup cost about as
  // much as the HMAC it saved.
  private readonly users = new GenerationalMap<string, string>(
    Number.POSITIVE_INFINITY,
    USER_CACHE_ENTRIES_PER_GENERATION,
  );
  private readonly mac: HmacSha256;
  private readonly digest = Buffer.alloc(32);

  constructor(key: Buffer) {
    this.mac = new HmacSha256(key);
  }

  pseudonymise(kind: 'user' | 'ip', value: string): string {
    if (kind === 'ip') return this.hmac(kind, value);
    const hit = this.users.get(value);
    if (hit !== undefined) return hit;
    const pseudonym = this.hmac(kind, value);
    this.users.set(value, pseudonym);
    return pseudonym;
  }

  /** `u_` or `ip_` and the first 22 base64url characters (132 bits) of HMAC(kind NUL value). */
  private hmac(kind: 'user' | 'ip', value: string): string {
    this.mac.digestInto(`${kind}\u0000${value}`, this.digest);
    return `${kind === 'user' ? 'u_' : 'ip_'}${this.digest.toString('base64url', 0, 17).slice(0, 22)}`;
  }
}
