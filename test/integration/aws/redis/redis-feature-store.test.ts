import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryFeatureBackingStore } from '../../../../lambdas/adapters/aws/redis/feature-backing-store.js';
import { RedisFeatureStore } from '../../../../lambdas/adapters/aws/redis/redis-feature-store.js';
import { MemoryFeatureStore } from '../../../../lambdas/adapters/local/memory-feature-store.js';
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

  const newStore = (options: { impressionTtlMs?: number } = {}) => {
    const backing = new MemoryFeatureBackingStore();
    const keyPrefix = freshPrefix();
    return { store: new RedisFeatureStore(client, backing, { keyPrefix, ...options }), backing, keyPrefix };
  };

  it('gives the same counters and CTR features as the memory store for any event sequence', async () => {
    const users = ['u0', 'u1', 'ü2:x'];
    const ads = ['a0', 'a1', 'a2'];
    const impressionIds = ['i0', 'i1', 'i2', 'i3'];
    const step = fc.oneof(
      fc
        .tuple(fc.constantFrom(...impressionIds), fc.constantFrom(...users), fc.constantFrom(...ads))
        .map(([i, u, a]) => ({ op: 'event' as const, event: impression(i, u, a) })),
      fc.constantFrom(...impressionIds, 'unknown').map((i) => ({ op: 'event' as const, event: click(i) })),
      fc.constant({ op: 'flush' as const }),
      fc
        .tuple(fc.option(fc.constantFrom(...users)), fc.subarray(ads))
        .map(([u, a]) => ({ op: 'get' as const, user: u, ads: a })),
      // Redis dropping counter hashes (eviction, expiry): the durable store must make up for it.
      fc.constant({ op: 'evict' as const }),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const { store, keyPrefix } = newStore();
        const memory = new MemoryFeatureStore();
        let batch: CounterEvent[] = [];
        const flush = async () => {
          await Promise.all([store.record(batch), memory.record(batch)]);
          batch = [];
        };
        for (const s of steps) {
          if (s.op === 'event') batch.push(s.event);
          else if (s.op === 'flush') await flush();
          else if (s.op === 'evict') {
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
    expect(commands.map((c) => c[0]!.toLowerCase())).toEqual(['hmget', 'hmget', 'hmget', 'hmget']);
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

    expect(await backing.getMany([{ entity: 'user', id: 'alice' }])).toEqual([{ impressions: 2, clicks: 1 }]);
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
    expect(features.ads[0]).toEqual({ ad_impressions: 0, ad_clicks: 0, ad_ctr: 0.02 });
  });
});
