import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashSet64, RecentIds } from '../../../lambdas/adapters/local/event-log/recent-ids.js';

describe('HashSet64', () => {
  it('behaves like a set of 64-bit keys under any mix of adds and deletes', () => {
    // Prepare: few distinct low bits, so that keys collide and probe runs wrap around
    const key = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 40 }));
    const op = fc.tuple(fc.constantFrom('add', 'delete'), key);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const set = new HashSet64(16, 1 << 12);
        const model = new Set<string>();

        // Act
        for (const [kind, [hi, lo]] of ops) {
          const k = `${hi}:${lo}`;
          if (kind === 'add') expect(set.add(hi, lo)).toBe(!model.has(k));
          else expect(set.delete(hi, lo)).toBe(model.has(k));
          if (kind === 'add') model.add(k);
          else model.delete(k);
        }

        // Assess
        expect(set.size).toBe(model.size);
        for (let hi = 1; hi <= 6; hi++) {
          for (let lo = 0; lo <= 40; lo++) expect(set.has(hi, lo)).toBe(model.has(`${hi}:${lo}`));
        }
      }),
    );
  });

  it('grows up to its maximum capacity and keeps every key', () => {
    // Prepare
    const set = new HashSet64(16, 1 << 16);

    // Act
    for (let i = 1; i <= 20_000; i++) set.add(i * 7, Math.imul(i, 2654435761) >>> 0);

    // Assess
    expect(set.size).toBe(20_000);
    expect(set.capacity).toBe(1 << 16);
    expect(set.has(7 * 12_345, Math.imul(12_345, 2654435761) >>> 0)).toBe(true);
    expect(set.has(1, 1)).toBe(false);
  });
});

describe('RecentIds', () => {
  function hashOf(ids: RecentIds, table: number, id: string): [number, number] {
    ids.hash(table, id);
    return [ids.hi, ids.lo];
  }

  it('remembers an id for at least one window and forgets it after two', () => {
    // Prepare
    let now = 0;
    const ids = new RecentIds({ windowMs: 1_000, now: () => now, seed: 1 });
    const h = hashOf(ids, 0, 'imp-1');
    ids.add(...h);

    // Act
    now = 999;
    ids.tick();
    const withinWindow = ids.has(...h);
    now = 1_000;
    ids.tick();
    const afterOneWindow = ids.has(...h);
    now = 2_000;
    ids.tick();
    const afterTwoWindows = ids.has(...h);

    // Assess
    expect([withinWindow, afterOneWindow, afterTwoWindows]).toEqual([true, true, false]);
  });

  it('reports an id added twice as a duplicate, per table', () => {
    // Prepare
    const ids = new RecentIds({ seed: 42 });

    // Act
    const first = ids.add(...hashOf(ids, 0, 'x-1'));
    const again = ids.add(...hashOf(ids, 0, 'x-1'));
    const otherTable = ids.add(...hashOf(ids, 1, 'x-1'));

    // Assess
    expect([first, again, otherTable]).toEqual([true, false, true]);
  });

  it('bounds its memory by the id cap at about 16 bytes an id', () => {
    // Prepare
    const ids = new RecentIds({ maxIds: 100_000, seed: 7 });

    // Act
    for (let i = 0; i < 1_000_000; i++) ids.add(...hashOf(ids, 0, `imp-${i}`));

    // Assess
    expect(ids.size).toBeLessThanOrEqual(100_000);
    expect(ids.size).toBeGreaterThanOrEqual(50_000);
    expect(ids.bytes / ids.maxIds).toBeLessThanOrEqual(21);
    expect(ids.has(...hashOf(ids, 0, 'imp-999999'))).toBe(true);
    expect(ids.has(...hashOf(ids, 0, 'imp-0'))).toBe(false);
  });

  it('sizes both generations for the cap from the start, so filling them never rehashes', () => {
    // Prepare / Act
    const ids = new RecentIds({ maxIds: 100_000, seed: 7 });
    const before = ids.bytes;
    for (let i = 0; i < 200_000; i++) ids.add(...hashOf(ids, 0, `imp-${i}`));

    // Assess: 2 generations × 2^17 slots (50 000 ids at most half full) × 8 bytes, before and after.
    expect(before).toBe(2 * 2 ** 17 * 8);
    expect(ids.bytes).toBe(before);
  });

  it('forgets a deleted id', () => {
    // Prepare
    const ids = new RecentIds({ seed: 3 });
    const h = hashOf(ids, 2, 'pred-1');
    ids.add(...h);

    // Act
    ids.delete(...h);

    // Assess
    expect(ids.has(...h)).toBe(false);
    expect(ids.add(...h)).toBe(true);
  });
});
