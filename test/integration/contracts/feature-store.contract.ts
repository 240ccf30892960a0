/**
 * What every FeatureStore must answer for the same events at the same clock: the all-time
 * counters and the 1 h and 24 h windows of core/features/counter-windows.ts. Exact equality: a
 * model trained on one store's snapshots must read the same numbers from the other.
 */
import { describe, expect, it } from 'vitest';
import type { Clock, CounterEvent, FeatureStore } from '../../../lambdas/core/ports.js';

/** A clock the test moves; the store reads it at record and at get time. */
export interface ManualClock extends Clock {
  set(iso: string): void;
}

export function manualClock(iso: string): ManualClock {
  let t = Date.parse(iso);
  return {
    now: () => new Date(t),
    set: (next) => {
      t = Date.parse(next);
    },
  };
}

const impression = (impressionId: string, userKey: string, adId: string, at: string): CounterEvent => ({
  kind: 'impression',
  impressionId,
  userKey,
  adId,
  at: new Date(at),
});
const click = (impressionId: string, at: string): CounterEvent => ({
  kind: 'click',
  impressionId,
  userKey: null,
  at: new Date(at),
});

const ctr = (clicks: number, impressions: number) => (clicks + 0.4) / (impressions + 20);

export function describeFeatureStoreContract(name: string, make: (clock: ManualClock) => Promise<FeatureStore>): void {
  describe(`FeatureStore contract: ${name}`, () => {
    it('sums the windows across an hour boundary, the previous hour weighted by what is left of it', async () => {
      // Prepare: two impressions and a click in the 10 o'clock hour, one impression after 11
      const clock = manualClock('2026-12-04T10:20:00Z');
      const store = await make(clock);
      await store.record([impression('i1', 'u1', 'a1', '2026-12-04T10:20:00Z')]);
      clock.set('2026-12-04T10:55:00Z');
      await store.record([impression('i2', 'u1', 'a1', '2026-12-04T10:50:00Z'), click('i1', '2026-12-04T10:55:00Z')]);
      clock.set('2026-12-04T11:10:00Z');
      await store.record([impression('i3', 'u1', 'a1', '2026-12-04T11:10:00Z')]);

      // Act: a quarter into the 11 o'clock hour
      clock.set('2026-12-04T11:15:00Z');
      const { user, ads } = await store.get('u1', ['a1']);

      // Assess
      expect(ads[0]).toEqual({
        ad_impressions: 3,
        ad_clicks: 1,
        ad_ctr: ctr(1, 3),
        ad_impressions_1h: 1 + 2 * 0.75,
        ad_clicks_1h: 0.75,
        ad_impressions_24h: 3,
        ad_clicks_24h: 1,
        ad_ctr_24h: ctr(1, 3),
      });
      expect(user).toMatchObject({ user_impressions_1h: 2.5, user_clicks_1h: 0.75, user_impressions_24h: 3 });
    });

    it('lets an hour fall out of the 24 h window as the clock moves on, and keeps it in the all-time counters', async () => {
      // Prepare
      const clock = manualClock('2026-12-04T10:30:00Z');
      const store = await make(clock);
      await store.record([impression('i1', 'u1', 'a1', '2026-12-04T10:20:00Z'), click('i1', '2026-12-04T10:21:00Z')]);

      // Act: 24 h and a quarter later the hour still weighs three quarters; an hour on, nothing
      clock.set('2026-12-05T10:15:00Z');
      const edge = (await store.get('u1', ['a1'])).ads[0];
      clock.set('2026-12-05T11:00:00Z');
      const { user, ads } = await store.get('u1', ['a1']);

      // Assess
      expect(edge).toMatchObject({ ad_impressions_24h: 0.75, ad_clicks_24h: 0.75, ad_impressions_1h: 0 });
      expect(ads[0]).toEqual({
        ad_impressions: 1,
        ad_clicks: 1,
        ad_ctr: ctr(1, 1),
        ad_impressions_1h: 0,
        ad_clicks_1h: 0,
        ad_impressions_24h: 0,
        ad_clicks_24h: 0,
        ad_ctr_24h: 0.02,
      });
      expect(user).toMatchObject({ user_impressions: 1, user_clicks: 1, user_impressions_24h: 0 });
    });

    it('counts an event older than the 24 h window in the all-time counters only', async () => {
      // Prepare: the store is a day and a half behind (a replay, a backlog)
      const clock = manualClock('2026-12-05T22:00:00Z');
      const store = await make(clock);

      // Act
      await store.record([impression('i1', 'u1', 'a1', '2026-12-04T10:00:00Z')]);
      const { ads } = await store.get(null, ['a1']);

      // Assess
      expect(ads[0]).toMatchObject({ ad_impressions: 1, ad_impressions_1h: 0, ad_impressions_24h: 0 });
    });

    it('reads the windows as of the moment asked for, without what came after it', async () => {
      // Prepare: an impression at 10:20 and one at 11:10, read at 11:15 as of 10:30
      const clock = manualClock('2026-12-04T10:20:00Z');
      const store = await make(clock);
      await store.record([impression('i1', 'u1', 'a1', '2026-12-04T10:20:00Z')]);
      clock.set('2026-12-04T11:10:00Z');
      await store.record([impression('i2', 'u1', 'a1', '2026-12-04T11:10:00Z')]);
      clock.set('2026-12-04T11:15:00Z');

      // Act
      const { ads } = await store.get(null, ['a1'], new Date('2026-12-04T10:30:00Z'));

      // Assess: the windows of 10:30 hold the 10:20 impression only
      expect(ads[0]).toMatchObject({ ad_impressions_1h: 1, ad_impressions_24h: 1 });
    });

    it('counts events a few minutes ahead of its clock in the current hour', async () => {
      // Prepare
      const clock = manualClock('2026-12-04T10:58:00Z');
      const store = await make(clock);

      // Act: stamped in the next hour by a caller whose clock runs ahead
      await store.record([impression('i1', 'u1', 'a1', '2026-12-04T11:02:00Z')]);
      const { ads } = await store.get(null, ['a1']);

      // Assess
      expect(ads[0]).toMatchObject({ ad_impressions_1h: 1, ad_impressions_24h: 1 });
    });
  });
}
