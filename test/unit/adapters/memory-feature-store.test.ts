import { describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../../lambdas/adapters/local/memory-feature-store.js';

const now = { now: () => new Date('2026-12-05T08:00:00Z') };

describe('the local feature store', () => {
  it('fills the windows of a replay of past traffic as live traffic would fill them', async () => {
    // Prepare: two days ago, by event time, while the wall clock says today
    const store = new MemoryFeatureStore({ clock: now });
    await store.record([
      { kind: 'impression', impressionId: 'i1', userKey: 'u1', adId: 'a1', at: new Date('2026-12-03T09:10:00Z') },
      { kind: 'click', impressionId: 'i1', userKey: null, at: new Date('2026-12-03T09:11:00Z') },
    ]);

    // Act: read as of the replayed moment
    const { user } = await store.get('u1', [], new Date('2026-12-03T09:30:00Z'));

    // Assess
    expect(user).toMatchObject({ user_impressions_1h: 1, user_clicks_1h: 1, user_impressions_24h: 1 });
  });

  it('keeps an event older than a day behind the latest one out of the windows', async () => {
    // Prepare
    const store = new MemoryFeatureStore({ clock: now });
    await store.record([
      { kind: 'impression', impressionId: 'i1', userKey: 'u1', adId: 'a1', at: new Date('2026-12-05T07:00:00Z') },
    ]);

    // Act: a straggler from two days before the traffic already counted
    await store.record([
      { kind: 'impression', impressionId: 'i0', userKey: 'u1', adId: 'a1', at: new Date('2026-12-03T07:00:00Z') },
    ]);
    const { user } = await store.get('u1', [], new Date('2026-12-03T07:30:00Z'));

    // Assess: all time only
    expect(user).toMatchObject({ user_impressions: 2, user_impressions_1h: 0, user_impressions_24h: 0 });
  });
});
