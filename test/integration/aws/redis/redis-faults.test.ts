import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../../../lambdas/adapters/aws/redis/circuit-breaker.js';
import {
  type FeatureBackingStore,
  MemoryFeatureBackingStore,
} from '../../../../lambdas/adapters/aws/redis/feature-backing-store.js';
import { RedisFeatureStore } from '../../../../lambdas/adapters/aws/redis/redis-feature-store.js';
import type { CounterEvent } from '../../../../lambdas/core/ports.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../../support/redis-server.js';
import { connect, waitFor } from './redis-fixture.js';

if (!hasRedisServer) console.warn('SKIPPED: Redis fault tests need /usr/bin/redis-server (.ci/run installs it)');

const at = new Date('2025-01-01T00:00:00Z');
const impression = (impressionId: string, userKey: string, adId: string): CounterEvent => ({
  kind: 'impression',
  impressionId,
  userKey,
  adId,
  at,
});
const click = (impressionId: string): CounterEvent => ({ kind: 'click', impressionId, userKey: null, at });

/** A durable store that can be made to fail, as DynamoDB can. */
class SwitchableBackingStore implements FeatureBackingStore {
  failing = false;
  constructor(private readonly inner: FeatureBackingStore) {}
  getMany(keys: Parameters<FeatureBackingStore['getMany']>[0]) {
    return this.failing ? Promise.reject(new Error('durable store down')) : this.inner.getMany(keys);
  }
  add(deltas: Parameters<FeatureBackingStore['add']>[0]) {
    return this.failing ? Promise.reject(new Error('durable store down')) : this.inner.add(deltas);
  }
}

describe.skipIf(!hasRedisServer)('RedisFeatureStore when Redis dies and comes back', () => {
  let server: RedisServer;
  let client: Redis;
  let now = 0;
  let breaker: CircuitBreaker;
  let backing: SwitchableBackingStore;
  let store: RedisFeatureStore;

  // One scenario in order: each step starts from the state the previous one left.
  beforeAll(async () => {
    server = await startRedisServer();
    client = await connect(server);
    breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 3, coolDownMs: 1_000, now: () => now });
    backing = new SwitchableBackingStore(new MemoryFeatureBackingStore());
    store = new RedisFeatureStore(client, backing, { breaker });
    await store.record([impression('i1', 'alice', 'a1'), impression('i2', 'alice', 'a2'), click('i1')]);
    await store.get('alice', ['a1', 'a2']);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('serves features from the durable store while Redis is down, and opens the circuit', async () => {
    await server.stop();
    await waitFor(() => client.status !== 'ready', 'the client to see the connection drop');

    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await store.get('alice', ['a1', 'a2']));

    for (const a of answers) {
      expect(a.user).toMatchObject({ user_impressions: 2, user_clicks: 1 });
      expect(a.ads[0]).toMatchObject({ ad_impressions: 1, ad_clicks: 1 });
    }
    expect(breaker.state).toBe('open');
  });

  it('costs no Redis call per request while the circuit is open', async () => {
    const sent = vi.spyOn(client, 'sendCommand');

    const features = await store.get('alice', ['a2']);
    const recorded = await store.record([impression('i3', 'alice', 'a2'), click('i2')]).catch((e: unknown) => e);

    expect(sent).not.toHaveBeenCalled();
    sent.mockRestore();
    expect(features.ads[0]).toMatchObject({ ad_impressions: 1, ad_clicks: 0 });
    // The impression still counts durably; the click cannot be credited without the mapping.
    expect(String(recorded)).toMatch(/1 click\(s\) not credited/);
    expect((await store.get('alice', [])).user).toMatchObject({ user_impressions: 3, user_clicks: 1 });
  });

  it('answers with no counter features when the durable store fails too, without throwing', async () => {
    backing.failing = true;
    try {
      const features = await store.get('alice', ['a1', 'a2']);

      expect(features).toEqual({ user: {}, ads: [{}, {}] });
    } finally {
      backing.failing = false;
    }
  });

  it('closes the circuit after the cool-down once Redis is back, and fills it again', async () => {
    await server.restart();
    await waitFor(() => client.status === 'ready', 'the client to reconnect');
    expect(breaker.state).toBe('open');

    now += 1_000;
    const features = await store.get('alice', ['a2']);

    expect(breaker.state).toBe('closed');
    expect(features.user).toMatchObject({ user_impressions: 3, user_clicks: 1 });
    await waitFor(async () => (await client.exists('adclick:fu:alice')) === 1, 'Redis to be filled again');
    await store.record([impression('i4', 'alice', 'a2'), click('i4')]);
    expect((await store.get('alice', ['a2'])).ads[0]).toMatchObject({ ad_impressions: 3, ad_clicks: 1 });
  });
});
