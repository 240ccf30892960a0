/**
 * A compact, bounded set of recently seen row ids, used by the durable event log to refuse
 * replays cheaply on the hot path.
 *
 * Each id is reduced to a 64-bit hash of (table, id), kept as two uint32 halves in an
 * open-addressing table with linear probing (two Uint32Arrays: 8 bytes a slot, at most half the
 * slots used, so ~16 bytes an id at the cap; no per-id JS object or string is retained).
 *
 * Memory is bounded by two generations: ids are added to the current generation, and lookups
 * check the current and the previous one. The current generation becomes the previous one (and
 * the old previous one is cleared and reused) when it is `windowMs` old or holds `maxIds / 2`
 * ids, whichever comes first (the age is checked on each append). So an id is remembered for at
 * least `windowMs` (default 1 h) as long as fewer than `maxIds / 2` other ids arrive in that time,
 * and for about 2 × `windowMs` at most. At 100 K rows/s the default cap (4 M ids, ~64 MB) bounds the window to the last
 * ~20-40 s of traffic: this set is a best-effort first line of de-duplication, not the exact one.
 *
 * Hashes are seeded per process (at random by default), which defeats crafted collisions; the
 * set is rebuilt from what is on disk at open. Two distinct ids share a 64-bit hash with
 * probability ~n²/2⁶⁵ (≈ 4·10⁻⁷ for 4 M ids): such a row would be reported as a duplicate.
 */

const MAX_LOAD = 0.5;
const MIN_CAPACITY = 1 << 12;

/** An open-addressing hash set of 64-bit keys given as (hi, lo) uint32 halves (0 ≤ half < 2³²), never (0, 0). */
export class HashSet64 {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;
  private readonly maxCapacity: number;

  constructor(initialCapacity: number, maxCapacity: number) {
    this.maxCapacity = nextPow2(Math.max(MIN_CAPACITY, maxCapacity));
    const capacity = Math.min(this.maxCapacity, nextPow2(Math.max(MIN_CAPACITY, initialCapacity)));
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Bytes held by the table's arrays. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  has(hi: number, lo: number): boolean {
    const his = this.hi;
    const los = this.lo;
    const mask = this.mask;
    let i = lo & mask;
    for (;;) {
      const l = los[i]!;
      const h = his[i]!;
      if (l === lo && h === hi) return true;
      if (l === 0 && h === 0) return false;
      i = (i + 1) & mask;
    }
  }

  /** Adds the key; false when it was already there. Keys must not be (0, 0). */
  add(hi: number, lo: number): boolean {
    if ((this.count + 1) / (this.mask + 1) > MAX_LOAD && this.mask + 1 < this.maxCapacity) this.grow();
    if (this.count + 1 > this.mask) throw new Error('HashSet64 is full');
    const his = this.hi;
    const los = this.lo;
    const mask = this.mask;
    let i = lo & mask;
    for (;;) {
      const l = los[i]!;
      const h = his[i]!;
      if (l === lo && h === hi) return false;
      if (l === 0 && h === 0) {
        los[i] = lo;
        his[i] = hi;
        this.count++;
        return true;
      }
      i = (i + 1) & mask;
    }
  }

  /** Removes the key (backward-shift deletion, so no tombstones); false when it was absent. */
  delete(hi: number, lo: number): boolean {
    const his = this.hi;
    const los = this.lo;
    const mask = this.mask;
    let i = lo & mask;
    for (;;) {
      const l = los[i]!;
      const h = his[i]!;
      if (l === 0 && h === 0) return false;
      if (l === lo && h === hi) break;
      i = (i + 1) & mask;
    }
    // Shift later members of the probe run back into the hole when their home allows it.
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const l = los[j]!;
      const h = his[j]!;
      if (l === 0 && h === 0) break;
      const home = l & mask;
      // j's key may move to the hole when its home is not cyclically in (hole, j].
      const distHomeToJ = (j - home) & mask;
      const distHoleToJ = (j - hole) & mask;
      if (distHomeToJ >= distHoleToJ) {
        los[hole] = l;
        his[hole] = h;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    los[hole] = 0;
    his[hole] = 0;
    this.count--;
    return true;
  }

  clear(): void {
    this.hi.fill(0);
    this.lo.fill(0);
    this.count = 0;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    const capacity = (this.mask + 1) * 2;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    for (let k = 0; k < oldLo.length; k++) {
      const l = oldLo[k]!;
      const h = oldHi[k]!;
      if (l !== 0 || h !== 0) this.add(h, l);
    }
  }
}

export interface RecentIdsOptions {
  /** How long an id is remembered at least (while under the cap). Default 1 h. */
  readonly windowMs?: number;
  /** Cap on ids remembered across both generations. Default 4 000 000 (~64 MB at the cap). */
  readonly maxIds?: number;
  /** Hash seed; random by default. */
  readonly seed?: number;
  readonly now?: () => number;
}

export const DEFAULT_DEDUP_WINDOW_MS = 3_600_000;
export const DEFAULT_DEDUP_MAX_IDS = 4_000_000;

/** The two-generation set of recent (table, id) hashes; see the module comment. */
export class RecentIds {
  readonly windowMs: number;
  readonly maxIds: number;
  /** The last hash computed by `hash()`, as two uint32 halves (never both zero). */
  hi = 0;
  lo = 0;
  private current: HashSet64;
  private previous: HashSet64;
  private currentSince: number;
  private readonly generationCap: number;
  private readonly seed: number;
  private readonly now: () => number;

  constructor(options: RecentIdsOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_DEDUP_WINDOW_MS;
    this.maxIds = Math.max(2, options.maxIds ?? DEFAULT_DEDUP_MAX_IDS);
    this.generationCap = Math.floor(this.maxIds / 2);
    this.seed = (options.seed ?? (Math.random() * 0x1_0000_0000) >>> 0) >>> 0;
    this.now = options.now ?? Date.now;
    // Both generations are sized for the cap at once. Grown on demand, the last doubling rehashed
    // a million ids in one go on the event loop (tens of milliseconds every request waited out)
    // within the first minute under load; the memory is the same once the first generation fills.
    const maxCapacity = nextPow2(Math.ceil(this.generationCap / MAX_LOAD));
    this.current = new HashSet64(maxCapacity, maxCapacity);
    this.previous = new HashSet64(maxCapacity, maxCapacity);
    this.currentSince = this.now();
  }

  /** Ids remembered (both generations). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Bytes held by both generations' tables. */
  get bytes(): number {
    return this.current.bytes + this.previous.bytes;
  }

  /**
   * Hashes (table, id) into `this.hi` / `this.lo` (a seeded 64-bit mix in the style of cyrb53,
   * over UTF-16 code units), so the hot path allocates nothing.
   */
  hash(tableIndex: number, id: string): void {
    let h1 = 0xdeadbeef ^ this.seed ^ Math.imul(tableIndex + 1, 0x9e3779b1);
    let h2 = 0x41c6ce57 ^ this.seed;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h2 ^= id.length;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    let hi = h2 >>> 0;
    const lo = h1 >>> 0;
    if (hi === 0 && lo === 0) hi = 1;
    this.hi = hi;
    this.lo = lo;
  }

  has(hi: number, lo: number): boolean {
    return this.current.has(hi, lo) || this.previous.has(hi, lo);
  }

  /** Adds the hash unless it is remembered already; false for a duplicate. */
  add(hi: number, lo: number): boolean {
    if (this.previous.has(hi, lo)) return false;
    if (this.current.size >= this.generationCap) this.rotate();
    return this.current.add(hi, lo);
  }

  /** Forgets the hash (used when the write that carried it failed). */
  delete(hi: number, lo: number): void {
    this.current.delete(hi, lo);
    this.previous.delete(hi, lo);
  }

  /** Rotates the generations when the current one is `windowMs` old; call now and then. */
  tick(): void {
    if (this.now() - this.currentSince >= this.windowMs) this.rotate();
  }

  private rotate(): void {
    const recycled = this.previous;
    recycled.clear();
    this.previous = this.current;
    this.current = recycled;
    this.currentSince = this.now();
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
