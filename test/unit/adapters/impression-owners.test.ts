import { describe, expect, it } from 'vitest';
import { ImpressionOwners } from '../../../lambdas/adapters/local/impression-owners.js';

function owners(ring: ImpressionOwners, id: string): [string, string] | null {
  const slot = ring.find(id);
  return slot < 0 ? null : [ring.user(slot), ring.ad(slot)];
}

describe('ImpressionOwners', () => {
  it('knows exactly the last `capacity` impressions through many evictions', () => {
    // Prepare
    const capacity = 50;
    const ring = new ImpressionOwners(capacity);
    const wrong: string[] = [];

    // Act
    for (let n = 0; n < 2_000; n++) {
      ring.remember(`imp-${n}`, `u${n % 7}`, `a${n % 3}`);
      if (n % 89 !== 0) continue;
      for (let k = Math.max(0, n - 2 * capacity); k <= n; k++) {
        const expected = k > n - capacity ? [`u${k % 7}`, `a${k % 3}`] : null;
        if (JSON.stringify(owners(ring, `imp-${k}`)) !== JSON.stringify(expected)) wrong.push(`${k} at ${n}`);
      }
    }

    // Assess
    expect(wrong).toEqual([]);
    expect(ring.size).toBe(capacity);
  });

  it('replaces the owners of an impression remembered twice, without taking a second slot', () => {
    // Prepare
    const ring = new ImpressionOwners(2);
    ring.remember('i1', 'u1', 'a1');
    ring.remember('i2', 'u2', 'a2');

    // Act
    ring.remember('i1', 'u9', 'a9');

    // Assess
    expect(owners(ring, 'i1')).toEqual(['u9', 'a9']);
    expect(owners(ring, 'i2')).toEqual(['u2', 'a2']);
    expect(ring.size).toBe(2);
  });

  it("forgets a user's impressions and reuses their slots as the ring turns", () => {
    // Prepare
    const ring = new ImpressionOwners(4);
    ring.remember('i1', 'erased', 'a1');
    ring.remember('i2', 'kept', 'a1');
    ring.remember('i3', 'erased', 'a2');

    // Act
    const forgotten = ring.forgetUser('erased');
    for (let n = 4; n <= 8; n++) ring.remember(`i${n}`, 'later', 'a3');

    // Assess
    expect(forgotten).toBe(2);
    expect(owners(ring, 'i1')).toBeNull();
    expect(owners(ring, 'i3')).toBeNull();
    expect(owners(ring, 'i8')).toEqual(['later', 'a3']);
    expect(owners(ring, 'i5')).toEqual(['later', 'a3']);
    expect(owners(ring, 'i4')).toBeNull();
    expect(ring.size).toBe(4);
  });
});
