import { describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../../lambdas/adapters/local/memory-feature-store.js';
import { HmacPseudonymiser } from '../../../lambdas/adapters/shared/pseudonymiser.js';

const at = new Date('2026-12-04T10:00:00Z');

describe('HmacPseudonymiser', () => {
  it('gives the same pseudonym for a value before and after its cache entry is evicted', () => {
    // Prepare
    const p = new HmacPseudonymiser(Buffer.alloc(32, 1));
    const first = p.pseudonymise('user', 'alice');

    // Act: enough other users to drop two cache generations
    for (let i = 0; i < 250_000; i++) p.pseudonymise('user', `u${i}`);
    const again = p.pseudonymise('user', 'alice');

    // Assess
    expect(again).toBe(first);
    expect(first).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
  });

  it('keeps users and IPs apart even for the same text', () => {
    // Prepare
    const p = new HmacPseudonymiser(Buffer.alloc(32, 1));

    // Act
    const user = p.pseudonymise('user', '10.0.0.1');
    const ip = p.pseudonymise('ip', '10.0.0.1');

    // Assess
    expect(ip).toMatch(/^ip_/);
    expect(ip.slice(3)).not.toBe(user.slice(2));
  });
});

describe('MemoryFeatureStore', () => {
  it('credits a click to the user and the ad of its impression', async () => {
    // Prepare
    const store = new MemoryFeatureStore();
    await store.record([
      { kind: 'impression', userKey: 'u1', adId: 'a1', impressionId: 'i1', at },
      { kind: 'impression', userKey: 'u1', adId: 'a2', impressionId: 'i2', at },
    ]);

    // Act
    await store.record([{ kind: 'click', impressionId: 'i1', userKey: null, at }]);
    const { user, ads } = await store.get('u1', ['a1', 'a2']);

    // Assess
    expect(user).toMatchObject({ user_impressions: 2, user_clicks: 1 });
    expect(ads[0]).toMatchObject({ ad_impressions: 1, ad_clicks: 1 });
    expect(ads[1]).toMatchObject({ ad_impressions: 1, ad_clicks: 0 });
  });

  it('forgets the least recently used users beyond its bound, not the active ones', async () => {
    // Prepare
    const store = new MemoryFeatureStore({ maxUsers: 100 });
    await store.record([{ kind: 'impression', userKey: 'active', adId: 'a', impressionId: 'i-a', at }]);

    // Act: 300 one-off users, with the active user seen again along the way
    for (let i = 0; i < 300; i++) {
      const events = [{ kind: 'impression' as const, userKey: `once${i}`, adId: 'a', impressionId: `i${i}`, at }];
      if (i % 40 === 0) events.push({ kind: 'impression', userKey: 'active', adId: 'a', impressionId: `ia${i}`, at });
      await store.record(events);
    }

    // Assess
    expect((await store.get('active', [])).user).toMatchObject({ user_impressions: 9 });
    expect((await store.get('once0', [])).user).toMatchObject({ user_impressions: 0 });
    expect((await store.get('once299', [])).user).toMatchObject({ user_impressions: 1 });
  });
});
