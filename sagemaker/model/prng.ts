/**
 * Small seeded pseudo-random generators. Deterministic across platforms (32-bit integer
 * arithmetic only), fast, and NOT cryptographic: they drive the simulator and the trainer's
 * negative down-sampling, where reproducibility matters and secrecy does not.
 */

/** One step of splitmix32: turns a (possibly poor) 32-bit seed into well-mixed state words. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

export interface Random {
  /** A uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** A standard normal draw (Box-Muller). */
  normal(): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through splitmix32 from
 * one or more 32-bit integers, so that `createRandom(seed, stream)` gives independent streams.
 */
export function createRandom(...seeds: number[]): Random {
  let s = 0x6a09e667;
  for (const seed of seeds) {
    if (!Number.isFinite(seed)) throw new RangeError(`random seed must be a finite number, got ${seed}`);
    // Fold in the seed, both halves of it when it does not fit in 32 bits.
    s = splitmix32(s ^ (seed >>> 0))[1];
    s = splitmix32(s ^ Math.floor(seed / 0x1_0000_0000))[1];
  }
  let a: number;
  let b: number;
  let c: number;
  [s, a] = splitmix32(s);
  [s, b] = splitmix32(s);
  [s, c] = splitmix32(s);
  let d = 1;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextUint32();
  let spare: number | null = null;
  const next = (): number => nextUint32() / 0x1_0000_0000;
  return {
    next,
    nextUint32,
    int(n: number): number {
      return Math.floor(next() * n);
    },
    normal(): number {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = next();
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/** A cumulative distribution (normalised to end at 1) for O(log n) sampling. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    out[i] = sum;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** The index whose cumulative interval holds `u` (u in [0, 1)). */
export function sample(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u < cdf[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
