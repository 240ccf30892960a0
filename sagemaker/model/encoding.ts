/**
 * The one feature encoding, shared by training and serving.
 *
 * A feature map is flat: `{ device_type: 'mobile', position: 2, user_ctr: 0.013, ... }`. Each field
 * becomes exactly one token, and each token is hashed into one of `2^bits` weight slots:
 *
 * | value                  | token                                                        |
 * | ---------------------- | ------------------------------------------------------------ |
 * | string `s`             | `field=s`                                                    |
 * | boolean                | `field=true` / `field=false` (the same as the strings)       |
 * | finite number `x != 0` | `field#p<k>` (x > 0) or `field#n<k>` (x < 0), k = ⌊2·log2 x⌋ |
 * | number 0               | `field#0`                                                    |
 * | ±Infinity              | `field#pinf` / `field#ninf`                                  |
 * | null, missing, NaN     | `field=<missing>`                                            |
 *
 * Numbers are log-bucketised with two buckets per factor of two of |x| (bucket edges at powers of
 * √2), with the sign kept; a string that looks like a number stays categorical ('5' ≠ 5).
 *
 * The hash is FNV-1a (32 bit) over the UTF-8 bytes of the token, started from the FNV offset basis
 * XOR the seed, then passed through murmur3's fmix32 finaliser so that the low bits (the slot is
 * `hash & (2^bits - 1)`) are well mixed. The per-field prefix `field=` / `field#` is hashed once
 * per encoder, so a request costs one short string walk per field and no allocation.
 *
 * Serving encodes the fields the model was trained with (in the model's order); a field the model
 * has never seen cannot carry a learned weight and is ignored. Training grows the field list as
 * new fields appear (`observe`).
 */

export type FeatureValue = string | number | boolean | null;
/** A flat feature map; `undefined` (an absent key) is the same as null: missing. */
export type FeatureMap = Readonly<Record<string, FeatureValue | undefined>>;

export const HASH_NAME = 'fnv1a32-fmix32';
export const DEFAULT_BITS = 20;
export const DEFAULT_HASH_SEED = 0;
export const MIN_BITS = 1;
export const MAX_BITS = 28;
/** The value of a null or missing field in a token. */
export const MISSING = '<missing>';
/**
 * The suffix of a field's rare-value token, `field#rare`. Values only ever produce `field=…` or
 * `field#p…` / `field#n…` / `field#0` / `field#pinf` / `field#ninf`, so no value can collide with it.
 */
export const RARE = 'rare';
/** An encoder refuses to grow beyond this many fields (a guard against a runaway key space). */
export const MAX_FIELDS = 4096;

/** A cross: a pair of fields whose value pair gets a weight of its own (see FeatureEncoder.setCrosses). */
export type Cross = readonly [string, string];

/** The separator of a cross's name in its hash, `a&b` (and in uncertainty / metrics text). */
export const CROSS_SEPARATOR = '&';

export interface HashingConfig {
  readonly bits: number;
  readonly hash: typeof HASH_NAME;
  readonly seed: number;
}

export interface EncodedFeatures {
  /** One slot per field, in `fields` order. */
  readonly indices: Uint32Array;
  /** The field of each slot (the encoder's field list; do not mutate). */
  readonly fields: readonly string[];
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const CH_EQ = 0x3d; // '='
const CH_HASH = 0x23; // '#'
const CH_P = 0x70; // 'p'
const CH_N = 0x6e; // 'n'
const CH_0 = 0x30; // '0'
const CH_MINUS = 0x2d; // '-'
const CH_AMP = 0x26; // '&'

/** Feeds the UTF-8 bytes of `s` into an FNV-1a state (lone surrogates as U+FFFD, like TextEncoder). */
function fnvString(state: number, s: string): number {
  let h = state;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const lo = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h;
}

function fnvByte(state: number, byte: number): number {
  return Math.imul(state ^ byte, FNV_PRIME);
}

/** Feeds the decimal digits of an integer (with a leading '-' when negative), as String(k) would. */
function fnvInteger(state: number, k: number): number {
  let h = state;
  let v = k;
  if (v < 0) {
    h = fnvByte(h, CH_MINUS);
    v = -v;
  }
  let d = 1;
  while (d * 10 <= v) d *= 10;
  for (; d >= 1; d /= 10) {
    const digit = Math.floor(v / d) % 10;
    h = fnvByte(h, CH_0 + digit);
  }
  return h;
}

/** murmur3's 32-bit finaliser: full avalanche, so every output bit depends on every input bit. */
function fmix32(state: number): number {
  let h = state;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The slot of the cross of two fields' slots: the FNV state of the cross's name `a&b` (its
 * `basis`), fed with the two slots as 32-bit integers, then fmix32. A cross is a function of the
 * two raw slots (before any rare mapping), so training and serving compute it the same way.
 */
export function crossSlot(basis: number, slotA: number, slotB: number, mask: number): number {
  const h = fmix32(Math.imul(basis ^ slotA, FNV_PRIME));
  return (fmix32(Math.imul(h ^ slotB, FNV_PRIME)) & mask) >>> 0;
}

/** The FNV state of a cross's name `a&b` under the hash seed (crossSlot's basis). */
export function crossBasis(a: string, b: string, seed = DEFAULT_HASH_SEED): number {
  return fnvString(fnvByte(fnvString((FNV_OFFSET ^ seed) | 0, a), CH_AMP), b);
}

/** Plain FNV-1a 32 over the UTF-8 bytes of `s` (seed 0 gives the standard function). */
export function fnv1a32(s: string, seed = 0): number {
  return fnvString((FNV_OFFSET ^ seed) | 0, s) >>> 0;
}

/** The token hash used for slots: FNV-1a 32 then fmix32. */
export function hashToken(token: string, seed = DEFAULT_HASH_SEED): number {
  return fmix32(fnvString((FNV_OFFSET ^ seed) | 0, token));
}

/** The numeric bucket of a finite non-zero |x|: two buckets per factor of two. */
export function numericBucket(x: number): number {
  return Math.floor(2 * Math.log2(Math.abs(x)));
}

/** The token a field's value becomes (for documentation, debugging and tests; serving never builds it). */
export function tokenOf(field: string, value: FeatureValue | undefined): string {
  switch (typeof value) {
    case 'string':
      return `${field}=${value}`;
    case 'boolean':
      return `${field}=${value ? 'true' : 'false'}`;
    case 'number':
      if (value === 0) return `${field}#0`;
      if (Number.isNaN(value)) return `${field}=${MISSING}`;
      if (!Number.isFinite(value)) return `${field}#${value > 0 ? 'pinf' : 'ninf'}`;
      return `${field}#${value > 0 ? 'p' : 'n'}${numericBucket(value)}`;
    default:
      return `${field}=${MISSING}`;
  }
}

export function validateHashing(config: { bits: number; seed: number }): void {
  const { bits, seed } = config;
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new RangeError(`hashing bits must be an integer in [${MIN_BITS}, ${MAX_BITS}], got ${bits}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`hashing seed must be an unsigned 32-bit integer, got ${seed}`);
  }
}

export class FeatureEncoder {
  readonly bits: number;
  readonly seed: number;
  readonly mask: number;
  readonly #fields: string[] = [];
  readonly #position = new Map<string, number>();
  /** FNV state after hashing `field=` / `field#`, per field. */
  readonly #catState: number[] = [];
  readonly #numState: number[] = [];
  /** The slot of `field=<missing>`, `field=true`, `field=false`, `field#0`, per field. */
  readonly #missingSlot: number[] = [];
  readonly #trueSlot: number[] = [];
  readonly #falseSlot: number[] = [];
  readonly #zeroSlot: number[] = [];
  readonly #rareSlot: number[] = [];
  /** The crosses: field positions of each side, the name's hash state, and the rare slot. */
  #crosses: Cross[] = [];
  #crossA = new Uint32Array(0);
  #crossB = new Uint32Array(0);
  #crossBasis = new Int32Array(0);
  #crossRare = new Uint32Array(0);

  constructor(options: { bits?: number; seed?: number; fields?: readonly string[] } = {}) {
    this.bits = options.bits ?? DEFAULT_BITS;
    this.seed = options.seed ?? DEFAULT_HASH_SEED;
    validateHashing(this);
    this.mask = (1 << this.bits) - 1;
    for (const field of options.fields ?? []) {
      if (this.#position.has(field)) throw new RangeError(`duplicate field ${JSON.stringify(field)}`);
      this.#add(field);
    }
  }

  get hashing(): HashingConfig {
    return { bits: this.bits, hash: HASH_NAME, seed: this.seed };
  }

  /** The fields this encoder emits a slot for, in slot order. */
  get fields(): readonly string[] {
    return this.#fields;
  }

  /** The slot of a token string (the same slot the encoder gives the field's value). */
  slotOf(token: string): number {
    return (hashToken(token, this.seed) & this.mask) >>> 0;
  }

  #add(field: string): number {
    if (this.#fields.length >= MAX_FIELDS) throw new RangeError(`more than ${MAX_FIELDS} distinct feature fields`);
    const i = this.#fields.length;
    const base = fnvString((FNV_OFFSET ^ this.seed) | 0, field);
    const cat = fnvByte(base, CH_EQ);
    const num = fnvByte(base, CH_HASH);
    this.#fields.push(field);
    this.#position.set(field, i);
    this.#catState.push(cat);
    this.#numState.push(num);
    this.#missingSlot.push((fmix32(fnvString(cat, MISSING)) & this.mask) >>> 0);
    this.#trueSlot.push((fmix32(fnvString(cat, 'true')) & this.mask) >>> 0);
    this.#falseSlot.push((fmix32(fnvString(cat, 'false')) & this.mask) >>> 0);
    this.#zeroSlot.push((fmix32(fnvByte(num, CH_0)) & this.mask) >>> 0);
    this.#rareSlot.push((fmix32(fnvString(num, RARE)) & this.mask) >>> 0);
    return i;
  }

  /**
   * The slot of position i's rare token: for a field (i < fields.length), `field#rare`, where a
   * model sends the values it saw too rarely (or never) at training to have a weight of their
   * own; for a cross (fields.length + c), the cross's own rare token (`a&b#rare`).
   */
  rareSlot(i: number): number {
    const fieldCount = this.#fields.length;
    const slot = i < fieldCount ? this.#rareSlot[i] : this.#crossRare[i - fieldCount];
    if (slot === undefined) {
      throw new RangeError(`position ${i} is out of range (${fieldCount} fields, ${this.#crosses.length} crosses)`);
    }
    return slot;
  }

  /** The crosses, in slot order after the fields. */
  get crosses(): readonly Cross[] {
    return this.#crosses;
  }

  /** Slots a row holds: one per field, then one per cross. */
  get width(): number {
    return this.#fields.length + this.#crosses.length;
  }

  /**
   * Sets the crosses (replacing any): each is a pair of distinct known fields, and each pair
   * appears once (in either order). A cross's slot is crossSlot of its fields' raw slots.
   */
  setCrosses(crosses: readonly Cross[]): void {
    const seen = new Set<string>();
    const a = new Uint32Array(crosses.length);
    const b = new Uint32Array(crosses.length);
    const basis = new Int32Array(crosses.length);
    const rare = new Uint32Array(crosses.length);
    crosses.forEach(([first, second], c) => {
      const i = this.#position.get(first);
      const j = this.#position.get(second);
      if (i === undefined || j === undefined) {
        throw new RangeError(
          `cross ${first}${CROSS_SEPARATOR}${second}: ${i === undefined ? first : second} is not a field`,
        );
      }
      if (i === j)
        throw new RangeError(`cross ${first}${CROSS_SEPARATOR}${second}: a cross needs two different fields`);
      const key = i < j ? `${i},${j}` : `${j},${i}`;
      if (seen.has(key)) throw new RangeError(`cross ${first}${CROSS_SEPARATOR}${second} appears twice`);
      seen.add(key);
      a[c] = i;
      b[c] = j;
      basis[c] = crossBasis(first, second, this.seed);
      rare[c] = (fmix32(fnvString(fnvByte(basis[c]!, CH_HASH), RARE)) & this.mask) >>> 0;
    });
    this.#crosses = crosses.map(([first, second]) => [first, second] as const);
    this.#crossA = a;
    this.#crossB = b;
    this.#crossBasis = basis;
    this.#crossRare = rare;
  }

  /**
   * Writes the crosses' slots into `out[n .. n + crosses)`, from the raw field slots in
   * `out[0 .. n)` (n = fields.length, as encodeInto wrote them), and returns n + crosses.
   */
  crossInto(out: Uint32Array, n: number): number {
    const count = this.#crosses.length;
    if (count === 0) return n;
    const a = this.#crossA;
    const b = this.#crossB;
    const basis = this.#crossBasis;
    const mask = this.mask;
    for (let c = 0; c < count; c++) out[n + c] = crossSlot(basis[c]!, out[a[c]!]!, out[b[c]!]!, mask);
    return n + count;
  }

  /** The field positions of cross c (read by the scorer's explanations and batches). */
  crossFields(c: number): readonly [number, number] {
    return [this.#crossA[c]!, this.#crossB[c]!];
  }

  /** The slot of cross c from the raw slots of its two fields. */
  crossSlotOf(c: number, slotA: number, slotB: number): number {
    return crossSlot(this.#crossBasis[c]!, slotA, slotB, this.mask);
  }

  /** Adds the fields of `features` this encoder has not seen yet (training). Returns the field count. */
  observe(features: FeatureMap): number {
    for (const key in features) {
      if (!this.#position.has(key) && Object.hasOwn(features, key)) {
        // Cross slots follow the field slots: a field added after crosses would shift them.
        if (this.#crosses.length > 0)
          throw new RangeError(`field ${JSON.stringify(key)} appeared after the crosses were set`);
        this.#add(key);
      }
    }
    return this.#fields.length;
  }

  /**
   * Writes the slot of every known field into `out[0 .. fields.length)` and returns the count.
   * `out` must hold at least `fields.length` entries. Fields unknown to the encoder are ignored.
   */
  encodeInto(features: FeatureMap, out: Uint32Array): number {
    const fields = this.#fields;
    const n = fields.length;
    if (out.length < n) throw new RangeError(`output holds ${out.length} slots, the encoder has ${n} fields`);
    for (let i = 0; i < n; i++) out[i] = this.slotFor(i, features[fields[i]!]);
    return n;
  }

  /** The slot of field i (in `fields` order) holding `value`. */
  slotFor(i: number, value: FeatureValue | undefined): number {
    const mask = this.mask;
    switch (typeof value) {
      case 'string':
        return (fmix32(fnvString(this.#catState[i]!, value)) & mask) >>> 0;
      case 'number': {
        if (value === 0) return this.#zeroSlot[i]!;
        if (Number.isNaN(value)) return this.#missingSlot[i]!;
        let h = fnvByte(this.#numState[i]!, value > 0 ? CH_P : CH_N);
        if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) h = fnvString(h, 'inf');
        else h = fnvInteger(h, Math.floor(2 * Math.log2(value > 0 ? value : -value)));
        return (fmix32(h) & mask) >>> 0;
      }
      case 'boolean':
        return value ? this.#trueSlot[i]! : this.#falseSlot[i]!;
      default:
        // null, undefined, and anything that is not a feature value (e.g. an inherited
        // Object.prototype member when the field is named 'constructor') is missing.
        return this.#missingSlot[i]!;
    }
  }

  /** Encodes a feature map into fresh arrays (serving convenience; training uses encodeInto). */
  encode(features: FeatureMap): EncodedFeatures {
    const indices = new Uint32Array(this.#fields.length);
    this.encodeInto(features, indices);
    return { indices, fields: this.#fields };
  }
}
