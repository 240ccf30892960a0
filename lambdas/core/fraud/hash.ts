/**
 * Seeded, non-cryptographic hashing of ids into numbers, so that the fraud rules keep typed
 * arrays and number-keyed maps instead of retaining millions of id strings (which the garbage
 * collector would have to trace). Two 32-bit lanes are computed in one pass over the string.
 */

function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Holds the last hash in `hi`/`lo` (a reused instance: hashing allocates nothing). */
export class IdHasher {
  hi = 0;
  lo = 0;
  private readonly seedA: number;
  private readonly seedB: number;

  constructor(seed: number) {
    this.seedA = fmix32(seed ^ 0x9747b28c);
    this.seedB = fmix32(seed ^ 0x5bd1e995);
  }

  /** Sets `hi` and `lo` to the two 32-bit hashes of `s`. */
  hash(s: string): void {
    const n = s.length;
    let a = this.seedA ^ n;
    let b = this.seedB + n;
    // Two UTF-16 units a round: ids are ASCII-heavy and short, so the loop count is what costs.
    for (let i = 0; i < n; i += 2) {
      const c = i + 1 < n ? s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16) : s.charCodeAt(i);
      a = Math.imul(a ^ c, 0xcc9e2d51);
      a = (a << 15) | (a >>> 17);
      b = Math.imul(b ^ c, 0x1b873593);
      b = (b << 13) | (b >>> 19);
      b = (Math.imul(b, 5) + 0xe6546b64) | 0;
    }
    this.hi = fmix32(a ^ Math.imul(b, 0x27d4eb2d));
    this.lo = fmix32(b ^ a);
  }

  /** A 52-bit key of `s`, exact as a double: distinct ids collide with probability ~n²/2⁵³. */
  key(s: string): number {
    this.hash(s);
    return (this.hi & 0xfffff) * 0x1_0000_0000 + this.lo;
  }
}
