import { GenerationalMap } from '../collections/generational-map.js';
import type { ClickRecord } from './flags.js';

export interface RateExcess {
  /** The clicks inside the window (the newest `limit + 1`), all to be flagged. */
  readonly clicks: readonly ClickRecord[];
  /** Estimated clicks per window from their spacing (≥ limit when the rule fires). */
  readonly ratePerWindow: number;
}

/**
 * Sliding click windows per key (a user or an IP): more than `limit` clicks with event times in
 * (t − windowMs, t], t being the newest, is an excess. Each key keeps only its newest
 * `limit + 1` clicks, which is all the rule needs: the excess exists exactly when the oldest of
 * them is still inside the window. Keys idle for a window expire with their generation.
 */
export class RateWindows {
  private readonly windows: GenerationalMap<number, ClickRecord[]>;

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
    maxKeys: number,
  ) {
    this.windows = new GenerationalMap(windowMs, maxKeys);
  }

  get keys(): number {
    return this.windows.size;
  }

  tick(nowMs: number): void {
    this.windows.tick(nowMs);
  }

  /** Counts the click under `key`; returns the excess when the key is now over its limit. */
  add(key: number, click: ClickRecord): RateExcess | null {
    let ring = this.windows.get(key);
    if (ring === undefined) {
      ring = [click];
      this.windows.set(key, ring);
      return null;
    }
    const newest = ring[ring.length - 1]!.atMs;
    // A click older than the window of the newest one belongs to a window already judged.
    if (click.atMs <= newest - this.windowMs) return null;
    let i = ring.length;
    while (i > 0 && ring[i - 1]!.atMs > click.atMs) i--;
    ring.splice(i, 0, click);
    const end = ring[ring.length - 1]!.atMs - this.windowMs;
    let stale = 0;
    while (stale < ring.length && ring[stale]!.atMs <= end) stale++;
    const excess = Math.max(stale, ring.length - (this.limit + 1));
    if (excess > 0) ring.splice(0, excess);
    if (ring.length <= this.limit) return null;
    const span = ring[ring.length - 1]!.atMs - ring[0]!.atMs;
    return { clicks: ring, ratePerWindow: ((ring.length - 1) * this.windowMs) / Math.max(span, 1) };
  }
}
