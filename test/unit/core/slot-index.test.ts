import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotIndex } from '../../../lambdas/core/collections/slot-index.js';

/** An operation on the index: insert a key (by number) or remove one held. */
type Op = { insert: true; key: number } | { insert: false; pick: number };

describe('SlotIndex', () => {
  it('answers every lookup as a Map would, through inserts and removals in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(
          fc.oneof(
            fc.record({ insert: fc.constant(true as const), key: fc.integer({ min: 0, max: 200 }) }),
            fc.record({ insert: fc.constant(false as const), pick: fc.nat() }),
          ),
          { maxLength: 300 },
        ),
        (capacity, ops: Op[]) => {
          // Prepare: low words that share few bits, so that probes collide and wrap around
          const index = new SlotIndex(capacity);
          const model = new Map<number, number>();
          const lo = (key: number) => (key * 7) & 0xff;
          const hi = (key: number) => key ^ 0x5a5a;
          let nextSlot = 0;

          // Act
          for (const op of ops) {
            if (op.insert) {
              if (model.has(op.key) || model.size === capacity) continue;
              index.insert(hi(op.key), lo(op.key), nextSlot);
              model.set(op.key, nextSlot++);
            } else if (model.size > 0) {
              const key = [...model.keys()][op.pick % model.size]!;
              index.remove(lo(key), model.get(key)!);
              model.delete(key);
            }
            // Assess: every key, held or not
            for (let key = 0; key <= 200; key++) {
              expect(index.find(hi(key), lo(key))).toBe(model.get(key) ?? -1);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('tells apart keys that share their low word', () => {
    // Prepare
    const index = new SlotIndex(4);
    index.insert(1, 42, 0);
    index.insert(2, 42, 1);

    // Act
    index.remove(42, 0);

    // Assess
    expect(index.find(1, 42)).toBe(-1);
    expect(index.find(2, 42)).toBe(1);
    expect(index.find(3, 42)).toBe(-1);
  });

  it('refuses a capacity below one', () => {
    expect(() => new SlotIndex(0)).toThrow(RangeError);
  });
});
