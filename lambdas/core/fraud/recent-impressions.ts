/**
 * The most recent impressions, for matching clicks: a ring of `capacity` records in one
 * ArrayBuffer plus a SlotIndex from the 64-bit hash of the impression id to its slot. When the
 * ring is full the oldest impression is forgotten, so memory is fixed at construction (48 bytes
 * a record, 24 in the index: ~72 bytes an impression) and adding one allocates nothing.
 *
 * Layout, because this is the hot path of every impression: a record's fields share a cache
 * line (at, user key, ip key as float64; the id hash's low word, to unindex the slot when it is
 * reused, site, first click, click count, first valid click as 32-bit words); the index holds
 * whole keys, so a probe does not touch the records.
 *
 * A click whose impression has been forgotten cannot be timed or checked for duplicates; see
 * RuleFraudDetector for what happens to it.
 */

import { SlotIndex } from '../collections/slot-index.js';

/** Marks a user or IP key as absent (real keys are ≥ 0). */
export const NO_KEY = -1;

const F64_STRIDE = 6;
const U32_STRIDE = 12;
const AT = 0;
const USER = 1;
const IP = 2;
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
  private readonly index: SlotIndex;
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
    this.index = new SlotIndex(capacity);
    // Touch every page now: the memory is committed at start-up rather than by page faults on
    // the ingest path, and the process's RSS does not creep up as traffic arrives.
    this.f64.fill(0);
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
    return this.index.find(hi, lo);
  }

  /**
   * Remembers an impression that find() does not know (forgetting the oldest when full) and
   * returns its slot.
   */
  add(hi: number, lo: number, atMs: number, user: number, ip: number, site: number): number {
    const slot = this.next;
    if (this.count === this.capacity) {
      this.index.remove(this.u32[slot * U32_STRIDE + KEY_LO]!, slot);
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
    this.u32[u + KEY_LO] = lo;
    this.i32[u + SITE] = site;
    this.u32[u + FIRST_CLICK] = 0;
    this.u32[u + CLICKS] = 0;
    this.u32[u + VALID_CLICK] = 0;
    this.index.insert(hi, lo, slot);
    return slot;
  }
}
