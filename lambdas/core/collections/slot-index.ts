/**
 * An open-addressing index from 64-bit hashes (two 32-bit words) to slot numbers, for the rings
 * of recent impressions that the fraud rules and the local feature store keep: linear probing,
 * at most half full, backward-shift deletion (no tombstones). Memory is fixed at construction
 * (12 bytes a cell, two cells an entry) and nothing is allocated afterwards, so a ring of
 * millions of ids costs the garbage collector nothing to trace.
 *
 * A cell holds (slot + 1, low word, high word) side by side, so a probe compares whole keys
 * without touching the ring's records. Keys are hashes: two ids with the same 64 bits are one
 * key (with n keys held, a lookup of an unknown id matches by chance with probability ~n/2⁶⁴).
 */
const STRIDE = 3;

export class SlotIndex {
  private readonly cells: Uint32Array;
  private readonly mask: number;

  /** An index for at most `capacity` entries. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    let cells = 2;
    while (cells < capacity * 2) cells *= 2;
    this.cells = new Uint32Array(cells * STRIDE);
    this.mask = cells - 1;
    // Commit the memory now rather than by page faults on the ingest path.
    this.cells.fill(0);
  }

  /** The slot stored under the key (hi, lo), or -1. */
  find(hi: number, lo: number): number {
    const cells = this.cells;
    const mask = this.mask;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const c = i * STRIDE;
      const slot = cells[c]!;
      if (slot === 0) return -1;
      if (cells[c + 1] === lo && cells[c + 2] === hi) return slot - 1;
    }
  }

  /** Stores `slot` under the key (hi, lo), which must not be in the index. */
  insert(hi: number, lo: number, slot: number): void {
    const cells = this.cells;
    const mask = this.mask;
    let i = lo & mask;
    while (cells[i * STRIDE] !== 0) i = (i + 1) & mask;
    const c = i * STRIDE;
    cells[c] = slot + 1;
    cells[c + 1] = lo;
    cells[c + 2] = hi;
  }

  /** Removes the entry of `slot`, whose key's low word is `lo`; it must be in the index. */
  remove(lo: number, slot: number): void {
    const cells = this.cells;
    const mask = this.mask;
    let i = lo & mask;
    while (cells[i * STRIDE] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; cells[j * STRIDE] !== 0; j = (j + 1) & mask) {
      const home = cells[j * STRIDE + 1]! & mask;
      // The entry at j may move back to i only if its home is not cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      cells[i * STRIDE] = cells[j * STRIDE]!;
      cells[i * STRIDE + 1] = cells[j * STRIDE + 1]!;
      cells[i * STRIDE + 2] = cells[j * STRIDE + 2]!;
      i = j;
    }
    cells[i * STRIDE] = 0;
    cells[i * STRIDE + 1] = 0;
    cells[i * STRIDE + 2] = 0;
  }
}
