import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryFeatureBackingStore } from '../../../../lambdas/adapters/aws/redis/feature-backing-store.js';
import { RedisFeatureStore } from '../../../../lambdas/adapters/aws/redis/redis-feature-store.js';
import { MemoryFeatureStore } from '../../../../lambdas/adapters/local/memory-feature-store.js';
import { HOUR_MS, hourOf } from '../../../../lambdas/core/features/counter-windows.js';
import type { CounterEvent } from '../../../../lambdas/core/ports.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../../support/redis-server.js';
import { commandsDuring, connect, waitFor } from './redis-fixture.js';

if (!hasRedisServer)
  console.warn('SKIPPED: Redis feature store tests need /usr/bin/redis-server (.ci/run installs it)');

const at = new Date('2025-01-01T00:00:00Z');
const impression = (impressionId: string, userKey: string, adId: string): CounterEvent => ({
  kind: 'impression',
  impressionId,
  userKey,
  adId,
  at,
});
const click = (impressionId: string): CounterEvent => ({ kind: 'click', impressionId, userKey: null, at });

let prefixes = 0;
/** A key prefix per store, so tests (and property runs) share one server without sharing counters. */
const freshPrefix = () => `t${++prefixes}:`;

describe.skipIf(!hasRedisServer)('RedisFeatureStore against redis-server', () => {
  let server: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    client = await connect(server);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  const newStore = (options: { impressionTtlMs?: number; now?: () => number } = {}) => {
    const now = options.now ?? (() => at.getTime());
    const backing = new MemoryFeatureBackingStore({ now });
    const keyPrefix = freshPrefix();
    const clock = { now: () => new Date(now()) };
    return {
      store: new RedisFeatureStore(client, backing, { keyPrefix, clock, impressionTtlMs: options.impressionTtlMs }),
      backing,
      keyPrefix,
    };
  };

  it('gives the same counters, CTR and window features as the memory store for any event sequence', async () => {
    const users = ['u0', 'u1', 'ü2:x'];
    const ads = ['a0', 'a1', 'a2'];
    const impressionIds = ['i0', 'i1', 'i2', 'i3'];
    // Event times relative to the clock: ahead of it, in its hour, the previous, the window's edge, too old.
    const offset = fc.constantFrom(-3, 0, 10, 50, 23 * 60 + 30, 24 * 60 + 20, 30 * 60).map((m) => m * 60_000);
    const step = fc.oneof(
      fc
        .tuple(fc.constantFrom(...impressionIds), fc.constantFrom(...users), fc.constantFrom(...ads), offset)
        .map(([i, u, a, back]) => ({ op: 'event' as const, kind: 'impression' as const, i, u, a, back })),
      fc
        .tuple(fc.constantFrom(...impressionIds, 'unknown'), offset)
        .map(([i, back]) => ({ op: 'event' as const, kind: 'click' as const, i, back })),
      fc.constant({ op: 'flush' as const }),
      // The clock moving on, across hours and past buckets' end of life.
      fc.integer({ min: 1, max: 26 * 60 }).map((minutes) => ({ op: 'tick' as const, ms: minutes * 60_000 })),
      fc
        .tuple(fc.option(fc.constantFrom(...users)), fc.subarray(ads))
        .map(([u, a]) => ({ op: 'get' as const, user: u, ads: a })),
      // Redis dropping counter hashes (eviction, expiry): the durable store must make up for it.
      fc.constant({ op: 'evict' as const }),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), fc.integer({ min: 0, max: 59 }), async (steps, start) => {
        let now = at.getTime() + start * 60_000;
        const { store, keyPrefix } = newStore({ now: () => now });
        const memory = new MemoryFeatureStore({ clock: { now: () => new Date(now) } });
        let batch: CounterEvent[] = [];
        const flush = async () => {
          await Promise.all([store.record(batch), memory.record(batch)]);
          batch = [];
        };
        for (const s of steps) {
          if (s.op === 'event') {
            const when = new Date(now - s.back);
            batch.push(
              s.kind === 'impression'
                ? { kind: 'impression', impressionId: s.i, userKey: s.u, adId: s.a, at: when }
                : { kind: 'click', impressionId: s.i, userKey: null, at: when },
            );
          } else if (s.op === 'flush') await flush();
          else if (s.op === 'tick') {
            // Batches are recorded at the clock they were made at.
            await flush();
            now += s.ms;
          } else if (s.op === 'evict') {
            const keys = await client.keys(`${keyPrefix}f*`);
            if (keys.length > 0) await client.del(...keys);
          } else expect(await store.get(s.user, s.ads)).toEqual(await memory.get(s.user, s.ads));
        }
        await flush();
        expect(await store.get('u0', ads)).toEqual(await memory.get('u0', ads));
        expect(await store.get('ü2:x', [])).toEqual(await memory.get('ü2:x', []));
      }),
      { numRuns: 100 },
    );
  });

  it('credits a click to the user and ad of its impression, even when the click names no user', async () => {
    const { store } = newStore();
    await store.record([impression('imp-1', 'alice', 'ad-1'), impression('imp-2', 'bob', 'ad-2')]);

    await store.record([click('imp-1')]);
    const features = await store.get('alice', ['ad-1', 'ad-2']);

    expect(features.user).toMatchObject({ user_impressions: 1, user_clicks: 1 });
    expect(features.ads[0]).toMatchObject({ ad_impressions: 1, ad_clicks: 1 });
    expect(features.ads[1]).toMatchObject({ ad_impressions: 1, ad_clicks: 0 });
  });

  it('credits a click that arrives in the same batch as its impression', async () => {
    const { store } = newStore();

    await store.record([impression('imp-1', 'alice', 'ad-1'), click('imp-1')]);

    expect((await store.get('alice', ['ad-1'])).ads[0]).toMatchObject({ ad_impressions: 1, ad_clicks: 1 });
  });

  it('does not credit a click once its impression mapping has expired', async () => {
    const { store, keyPrefix } = newStore({ impressionTtlMs: 30 });
    await store.record([impression('imp-1', 'alice', 'ad-1')]);
    await waitFor(async () => (await client.exists(`${keyPrefix}imp:imp-1`)) === 0, 'the mapping to expire');

    await store.record([click('imp-1')]);

    const features = await store.get('alice', ['ad-1']);
    expect(features.user).toMatchObject({ user_impressions: 1, user_clicks: 0 });
    expect(features.ads[0]).toMatchObject({ ad_impressions: 1, ad_clicks: 0 });
  });

  it('keeps the impression mapping for the attribution window plus a margin by default', async () => {
    const { store, keyPrefix } = newStore();

    await store.record([impression('imp-1', 'alice', 'ad-1')]);

    const ttl = await client.pttl(`${keyPrefix}imp:imp-1`);
    expect(ttl).toBeGreaterThan(3_600_000);
    expect(ttl).toBeLessThanOrEqual(3_900_000);
  });

  it('reads the user and all ads in one round trip once they are cached', async () => {
    const { store } = newStore();
    await store.record([impression('i1', 'alice', 'a1'), impression('i2', 'alice', 'a2')]);
    await store.get('alice', ['a1', 'a2', 'a3']);
    const socket = (client as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
    const writes = vi.spyOn(socket, 'write');

    let features: Awaited<ReturnType<typeof store.get>> | undefined;
    const commands = await commandsDuring(server, client, async () => {
      features = await store.get('alice', ['a1', 'a2', 'a3']);
    });
    const writesDuringGet = writes.mock.calls.length - 1; // the last is commandsDuring's marker
    writes.mockRestore();

    expect(writesDuringGet).toBe(1);
    expect(commands.map((c) => c[0]!.toLowerCase())).toEqual(['hgetall', 'hgetall', 'hgetall', 'hgetall']);
    expect(features!.user).toMatchObject({ user_impressions: 2 });
  });

  it('records a whole batch in one round trip', async () => {
    const { store } = newStore();
    const socket = (client as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
    const writes = vi.spyOn(socket, 'write');

    await store.record([impression('i1', 'u1', 'a1'), impression('i2', 'u2', 'a1'), click('i1'), click('i2')]);

    expect(writes.mock.calls.length).toBe(1);
    writes.mockRestore();
  });

  it('fills Redis from the durable store on a miss, and later reads come from Redis', async () => {
    const { store, backing, keyPrefix } = newStore();
    await backing.add([{ entity: 'ad', id: 'a1', impressions: 40, clicks: 3 }]);

    const first = await store.get(null, ['a1']);
    await waitFor(async () => (await client.exists(`${keyPrefix}fa:a1`)) === 1, 'the fill');
    const reads = vi.spyOn(backing, 'getMany');
    const second = await store.get(null, ['a1']);

    expect(first.ads[0]).toMatchObject({ ad_impressions: 40, ad_clicks: 3, ad_ctr: (3 + 0.4) / 60 });
    expect(second).toEqual(first);
    expect(reads).not.toHaveBeenCalled();
    expect(await client.pttl(`${keyPrefix}fa:a1`)).toBeGreaterThan(0);
  });

  it('counts every event in the durable store, so losing Redis loses no counts', async () => {
    const { store, backing, keyPrefix } = newStore();
    await store.record([impression('i1', 'alice', 'a1'), click('i1'), impression('i2', 'alice', 'a2')]);

    const keys = await client.keys(`${keyPrefix}*`);
    await client.del(...keys);

    expect(await backing.getMany([{ entity: 'user', id: 'alice' }])).toEqual([
      { impressions: 2, clicks: 1, hours: new Map([[hourOf(at.getTime()), { impressions: 2, clicks: 1 }]]) },
    ]);
    expect((await store.get('alice', [])).user).toMatchObject({ user_impressions: 2, user_clicks: 1 });
  });

  it('re-reads a counter Redis dropped from the durable store instead of restarting it at zero', async () => {
    const { store, keyPrefix } = newStore();
    await store.record([impression('i1', 'alice', 'a1'), impression('i2', 'alice', 'a1')]);
    await store.get('alice', ['a1']);
    await client.del(`${keyPrefix}fu:alice`, `${keyPrefix}fa:a1`);

    await store.record([impression('i3', 'alice', 'a1'), click('i3')]);
    const features = await store.get('alice', ['a1']);

    expect(features.user).toMatchObject({ user_impressions: 3, user_clicks: 1 });
    expect(features.ads[0]).toMatchObject({ ad_impressions: 3, ad_clicks: 1 });
  });

  it('gives no user features without a user key', async () => {
    const { store } = newStore();

    const features = await store.get(null, ['a1']);

    expect(features.user).toEqual({});
    expect(features.ads[0]).toEqual({
      ad_impressions: 0,
      ad_clicks: 0,
      ad_ctr: 0.02,
      ad_impressions_1h: 0,
      ad_clicks_1h: 0,
      ad_impressions_24h: 0,
      ad_clicks_24h: 0,
      ad_ctr_24h: 0.02,
    });
  });

  it('counts into the buckets of a cached hash and drops those no window reads any more', async () => {
    // Prepare: a cached user with a bucket from 30 hours ago
    let now = at.getTime();
    const { store, keyPrefix } = newStore({ now: () => now });
    await store.record([impression('i1', 'alice', 'a1')]);
    await store.get('alice', []);
    await waitFor(async () => (await client.exists(`${keyPrefix}fu:alice`)) === 1, 'the fill');

    // Act
    now += 30 * HOUR_MS;
    await store.record([{ kind: 'impression', impressionId: 'i2', userKey: 'alice', adId: 'a1', at: new Date(now) }]);
    await store.record([click('i2')]);

    // Assess: the click is stamped with the old `at` of the click helper: all time only
    const hour = hourOf(now);
    expect(await client.hgetall(`${keyPrefix}fu:alice`)).toEqual({
      i: '2',
      c: '1',
      [`i:${hour}`]: '1',
      t: String(hour - 24),
    });
    expect((await store.get('alice', [])).user).toMatchObject({
      user_impressions: 2,
      user_clicks: 1,
      user_impressions_1h: 1,
      user_clicks_1h: 0,
    });
  });
});
