import { describe, expect, it } from 'vitest';
import { GenerationalMap } from '../../../lambdas/core/collections/generational-map.js';
import { IdHasher } from '../../../lambdas/core/fraud/hash.js';
import { RecentImpressions } from '../../../lambdas/core/fraud/recent-impressions.js';
import { click, clicksFrom, detector, impression, MINUTE } from './helpers.js';

describe('the recent-impressions index', () => {
  it('finds exactly the last `capacity` impressions through many evictions', () => {
    // Prepare
    const capacity = 64;
    const index = new RecentImpressions(capacity);
    const h = new IdHasher(7);
    const added: [number, number][] = [];
    const mismatches: string[] = [];

    // Act
    for (let n = 0; n < 5_000; n++) {
      h.hash(`imp-${n}`);
      added.push([h.hi, h.lo]);
      const slot = index.add(h.hi, h.lo, n, 0, 0, -1);
      if (index.find(h.hi, h.lo) !== slot || index.at(slot) !== n) mismatches.push(`slot of ${n}`);
      if (n % 97 !== 0) continue;
      for (let k = Math.max(0, n - 2 * capacity); k <= n; k++) {
        const [hi, lo] = added[k]!;
        const found = index.find(hi, lo);
        const expected = k > n - capacity;
        if (expected !== found >= 0 || (expected && index.at(found) !== k)) mismatches.push(`${k} at ${n}`);
      }
    }

    // Assess
    expect(mismatches).toEqual([]);
    expect(index.size).toBe(capacity);
    expect(index.evicted).toBe(5_000 - capacity);
  });

  it('lets a click wait when its impression was forgotten, instead of judging it', () => {
    // Prepare
    const d = detector({ recentImpressions: 16 });
    const crowd = Array.from({ length: 16 }, (_, n) => impression(`later-${n}`, 100));
    d.inspectNow([impression('first', 0), ...crowd]);

    // Act
    const flags = d.inspectNow([click('c-fast', 'first', 200)]);

    // Assess
    expect(flags).toEqual([]);
    expect(d.stats()).toMatchObject({ impressionsRemembered: 16, impressionsForgotten: 1, clicksWaiting: 1 });
  });
});

describe('bounded state', () => {
  it('holds at most twice maxPerGeneration entries and keeps what is used', () => {
    // Prepare
    const map = new GenerationalMap<number, number>(60_000, 100);
    map.tick(0);
    let kept = true;

    // Act
    for (let k = 0; k < 10_000; k++) {
      map.set(k, k);
      if (map.get(0) === undefined || map.size > 200) kept = false;
    }

    // Assess
    expect(kept).toBe(true);
    expect(map.size).toBeLessThanOrEqual(200);
    expect(map.get(0)).toBe(0);
    expect(map.dropped).toBeGreaterThan(9_000);
  });

  it('keeps clicks waiting for an unknown impression within its bounds', () => {
    // Prepare
    const d = detector({ maxPendingImpressions: 50, maxPendingClicksPerImpression: 4 });
    const orphans = Array.from({ length: 1_000 }, (_, n) => click(`c-${n}`, `missing-${n % 500}`, n));
    const flood = Array.from({ length: 100 }, (_, n) => click(`f-${n}`, 'one-missing', 1_000 + n));

    // Act
    d.inspectNow([...orphans, ...flood]);

    // Assess
    const s = d.stats();
    expect(s.clicksWaiting).toBeLessThanOrEqual(2 * 50 * 4);
    expect(s.clicksWaiting + s.clicksUnmatched).toBe(1_100);
  });

  it('tracks at most maxSites sites and frees the places of sites gone quiet', () => {
    // Prepare
    const d = detector({ maxSites: 5, siteBuckets: 2, siteBucketMs: MINUTE });
    const first = Array.from({ length: 10 }, (_, n) => impression(`a-${n}`, 0, { siteId: `site-${n}` }));
    d.inspectNow(first);
    const tracked = d.stats().trackedSites;

    // Act
    d.inspectNow([impression('b-0', 10 * MINUTE, { siteId: 'site-new' })]);

    // Assess
    expect(tracked).toBe(5);
    expect(d.stats().untrackedSiteImpressions).toBe(5);
    expect(d.stats().trackedSites).toBe(1);
  });

  it('keeps memory flat over an hour of a steady stream', () => {
    // Prepare
    const d = detector({ recentImpressions: 1_024, maxTrackedKeys: 500 });
    const sizes: number[] = [];

    // Act
    for (let minute = 0; minute < 60; minute++) {
      d.inspectNow(clicksFrom(`m${minute}`, 600, 100, { startMs: minute * MINUTE }));
      const s = d.stats();
      sizes.push(s.impressionsRemembered + s.trackedUsers + s.trackedIps + s.clicksWaiting);
    }

    // Assess
    expect(d.stats().impressions).toBe(36_000);
    expect(d.stats().clicksWaiting).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1_024 + 2 * 500 + 2 * 500);
  });
});
