import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../../lambdas/adapters/aws/redis/circuit-breaker.js';
import {
  type PredictionCacheKey,
  RedisPredictionCache,
} from '../../../../lambdas/adapters/aws/redis/redis-prediction-cache.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../../support/redis-server.js';
import { connect, waitFor } from './redis-fixture.js';

if (!hasRedisServer)
  console.warn('SKIPPED: Redis prediction cache tests need /usr/bin/redis-server (.ci/run installs it)');

const key: PredictionCacheKey = {
  modelVersion: 'v7',
  userKey: 'u-pseudonym',
  adId: 'ad-1',
  context: { device_type: 'mobile', position: 2, site_id: 's1' },
};

describe.skipIf(!hasRedisServer)('RedisPredictionCache against redis-server', () => {
  let server: RedisServer;
  let client: Redis;
  let prefixes = 0;
  const newCache = (ttlMs?: number) => new RedisPredictionCache(client, { keyPrefix: `pc${++prefixes}:`, ttlMs });

  beforeAll(async () => {
    server = await startRedisServer();
    client = await connect(server);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('misses before a set and hits after it', async () => {
    const cache = newCache();

    const before = await cache.get(key);
    await cache.set(key, { probability: 0.125 });
    const after = await cache.get(key);

    expect(before).toBeUndefined();
    expect(after).toEqual({ probability: 0.125 });
  });

  it('hits whatever the order of the context keys', async () => {
    const cache = newCache();
    await cache.set(key, { probability: 0.5 });

    const hit = await cache.get({ ...key, context: { site_id: 's1', position: 2, device_type: 'mobile' } });

    expect(hit).toEqual({ probability: 0.5 });
  });

  it.each([
    ['another model version', { ...key, modelVersion: 'v8' }],
    ['another user', { ...key, userKey: 'someone-else' }],
    ['no user (consent withheld)', { ...key, userKey: null }],
    ['another ad', { ...key, adId: 'ad-2' }],
    ['another context value', { ...key, context: { ...key.context, position: 3 } }],
    ['one context key more', { ...key, context: { ...key.context, slot: 'top' } }],
  ])('misses for %s', async (_, other) => {
    const cache = newCache();
    await cache.set(key, { probability: 0.5 });

    expect(await cache.get(other)).toBeUndefined();
  });

  it('keeps the model version readable at the start of the key', () => {
    expect(newCache().key(key)).toMatch(/^pc\d+:pc:v7:/);
  });

  it('forgets an entry after its TTL', async () => {
    const cache = newCache(30);
    await cache.set(key, { probability: 0.5 });
    expect(await client.pttl(cache.key(key))).toBeGreaterThan(0);

    await waitFor(async () => (await client.exists(cache.key(key))) === 0, 'the entry to expire');

    expect(await cache.get(key)).toBeUndefined();
  });

  it('answers a batch with one MGET: hits where set, misses elsewhere, in key order', async () => {
    const cache = newCache();
    const other = { ...key, adId: 'ad-2' };
    await cache.setMany([{ key: other, result: { probability: 0.25 } }]);

    const results = await cache.getMany([key, other]);

    expect(results).toEqual([undefined, { probability: 0.25 }]);
  });

  it('stores only the probability, never an explanation', async () => {
    const cache = newCache();

    await cache.set(key, { probability: 0.5, explanation: { base_value: -1, contributions: { a: 0.1 } } });

    expect(await cache.get(key)).toEqual({ probability: 0.5 });
  });

  it('does not cache a fallback score', async () => {
    const cache = newCache();

    await cache.set(key, { probability: 0.5, fallback: true });

    expect(await cache.get(key)).toBeUndefined();
  });

  it('treats an unreadable entry as a miss', async () => {
    const cache = newCache();
    await client.set(cache.key(key), '{"probability":"high"}');

    expect(await cache.get(key)).toBeUndefined();
  });

  it('misses, and set does nothing, when Redis fails, without throwing', async () => {
    const dead = await connect(server);
    dead.disconnect();
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 100 });
    const cache = new RedisPredictionCache(dead, { breaker });

    await expect(cache.set(key, { probability: 0.5 })).resolves.toBeUndefined();
    await expect(cache.get(key)).resolves.toBeUndefined();
  });
});
