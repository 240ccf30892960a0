import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoFeatureBackingStore,
  FeatureCounterTable,
  padSequenceNumber,
} from '../../../../lambdas/adapters/aws/dynamodb/feature-table.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import type { CounterKey } from '../../../../lambdas/adapters/aws/redis/counters.js';
import { HOUR_MS, hourOf } from '../../../../lambdas/core/features/counter-windows.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';

const user = (id: string): CounterKey => ({ entity: 'user', id });
const ad = (id: string): CounterKey => ({ entity: 'ad', id });
const seq = (n: number) => padSequenceNumber(`4965678023849817253716392441634981894617389047680000${1000 + n}`);
const SHARD = 'adclick-ad-impressions/shardId-000000000000';
const NOW = Date.UTC(2026, 11, 5, 12, 15);
const H = hourOf(NOW);
const hours = (...entries: [number, number, number][]) =>
  new Map(entries.map(([hour, impressions, clicks]) => [hour, { impressions, clicks }]));

describe('the DynamoDB features table', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    await db.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
  });

  describe('as the Redis store backing', () => {
    it('adds each delta to its hour bucket and drops the buckets no window reads', async () => {
      // Prepare
      let now = NOW - 30 * HOUR_MS;
      const store = new DynamoFeatureBackingStore(db.doc, { tableName: tables.features, now: () => now });
      await store.add([{ ...user('u1'), impressions: 1, clicks: 0, hour: hourOf(now) }]);

      // Act
      now = NOW;
      await store.add([
        { ...user('u1'), impressions: 1, clicks: 0, hour: H },
        { ...user('u1'), impressions: 0, clicks: 1, hour: H },
        { ...user('u1'), impressions: 1, clicks: 0, hour: H - 1 },
        { ...user('u1'), impressions: 1, clicks: 0, hour: null },
      ]);

      // Assess
      expect(await store.getMany([user('u1')])).toEqual([
        { impressions: 4, clicks: 1, hours: hours([H, 1, 1], [H - 1, 1, 0]) },
      ]);
    });

    it('answers undefined for a key never counted and the sums of the adds for the rest', async () => {
      // Prepare
      const store = new DynamoFeatureBackingStore(db.doc, { tableName: tables.features });

      // Act
      await store.add([
        { ...user('u1'), impressions: 1, clicks: 0 },
        { ...ad('a1'), impressions: 1, clicks: 0 },
        { ...user('u1'), impressions: 1, clicks: 1 },
      ]);
      await store.add([{ ...user('u1'), impressions: 0, clicks: 1 }]);

      // Assess: same key twice in one read is answered twice
      expect(await store.getMany([user('u1'), ad('a1'), user('a1'), user('u1'), ad('nobody')])).toEqual([
        { impressions: 2, clicks: 2 },
        { impressions: 1, clicks: 0 },
        undefined,
        { impressions: 2, clicks: 2 },
        undefined,
      ]);
    });

    it('reads more keys than one BatchGetItem takes', async () => {
      // Prepare: 250 keys need three requests of at most 100
      const store = new DynamoFeatureBackingStore(db.doc, { tableName: tables.features, maxConcurrentWrites: 16 });
      const keys = Array.from({ length: 250 }, (_, i) => ad(`ad-${i}`));
      await store.add(keys.map((k, i) => ({ ...k, impressions: i, clicks: 1 })));

      // Act
      const counters = await store.getMany(keys);

      // Assess
      expect(counters.map((c) => c?.impressions)).toEqual(keys.map((_, i) => i));
    });

    it('loses no increment when adds of the same key run concurrently', async () => {
      // Prepare
      const store = new DynamoFeatureBackingStore(db.doc, { tableName: tables.features });

      // Act
      await Promise.all(Array.from({ length: 20 }, () => store.add([{ ...ad('hot'), impressions: 1, clicks: 0 }])));

      // Assess
      expect(await store.getMany([ad('hot')])).toEqual([{ impressions: 20, clicks: 0 }]);
    });
  });

  describe('for the stream consumer', () => {
    it('lets the first record claim an event, tells another record it is a duplicate and the same record it is not', async () => {
      // Prepare
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features });
      const claim = (me: string, credit: { user: string | null; ad: string | null }) =>
        table.claim({ table: 'clicks', id: 'c1', claim: me, credit, atMs: 1_000 });

      // Act
      const first = await claim(`${SHARD}/10`, { user: 'u1', ad: 'a1' });
      const duplicate = await claim(`${SHARD}/20`, { user: 'u1', ad: 'a1' });
      // A retry resolved the click differently (its impression arrived meanwhile): the first credit stands.
      const retry = await claim(`${SHARD}/10`, { user: 'u9', ad: 'a9' });

      // Assess
      expect(first).toEqual({ status: 'claimed', credit: { user: 'u1', ad: 'a1' } });
      expect(duplicate).toEqual({ status: 'duplicate' });
      expect(retry).toEqual({ status: 'claimed', credit: { user: 'u1', ad: 'a1' } });
    });

    it('stores a claim with a TTL and keeps a null credit as null', async () => {
      // Prepare
      const now = Date.UTC(2026, 0, 1);
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features, now: () => now });

      // Act
      const result = await table.claim({
        table: 'clicks',
        id: 'c2',
        claim: `${SHARD}/1`,
        credit: { user: null, ad: null },
        atMs: now,
      });

      // Assess
      expect(result).toEqual({ status: 'claimed', credit: { user: null, ad: null } });
      const { Item } = await db.doc.send(
        new GetCommand({ TableName: tables.features, Key: { pk: 'event#clicks#c2' }, ConsistentRead: true }),
      );
      expect(Item?.expires_at).toBe(now / 1_000 + 7 * 86_400);
    });

    it('finds claimed impressions by id with their user, ad and time', async () => {
      // Prepare
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features });
      await table.claim({
        table: 'ad_impressions',
        id: 'i1',
        claim: `${SHARD}/1`,
        credit: { user: 'u1', ad: 'a1' },
        atMs: 5,
      });

      // Act
      const found = await table.impressions(['i1', 'i2', 'i1']);

      // Assess
      expect([...found]).toEqual([['i1', { user: 'u1', ad: 'a1', atMs: 5 }]]);
    });

    it('adds a batch to a counter once however often it is replayed, and only what a longer replay adds', async () => {
      // Prepare
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features });
      const batch = [
        { seq: seq(1), impressions: 1, clicks: 0 },
        { seq: seq(2), impressions: 1, clicks: 0 },
      ];

      // Act
      const first = await table.addOnce(ad('a1'), SHARD, batch);
      const replay = await table.addOnce(ad('a1'), SHARD, batch);
      const longer = await table.addOnce(ad('a1'), SHARD, [...batch, { seq: seq(3), impressions: 0, clicks: 1 }]);

      // Assess
      expect(first).toEqual({ impressions: 2, clicks: 0 });
      expect(replay).toEqual({ impressions: 2, clicks: 0 });
      expect(longer).toEqual({ impressions: 2, clicks: 1 });
      expect(await table.getMany([ad('a1')])).toEqual([{ impressions: 2, clicks: 1 }]);
    });

    it('adds each delta to its hour bucket in the guarded write, so a replay adds no bucket twice', async () => {
      // Prepare
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features, now: () => NOW });
      const batch = [
        { seq: seq(1), impressions: 1, clicks: 0, hour: H - 1 },
        { seq: seq(2), impressions: 1, clicks: 0, hour: H },
        { seq: seq(3), impressions: 0, clicks: 1, hour: H },
      ];

      // Act
      const first = await table.addOnce(ad('a1'), SHARD, batch.slice(0, 2));
      const replay = await table.addOnce(ad('a1'), SHARD, batch);

      // Assess
      expect(first).toEqual({ impressions: 2, clicks: 0, hours: hours([H - 1, 1, 0], [H, 1, 0]) });
      expect(replay).toEqual({ impressions: 2, clicks: 1, hours: hours([H - 1, 1, 0], [H, 1, 1]) });
      expect(await table.getMany([ad('a1')])).toEqual([replay]);
    });

    it('counts a delta older than the oldest live hour in the all-time totals only', async () => {
      // Prepare
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features, now: () => NOW });

      // Act
      const counter = await table.addOnce(ad('a1'), SHARD, [
        { seq: seq(1), impressions: 1, clicks: 0, hour: H - 25 },
        { seq: seq(2), impressions: 1, clicks: 0, hour: H - 24 },
      ]);

      // Assess
      expect(counter).toEqual({ impressions: 2, clicks: 0, hours: hours([H - 24, 1, 0]) });
    });

    it('removes dead buckets on a later write, including those of an item idle for days', async () => {
      // Prepare: buckets written 30 hours and 5 days before the last write
      let now = NOW - 5 * 24 * HOUR_MS;
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features, now: () => now });
      await table.addOnce(ad('a1'), SHARD, [{ seq: seq(1), impressions: 1, clicks: 1, hour: hourOf(now) }]);
      now = NOW - 30 * HOUR_MS;
      await table.addOnce(ad('a1'), SHARD, [{ seq: seq(2), impressions: 1, clicks: 0, hour: hourOf(now) }]);

      // Act
      now = NOW;
      const counter = await table.addOnce(ad('a1'), SHARD, [{ seq: seq(3), impressions: 1, clicks: 0, hour: H }]);

      // Assess
      const { Item } = await db.doc.send(
        new GetCommand({ TableName: tables.features, Key: { pk: 'ad#a1' }, ConsistentRead: true }),
      );
      expect(Object.keys(Item!).filter((k) => /^[ic]:/.test(k))).toEqual([`i:${H}`]);
      expect(counter).toEqual({ impressions: 3, clicks: 1, hours: hours([H, 1, 0]) });
    });

    it('keeps the sequence numbers of each shard apart', async () => {
      // Prepare: the other shard's numbers are lower, and must not look like replays
      const table = new FeatureCounterTable(db.doc, { tableName: tables.features });
      await table.addOnce(ad('a1'), SHARD, [{ seq: seq(50), impressions: 1, clicks: 0 }]);

      // Act
      const other = await table.addOnce(ad('a1'), 'adclick-ad-impressions/shardId-000000000001', [
        { seq: seq(1), impressions: 1, clicks: 0 },
      ]);

      // Assess
      expect(other).toEqual({ impressions: 2, clicks: 0 });
    });
  });
});
