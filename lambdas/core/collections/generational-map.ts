/**
 * A map whose entries expire by generations: entries are set in the current generation, lookups
 * also see the previous one (and move a hit into the current one), and the current generation
 * becomes the previous one (the old previous one is dropped whole) when it is `periodMs` old or
 * holds `maxPerGeneration` entries. An entry therefore lives at least `periodMs` after its last
 * use unless a flood of new keys starts generations early, and at most `2 × maxPerGeneration`
 * entries are held.
 *
 * Dropping a generation whole keeps eviction O(1) per entry: a Map used as an LRU that evicts from
 * its front with `keys().next()` becomes O(n) in V8 once many front entries were deleted.
 */
export class GenerationalMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private startedAt = Number.NaN;
  private lastTick = Number.NaN;
  private droppedCount = 0;

  constructor(
    private readonly periodMs: number,
    private readonly maxPerGeneration: number,
    /** Called for each entry dropped with its generation. */
    private readonly onDrop?: (value: V, key: K) => void,
  ) {}

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Entries dropped with their generation so far. */
  get dropped(): number {
    return this.droppedCount;
  }

  get(key: K): V | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.previous.get(key);
    if (old !== undefined) {
      this.previous.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.maxPerGeneration && !this.current.has(key)) this.rotate(this.lastTick);
    this.current.set(key, value);
  }

  delete(key: K): void {
    if (!this.current.delete(key)) this.previous.delete(key);
  }

  /** Deletes every entry the predicate selects (a full scan: for rare jobs such as an erasure); returns how many. */
  deleteWhere(predicate: (value: V, key: K) => boolean): number {
    let n = 0;
    for (const generation of [this.current, this.previous]) {
      for (const [k, v] of generation) {
        if (predicate(v, k)) {
          generation.delete(k);
          n++;
        }
      }
    }
    return n;
  }

  /** Starts a new generation when the current one is `periodMs` old at `nowMs`. */
  tick(nowMs: number): void {
    this.lastTick = nowMs;
    if (Number.isNaN(this.startedAt)) this.startedAt = nowMs;
    else if (nowMs - this.startedAt >= this.periodMs) {
      // After a gap of two periods the current generation is stale too.
      if (nowMs - this.startedAt >= 2 * this.periodMs) this.rotate(nowMs);
      this.rotate(nowMs);
    }
  }

  private rotate(nowMs: number): void {
    const dropped = this.previous;
    if (this.onDrop) for (const [k, v] of dropped) this.onDrop(v, k);
    this.droppedCount += dropped.size;
    dropped.clear();
    this.previous = this.current;
    this.current = dropped;
    this.startedAt = nowMs;
  }
}
