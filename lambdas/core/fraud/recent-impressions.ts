/**
 * The most recent impressions, for matching clicks: a ring of `capacity` records in one
 * ArrayBuffer plus an open-addressing index (linear probing, at most half full) from the 64-bit
 * hash of the impression id to its slot. When the ring is full the oldest impression is
 * forgotten, so memory is fixed at construction (48 bytes a record, 16 an index pair: ~64 bytes
 * an impression) and adding one allocates nothing.
 *
 * Layout, because this is the hot path of every impression: a record's fields share a cache
 * line (at, user key, ip key as float64; id hash, site, first click, click count, first valid
 * click as 32-bit words), and each index cell holds the slot next to the low hash word, so a probe that misses
 * does not touch the record.
 *
 * A click whose impression has been forgotten cannot be timed or checked for duplicates; see
 * RuleFraudDetector for what happens to it.
 */

/** Marks a user or IP key as absent (real keys are ≥ 0). */
export const NO_KEY = -1;

const F64_STRIDE = 6;
const U32_STRIDE = 12;
const AT = 0;
const USER = 1;
const IP = 2;
const KEY_HI = 6;
const KEY_LO = 7;
const SITE = 8;
const FIRST_CLICK = 9;
const CLICKS = 10;
const VALID_CLICK = 11;

export class RecentImpressions {
  readonly capacity: number;
  private readonly f64: Float64Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  /** Pairs (slot + 1, low hash word); slot + 1 = 0 marks an empty cell. */
  private readonly table: Uint32Array;
  private readonly mask: number;
  private next = 0;
  private count = 0;
  private evictedCount = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.capacity = capacity;
    const records = new ArrayBuffer(capacity * F64_STRIDE * 8);
    this.f64 = new Float64Array(records);
    this.u32 = new Uint32Array(records);
    this.i32 = new Int32Array(records);
    let cells = 2;
    while (cells < capacity * 2) cells *= 2;
    this.table = new Uint32Array(cells * 2);
    this.mask = cells - 1;
    // Touch every page now: the memory is committed at start-up rather than by page faults on
    // the ingest path, and the process's RSS does not creep up as traffic arrives.
    this.f64.fill(0);
    this.table.fill(0);
  }

  get size(): number {
    return this.count;
  }

  /** Impressions forgotten to make room for newer ones. */
  get evicted(): number {
    return this.evictedCount;
  }

  /** Event time of the impression (epoch ms). */
  at(slot: number): number {
    return this.f64[slot * F64_STRIDE + AT]!;
  }

  /** 52-bit keys of the impression's user and IP (NO_KEY when it had none). */
  user(slot: number): number {
    return this.f64[slot * F64_STRIDE + USER]!;
  }

  ip(slot: number): number {
    return this.f64[slot * F64_STRIDE + IP]!;
  }

  /** Index of the impression's site in the site statistics, or -1. */
  site(slot: number): number {
    return this.i32[slot * U32_STRIDE + SITE]!;
  }

  /** Hash of the first click's id (0: not clicked yet). */
  firstClick(slot: number): number {
    return this.u32[slot * U32_STRIDE + FIRST_CLICK]!;
  }

  /** Hash of the first click that was not flagged when it was matched (0: none yet). */
  validClick(slot: number): number {
    return this.u32[slot * U32_STRIDE + VALID_CLICK]!;
  }

  /** Clicks seen on the impression, counting the first. */
  clicks(slot: number): number {
    return this.u32[slot * U32_STRIDE + CLICKS]!;
  }

  /** Records a click (`valid`: not flagged); returns how many the impression has had, this one included. */
  recordClick(slot: number, idHash: number, valid: boolean): number {
    const base = slot * U32_STRIDE;
    if (this.u32[base + FIRST_CLICK] === 0) this.u32[base + FIRST_CLICK] = idHash;
    if (valid && this.u32[base + VALID_CLICK] === 0) this.u32[base + VALID_CLICK] = idHash;
    const n = this.u32[base + CLICKS]! + 1;
    this.u32[base + CLICKS] = n;
    return n;
  }

  /** The slot of the impression with this id hash, or -1. */
  find(hi: number, lo: number): number {
    const table = this.table;
    const mask = this.mask;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const cell = table[2 * i]!;
      if (cell === 0) return -1;
      if (table[2 * i + 1] === lo && this.u32[(cell - 1) * U32_STRIDE + KEY_HI] === hi) return cell - 1;
    }
  }

  /**
   * Remembers an impression that find() does not know (forgetting the oldest when full) and
   * returns its slot.
   */
  add(hi: number, lo: number, atMs: number, user: number, ip: number, site: number): number {
    const slot = this.next;
    if (this.count === this.capacity) {
      this.unindex(slot);
      this.evictedCount++;
    } else {
      this.count++;
    }
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    const f = slot * F64_STRIDE;
    this.f64[f + AT] = atMs;
    this.f64[f + USER] = user;
    this.f64[f + IP] = ip;
    const u = slot * U32_STRIDE;
    this.u32[u + KEY_HI] = hi;
    this.u32[u + KEY_LO] = lo;
    this.i32[u + SITE] = site;
    this.u32[u + FIRST_CLICK] = 0;
    this.u32[u + CLICKS] = 0;
    this.u32[u + VALID_CLICK] = 0;
    const table = this.table;
    const mask = this.mask;
    let i = lo & mask;
    while (table[2 * i] !== 0) i = (i + 1) & mask;
    table[2 * i] = slot + 1;
    table[2 * i + 1] = lo;
    return slot;
  }

  /** Removes a slot from the index by backward-shift deletion, which leaves no tombstones. */
  private unindex(slot: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = this.u32[slot * U32_STRIDE + KEY_LO]! & mask;
    while (table[2 * i] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; table[2 * j] !== 0; j = (j + 1) & mask) {
      const home = table[2 * j + 1]! & mask;
      // The entry at j may move back to i only if its home is not cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      table[2 * i] = table[2 * j]!;
      table[2 * i + 1] = table[2 * j + 1]!;
      i = j;
    }
    table[2 * i] = 0;
    table[2 * i + 1] = 0;
  }
}
