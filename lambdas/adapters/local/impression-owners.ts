import { SlotIndex } from '../../core/collections/slot-index.js';
import { IdHasher } from '../../core/fraud/hash.js';

/** Marks a free slot of the ring (user keys and ad ids are never empty). */
const FREE = '';

/**
 * The user and the ad of the last `capacity` impressions, so that a click, which names only its
 * impression, is credited to both: a ring of slots indexed by the 64-bit hash of the impression
 * id (SlotIndex). The oldest impression is forgotten when the ring is full.
 *
 * Memory is fixed at construction (~40 bytes a slot on a 64-bit Node) and remembering an
 * impression allocates nothing: the ring holds references to the user key and the ad id the
 * feature store's counters are keyed by, strings that live as long as those counters anyway.
 * A map of id strings to small objects did the same job at four times the cost in old-generation
 * garbage (every entry lives seconds, long enough to be promoted, then dies).
 */
export class ImpressionOwners {
  readonly capacity: number;
  private readonly hasher = new IdHasher(0x1e7b);
  private readonly index: SlotIndex;
  private readonly lows: Uint32Array;
  private readonly users: string[];
  private readonly ads: string[];
  private next = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.capacity = capacity;
    this.index = new SlotIndex(capacity);
    this.lows = new Uint32Array(capacity);
    this.users = new Array<string>(capacity).fill(FREE);
    this.ads = new Array<string>(capacity).fill(FREE);
  }

  /** Impressions remembered. */
  get size(): number {
    return this.count;
  }

  /** Remembers (or, for an id already held, replaces) the owners of an impression. */
  remember(impressionId: string, user: string, ad: string): void {
    const h = this.hasher;
    h.hash(impressionId);
    const known = this.index.find(h.hi, h.lo);
    if (known >= 0) {
      this.users[known] = user;
      this.ads[known] = ad;
      return;
    }
    const slot = this.next;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.users[slot] !== FREE) this.index.remove(this.lows[slot]!, slot);
    else this.count++;
    this.lows[slot] = h.lo;
    this.users[slot] = user;
    this.ads[slot] = ad;
    this.index.insert(h.hi, h.lo, slot);
  }

  /** The slot of the impression, or -1 when it was never seen or has been forgotten. */
  find(impressionId: string): number {
    const h = this.hasher;
    h.hash(impressionId);
    return this.index.find(h.hi, h.lo);
  }

  user(slot: number): string {
    return this.users[slot]!;
  }

  ad(slot: number): string {
    return this.ads[slot]!;
  }

  /** Forgets every impression of a user (a full scan: erasures are rare); returns how many. */
  forgetUser(user: string): number {
    let n = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.users[slot] !== user) continue;
      this.index.remove(this.lows[slot]!, slot);
      this.users[slot] = FREE;
      this.ads[slot] = FREE;
      this.count--;
      n++;
    }
    return n;
  }
}
