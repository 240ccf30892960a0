import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FeatureCounterTable } from '../../../lambdas/adapters/aws/dynamodb/feature-table.js';
import type { DynamoTableNames } from '../../../lambdas/adapters/aws/dynamodb/tables.js';
import type { Counter, CounterKey } from '../../../lambdas/adapters/aws/redis/counters.js';
import { RedisFeatureStore } from '../../../lambdas/adapters/aws/redis/redis-feature-store.js';
import { MemoryFeatureStore } from '../../../lambdas/adapters/local/memory-feature-store.js';
import { counterFeatures, hourOf } from '../../../lambdas/core/features/counter-windows.js';
import type { CounterEvent, Logger } from '../../../lambdas/core/ports.js';
import { ConfigError } from '../../../lambdas/handlers/config.js';
import { parseFeatureCountersConfig } from '../../../lambdas/handlers/consumer-config.js';
import {
  type BatchReport,
  createFeatureCountersHandler,
  handler as deployedHandler,
  RedisCounterCache,
} from '../../../lambdas/handlers/feature-counters.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { type KinesisRecordSpec, kinesisEvent, nextSequenceNumber } from '../../support/kinesis-events.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../support/redis-server.js';
import { connect } from '../aws/redis/redis-fixture.js';

if (!hasRedisServer)
  console.warn('SKIPPED: feature-counter tests on Redis need /usr/bin/redis-server (.ci/run installs it)');

const T = Date.UTC(2026, 11, 5, 12, 0, 0);
/** The consumer's and the readers' clock: a quarter past the hour of T. */
const NOW = T + 15 * 60_000;
const clock = { now: () => new Date(NOW) };

/** Lake rows as the Kinesis event log writes them (lake-json.ts): every column, times in epoch ms. */
const impressionRow = (id: string, user: string, ad: string, atMs = T) => ({
  impression_id: id,
  prediction_id: null,
  user_id: user,
  ad_id: ad,
  timestamp: atMs,
  device_type: 'mobile',
  location: null,
  ip: null,
  features: null,
  received_at: atMs + 40,
});
const clickRow = (id: string, impressionId: string, user: string | null, clicked = true, atMs = T + 5_000) => ({
  click_id: id,
  impression_id: impressionId,
  user_id: user,
  ip: null,
  clicked,
  timestamp: atMs,
  received_at: atMs + 40,
});

/** One shard carrying both tables, so a test states the order of impressions and clicks. */
const STREAM = 'adclick-events';
const spec = (data: object, sequenceNumber = nextSequenceNumber()): KinesisRecordSpec => ({
  data,
  sequenceNumber,
  streamName: STREAM,
});

function capturingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    info: (message, fields) => lines.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message, fields) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  return { logger, lines };
}

/**
 * A DynamoDB client that throttles UpdateItem of chosen items (`failing`, by partition key), and
 * for `lostReplies` applies the write but throws as if the reply were lost. No SDK retries, so a
 * chosen failure reaches the consumer.
 */
function faultyDoc(endpoint: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const faults = { failing: new Set<string>(), lostReplies: new Set<string>() };
  const throttle = () =>
    new ProvisionedThroughputExceededException({
      message: 'The level of configured provisioned throughput for the table was exceeded.',
      $metadata: { httpStatusCode: 400, requestId: 'THROTTLED00000000000000000000000000000000000000000000' },
    });
  client.middlewareStack.add(
    (next) => async (args) => {
      const key = (args.input as { Key?: { pk?: string | { S?: string } } }).Key?.pk;
      const pk = typeof key === 'string' ? key : key?.S;
      const isUpdate = 'UpdateExpression' in (args.input as object);
      if (isUpdate && pk !== undefined && faults.failing.has(pk)) throw throttle();
      const out = await next(args);
      if (isUpdate && pk !== undefined && faults.lostReplies.has(pk)) {
        faults.lostReplies.delete(pk);
        throw throttle();
      }
      return out;
    },
    { step: 'build', name: 'injectFaults' },
  );
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { doc, faults, destroy: () => client.destroy() };
}

describe('the feature-counter stream consumer', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let dynamo: ReturnType<typeof faultyDoc>;
  let table: FeatureCounterTable;
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    db = await startDynalite();
    dynamo = faultyDoc(db.endpoint);
    if (hasRedisServer) {
      server = await startRedisServer();
      redis = await connect(server);
    }
  });

  afterAll(async () => {
    dynamo?.destroy();
    await db?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
    dynamo.faults.failing.clear();
    dynamo.faults.lostReplies.clear();
    table = new FeatureCounterTable(dynamo.doc, { tableName: tables.features, now: () => NOW });
  });

  const consumer = (options: { cache?: RedisCounterCache; attributionWindowMs?: number } = {}) => {
    const { logger, lines } = capturingLogger();
    const reports: BatchReport[] = [];
    const handler = createFeatureCountersHandler({
      compose: () => ({ table, cache: options.cache ?? null }),
      logger,
      onBatch: (r) => reports.push(r),
      ...(options.attributionWindowMs === undefined ? {} : { attributionWindowMs: options.attributionWindowMs }),
    });
    return { handler, lines, reports };
  };

  /** The all-time totals only; the windows have tests of their own. */
  const counters = async (...keys: CounterKey[]) =>
    (await table.getMany(keys)).map((c) => c && { impressions: c.impressions, clicks: c.clicks });
  const windows = async (key: CounterKey) => {
    const [c] = await table.getMany([key]);
    return counterFeatures(key.entity, c, NOW);
  };
  const user = (id: string): CounterKey => ({ entity: 'user', id });
  const ad = (id: string): CounterKey => ({ entity: 'ad', id });

  it('counts impressions and clicks per user and ad, a click for its impression user and ad', async () => {
    // Prepare
    const { handler } = consumer();

    // Act: the click names another user than its impression's; the impression's counts
    const response = await handler(
      kinesisEvent([
        spec(impressionRow('i1', 'u1', 'a1')),
        spec(impressionRow('i2', 'u2', 'a1')),
        spec(clickRow('c1', 'i1', 'u-other')),
      ]),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await counters(user('u1'), user('u2'), ad('a1'), user('u-other'))).toEqual([
      { impressions: 1, clicks: 1 },
      { impressions: 1, clicks: 0 },
      { impressions: 2, clicks: 1 },
      undefined,
    ]);
  });

  it('counts an event sent twice under different sequence numbers once, in one batch or in two', async () => {
    // Prepare
    const { handler, reports } = consumer();
    await handler(kinesisEvent([spec(impressionRow('i1', 'u1', 'a1')), spec(clickRow('c1', 'i1', 'u1'))]));

    // Act: the producer's retry sent both again, and the impression a third time
    await handler(
      kinesisEvent([
        spec(impressionRow('i1', 'u1', 'a1')),
        spec(clickRow('c1', 'i1', 'u1')),
        spec(impressionRow('i1', 'u1', 'a1')),
      ]),
    );

    // Assess
    expect(await counters(user('u1'), ad('a1'))).toEqual([
      { impressions: 1, clicks: 1 },
      { impressions: 1, clicks: 1 },
    ]);
    expect(reports.at(-1)).toMatchObject({ duplicates: 3, counted: 0, failedFrom: null });
  });

  it('reports the lowest sequence number of a failed counter, and the replay from there counts each event once', async () => {
    // Prepare: ad a1's item is throttled; the user counters and ad a2 go through
    const { handler } = consumer();
    const records = [
      spec(impressionRow('i1', 'u1', 'a2')),
      spec(impressionRow('i2', 'u1', 'a1')),
      spec(impressionRow('i3', 'u2', 'a2')),
      spec(impressionRow('i4', 'u2', 'a1')),
      spec(clickRow('c1', 'i3', 'u2')),
    ];
    dynamo.faults.failing.add('ad#a1');

    // Act
    const failed = await handler(kinesisEvent(records));
    dynamo.faults.failing.clear();
    const replayed = await handler(kinesisEvent(records.slice(1)));

    // Assess: i2 is a1's first event; Lambda replays from it (i1 is checkpointed)
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.sequenceNumber }] });
    expect(replayed).toEqual({ batchItemFailures: [] });
    expect(await counters(user('u1'), user('u2'), ad('a1'), ad('a2'))).toEqual([
      { impressions: 2, clicks: 0 },
      { impressions: 2, clicks: 1 },
      { impressions: 2, clicks: 0 },
      { impressions: 2, clicks: 1 },
    ]);
  });

  it('does not count twice a write whose reply was lost', async () => {
    // Prepare: DynamoDB applies the write to u1, the reply never arrives
    const { handler } = consumer();
    const records = [spec(impressionRow('i1', 'u1', 'a1')), spec(impressionRow('i2', 'u1', 'a2'))];
    dynamo.faults.lostReplies.add('user#u1');

    // Act
    const failed = await handler(kinesisEvent(records));
    const replayed = await handler(kinesisEvent(records));

    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.sequenceNumber }]);
    expect(replayed.batchItemFailures).toEqual([]);
    expect(await counters(user('u1'), ad('a1'), ad('a2'))).toEqual([
      { impressions: 2, clicks: 0 },
      { impressions: 1, clicks: 0 },
      { impressions: 1, clicks: 0 },
    ]);
  });

  it('counts a replayed batch once in the windows too, each event in the bucket of its own hour', async () => {
    // Prepare: an impression in the previous hour, one and a click in the current; u1's write
    // is applied but its reply lost, a2's write is throttled
    const { handler } = consumer();
    const records = [
      spec(impressionRow('i1', 'u1', 'a1', T - 30 * 60_000)),
      spec(impressionRow('i2', 'u1', 'a2', T + 60_000)),
      spec(clickRow('c1', 'i2', 'u1', true, T + 120_000)),
    ];
    dynamo.faults.lostReplies.add('user#u1');
    dynamo.faults.failing.add('ad#a2');

    // Act: the failed invoke, then Lambda's replays of the same records
    const failed = await handler(kinesisEvent(records));
    dynamo.faults.failing.clear();
    await handler(kinesisEvent(records));
    await handler(kinesisEvent(records));

    // Assess: a quarter into the hour, the previous hour weighs three quarters
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.sequenceNumber }]);
    expect(await windows(user('u1'))).toMatchObject({
      user_impressions: 2,
      user_clicks: 1,
      user_impressions_1h: 1 + 0.75,
      user_clicks_1h: 1,
      user_impressions_24h: 2,
      user_clicks_24h: 1,
    });
    expect(await windows(ad('a2'))).toMatchObject({ ad_impressions_1h: 1, ad_clicks_1h: 1, ad_impressions_24h: 1 });
    expect(await windows(ad('a1'))).toMatchObject({ ad_impressions_1h: 0.75, ad_impressions_24h: 1 });
  });

  it('counts an event older than the 24 h window in the all-time counters only', async () => {
    // Prepare: a backlog the consumer reaches 26 hours late
    const { handler } = consumer();

    // Act
    await handler(kinesisEvent([spec(impressionRow('i1', 'u1', 'a1', NOW - 26 * 3_600_000))]));

    // Assess
    const [stored] = await table.getMany([ad('a1')]);
    expect(stored).toEqual({ impressions: 1, clicks: 0 });
    expect(await windows(ad('a1'))).toMatchObject({ ad_impressions: 1, ad_impressions_24h: 0 });
  });

  it('holds back the events after a failed claim, so the replay counts them', async () => {
    // Prepare: the marker of i2 cannot be written
    const { handler } = consumer();
    const records = [
      spec(impressionRow('i1', 'u1', 'a1')),
      spec(impressionRow('i2', 'u1', 'a1')),
      spec(impressionRow('i3', 'u1', 'a1')),
    ];
    dynamo.faults.failing.add('event#ad_impressions#i2');

    // Act
    const failed = await handler(kinesisEvent(records));
    const afterFailure = await counters(ad('a1'));
    dynamo.faults.failing.clear();
    await handler(kinesisEvent(records.slice(1)));

    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.sequenceNumber }]);
    expect(afterFailure).toEqual([{ impressions: 1, clicks: 0 }]);
    expect(await counters(ad('a1'))).toEqual([{ impressions: 3, clicks: 0 }]);
  });

  it('decides a click after its impression failed to be claimed only in the replay, crediting the impression', async () => {
    // Prepare
    const { handler } = consumer();
    const records = [spec(impressionRow('i1', 'u1', 'a1')), spec(clickRow('c1', 'i1', null))];
    dynamo.faults.failing.add('event#ad_impressions#i1');

    // Act
    const failed = await handler(kinesisEvent(records));
    dynamo.faults.failing.clear();
    await handler(kinesisEvent(records));

    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.sequenceNumber }]);
    expect(await counters(user('u1'), ad('a1'))).toEqual([
      { impressions: 1, clicks: 1 },
      { impressions: 1, clicks: 1 },
    ]);
  });

  it('skips a poison record without reporting it, logs its sequence number and counts it in the metrics', async () => {
    // Prepare
    const { handler, lines, reports } = consumer();
    const notJson = spec({}, nextSequenceNumber());
    const event: KinesisStreamEvent = kinesisEvent([
      spec(impressionRow('i1', 'u1', 'a1')),
      notJson,
      spec({ ...impressionRow('i2', 'u1', 'a1'), ad_id: 42 }),
      spec(impressionRow('i3', 'u1', 'a1')),
    ]);
    event.Records[1]!.kinesis.data = 'not base64 {json';

    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(reports).toEqual([expect.objectContaining({ records: 4, poison: 2, counted: 2, failedFrom: null })]);
    expect(lines.filter((l) => l.message === 'poison record skipped').map((l) => l.fields?.sequenceNumber)).toEqual([
      event.Records[1]!.kinesis.sequenceNumber,
      event.Records[2]!.kinesis.sequenceNumber,
    ]);
    expect(await counters(ad('a1'))).toEqual([{ impressions: 2, clicks: 0 }]);
  });

  it('credits a click before its impression to the click user only, and keeps that credit on a later replay', async () => {
    // Prepare
    const { handler } = consumer();
    const early = [spec(clickRow('c1', 'i-later', 'u1')), spec(clickRow('c2', 'i-later', null))];

    // Act: the impression arrives after the clicks; then the clicks' batch is replayed
    await handler(kinesisEvent(early));
    await handler(kinesisEvent([spec(impressionRow('i-later', 'u2', 'a1'))]));
    await handler(kinesisEvent(early));

    // Assess
    expect(await counters(user('u1'), user('u2'), ad('a1'))).toEqual([
      { impressions: 0, clicks: 1 },
      { impressions: 1, clicks: 0 },
      { impressions: 1, clicks: 0 },
    ]);
  });

  it('counts nothing for an explicit non-click, and a later click under the same id is a duplicate', async () => {
    // Prepare
    const { handler } = consumer();
    await handler(kinesisEvent([spec(impressionRow('i1', 'u1', 'a1'))]));

    // Act
    await handler(kinesisEvent([spec(clickRow('c1', 'i1', 'u1', false)), spec(clickRow('c1', 'i1', 'u1', true))]));

    // Assess
    expect(await counters(user('u1'), ad('a1'))).toEqual([
      { impressions: 1, clicks: 0 },
      { impressions: 1, clicks: 0 },
    ]);
  });

  it('does not credit a click that comes after the attribution window to its impression', async () => {
    // Prepare
    const { logger } = capturingLogger();
    const handler = createFeatureCountersHandler({
      compose: () => ({ table, cache: null }),
      logger,
      attributionWindowMs: 60_000,
    });
    await handler(kinesisEvent([spec(impressionRow('i1', 'u1', 'a1', T))]));

    // Act
    await handler(kinesisEvent([spec(clickRow('c1', 'i1', 'u1', true, T + 60_001))]));

    // Assess: the user still clicked; the ad is not credited
    expect(await counters(user('u1'), ad('a1'))).toEqual([
      { impressions: 1, clicks: 1 },
      { impressions: 1, clicks: 0 },
    ]);
  });

  describe.skipIf(!hasRedisServer)('with Redis', () => {
    let prefixes = 0;

    it('matches the memory store over random event sequences with duplicates, failures and replays', async () => {
      const users = ['u0', 'u1', 'ü2:x'];
      const ads = ['a0', 'a1'];
      const impressionIds = ['i0', 'i1', 'i2', 'i3'];
      // Event times around the clock's hour and past the 24 h window. A click may come before its
      // impression here; the consumer credits it all the same, as the memory store does.
      const at = fc.constantFrom(T + 20 * 60_000, T + 60_000, T - 10 * 60_000, T - 23 * 3_600_000, T - 26 * 3_600_000);
      const step = fc.oneof(
        fc
          .tuple(fc.constantFrom(...impressionIds), fc.constantFrom(...users), fc.constantFrom(...ads), at)
          .map(([id, u, a, atMs]) => ({ kind: 'impression' as const, id, u, a, atMs })),
        fc
          .tuple(
            fc.constantFrom('c0', 'c1', 'c2', 'c3', 'c4'),
            fc.constantFrom(...impressionIds, 'unknown'),
            fc.option(fc.constantFrom(...users)),
            fc.boolean(),
            at,
          )
          .map(([id, imp, u, clicked, atMs]) => ({ kind: 'click' as const, id, imp, u, clicked, atMs })),
      );
      const run = fc.record({
        steps: fc.array(step, { minLength: 1, maxLength: 14 }),
        batchSize: fc.integer({ min: 1, max: 6 }),
        failing: fc.subarray(['user#u0', 'ad#a1', 'event#ad_impressions#i1', 'event#clicks#c1']),
      });

      let replays = 0;
      await fc.assert(
        fc.asyncProperty(run, async ({ steps, batchSize, failing }) => {
          // Prepare: fresh key prefixes, so runs share the table and the server without sharing counters
          const p = `r${++prefixes}-`;
          const keyPrefix = `t${prefixes}:`;
          const cache = new RedisCounterCache(redis, { keyPrefix, now: () => NOW });
          // Every click within the attribution window of every impression, as the memory store has none.
          const { handler } = consumer({ cache, attributionWindowMs: 48 * 3_600_000 });
          const records = steps.map((s) =>
            s.kind === 'impression'
              ? spec(impressionRow(p + s.id, p + s.u, p + s.a, s.atMs))
              : spec(clickRow(p + s.id, p + s.imp, s.u === null ? null : p + s.u, s.clicked, s.atMs)),
          );

          // The model: the memory store given each id's first event (the API de-duplicates
          // before counting), plus the documented difference: a click whose impression is
          // unknown counts for the click's own user.
          const memory = new MemoryFeatureStore({ clock });
          const seen = new Set<string>();
          const known = new Set<string>();
          const extraUserClicks = new Map<string, number>();
          const firsts: CounterEvent[] = [];
          for (const s of steps) {
            if (seen.has(`${s.kind}:${s.id}`)) continue;
            seen.add(`${s.kind}:${s.id}`);
            if (s.kind === 'impression') {
              known.add(s.id);
              firsts.push({ kind: 'impression', impressionId: s.id, userKey: s.u, adId: s.a, at: new Date(s.atMs) });
            } else if (s.clicked) {
              firsts.push({ kind: 'click', impressionId: s.imp, userKey: s.u, at: new Date(s.atMs) });
              if (!known.has(s.imp) && s.u !== null) extraUserClicks.set(s.u, (extraUserClicks.get(s.u) ?? 0) + 1);
            }
          }
          await memory.record(firsts);

          // Act: Lambda's loop over the shard; the chosen items fail on the first attempt only
          for (const pk of failing) {
            const cut = pk.lastIndexOf('#') + 1;
            dynamo.faults.failing.add(pk.slice(0, cut) + p + pk.slice(cut));
          }
          let position = 0;
          let attempts = 0;
          while (position < records.length) {
            const batch = records.slice(position, position + batchSize);
            const { batchItemFailures } = await handler(kinesisEvent(batch));
            dynamo.faults.failing.clear();
            if (batchItemFailures.length === 0) position += batch.length;
            else {
              replays++;
              position = records.findIndex((r) => r.sequenceNumber === batchItemFailures[0]!.itemIdentifier);
            }
            expect(++attempts).toBeLessThan(records.length * 3);
          }

          // Assess: DynamoDB, and Redis read as the API reads it (hashes only, no fallback)
          const reader = new RedisFeatureStore(redis, table, { keyPrefix, countEvents: false, clock });
          for (const u of users) {
            const expected = (await memory.get(u, [])).user;
            const extra = extraUserClicks.get(u) ?? 0;
            const [stored] = await counters(user(p + u));
            expect(stored ?? { impressions: 0, clicks: 0 }).toEqual({
              impressions: expected.user_impressions,
              clicks: (expected.user_clicks as number) + extra,
            });
            if (stored) {
              expect(await redis.hmget(`${keyPrefix}fu:${p}${u}`, 'i', 'c')).toEqual([
                String(stored.impressions),
                String(stored.clicks),
              ]);
            }
          }
          const expectedAds = (await memory.get(null, ads)).ads;
          expect(
            (
              await reader.get(
                null,
                ads.map((a) => p + a),
              )
            ).ads,
          ).toEqual(expectedAds);
        }),
        { numRuns: 25 },
      );
      // The property is about replays: make sure the runs had some.
      expect(replays).toBeGreaterThan(0);
    });

    it('refreshes the hashes the API reads, so a cached counter moves without a DynamoDB read', async () => {
      // Prepare: the API has cached a1 at zero
      const keyPrefix = `t${++prefixes}:`;
      const { handler } = consumer({ cache: new RedisCounterCache(redis, { keyPrefix, now: () => NOW }) });
      const api = new RedisFeatureStore(redis, table, { keyPrefix, countEvents: false, clock });
      await api.get('u1', ['a1']);
      await waitForKey(redis, `${keyPrefix}fa:a1`);

      // Act
      await handler(kinesisEvent([spec(impressionRow('i1', 'u1', 'a1')), spec(clickRow('c1', 'i1', 'u1'))]));

      // Assess: the totals and the bucket of T's hour; `t` is the hour the hash was trimmed to
      const hour = hourOf(T);
      expect(await redis.hgetall(`${keyPrefix}fa:a1`)).toEqual({
        i: '1',
        c: '1',
        [`i:${hour}`]: '1',
        [`c:${hour}`]: '1',
        t: String(hour - 24),
      });
      expect((await api.get('u1', ['a1'])).ads[0]).toMatchObject({
        ad_impressions: 1,
        ad_clicks: 1,
        ad_impressions_1h: 1,
        ad_clicks_24h: 1,
      });
    });

    it('never lowers a cached counter when older totals arrive late', async () => {
      // Prepare
      const keyPrefix = `t${++prefixes}:`;
      const cache = new RedisCounterCache(redis, { keyPrefix, now: () => NOW });
      const h = hourOf(NOW);
      const counter = (i: number, c: number, hours: [number, number, number][]): Counter => ({
        impressions: i,
        clicks: c,
        hours: new Map(hours.map(([hour, impressions, clicks]) => [hour, { impressions, clicks }])),
      });
      await cache.raise([[ad('a1'), counter(5, 2, [[h, 3, 1]])]]);

      // Act
      await cache.raise([
        [
          ad('a1'),
          counter(4, 3, [
            [h, 2, 2],
            [h - 1, 1, 0],
          ]),
        ],
      ]);

      // Assess: each field raised on its own, all time and per bucket
      expect(await redis.hmget(`${keyPrefix}fa:a1`, 'i', 'c', `i:${h}`, `c:${h}`, `i:${h - 1}`)).toEqual([
        '5',
        '3',
        '3',
        '2',
        '1',
      ]);
      expect(await redis.pttl(`${keyPrefix}fa:a1`)).toBeGreaterThan(0);
    });

    it('counts in DynamoDB and reports no failure when Redis is down', async () => {
      // Prepare
      const keyPrefix = `t${++prefixes}:`;
      const { handler, lines, reports } = consumer({ cache: new RedisCounterCache(redis, { keyPrefix }) });
      await server.stop();

      try {
        // Act
        const response = await handler(kinesisEvent([spec(impressionRow('i1', 'u1', 'a1'))]));

        // Assess
        expect(response).toEqual({ batchItemFailures: [] });
        expect(reports).toEqual([expect.objectContaining({ redisFailed: true, counted: 1 })]);
        expect(lines.some((l) => l.message === 'redis counter refresh failed')).toBe(true);
        expect(await counters(ad('a1'))).toEqual([{ impressions: 1, clicks: 0 }]);
      } finally {
        await server.restart();
        redis.disconnect();
        redis = await connect(server);
      }
    });

    it('leaves counting to the consumer when the API store is built with countEvents false', async () => {
      // Prepare
      const keyPrefix = `t${++prefixes}:`;
      const api = new RedisFeatureStore(redis, table, { keyPrefix, countEvents: false });

      // Act
      await api.record([{ kind: 'impression', impressionId: 'i1', userKey: 'u-api', adId: 'a-api', at: new Date(T) }]);

      // Assess
      expect(await redis.keys(`${keyPrefix}*`)).toEqual([]);
      expect(await counters(user('u-api'), ad('a-api'))).toEqual([undefined, undefined]);
    });
  });
});

async function waitForKey(redis: Redis, key: string): Promise<void> {
  for (let i = 0; i < 200 && (await redis.exists(key)) === 0; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('the feature-counter consumer configuration', () => {
  const env = {
    AWS_REGION: 'eu-west-1',
    ADCLICK_FEATURES_TABLE: 'adclick-features',
    ADCLICK_REDIS_URL: 'rediss://:s3cret@cache.example:6379',
  };

  it('reads the table and Redis URL, with the API store key prefix by default', () => {
    expect(parseFeatureCountersConfig(env)).toEqual({
      region: 'eu-west-1',
      featuresTable: 'adclick-features',
      redisUrl: 'rediss://:s3cret@cache.example:6379',
      redisKeyPrefix: 'adclick:',
    });
    expect(parseFeatureCountersConfig({ ...env, ADCLICK_REDIS_KEY_PREFIX: 'staging:' }).redisKeyPrefix).toBe(
      'staging:',
    );
  });

  it('fails the invoke of the deployed handler while misconfigured, so Lambda keeps the batch', async () => {
    // Prepare: the test process has none of the function's variables
    const event = kinesisEvent([spec(impressionRow('i1', 'u1', 'a1'))]);

    // Act
    const invoke = deployedHandler(event);

    // Assess
    await expect(invoke).rejects.toThrow(/ADCLICK_FEATURES_TABLE is not set/);
  });

  it('names each faulty variable without echoing its value', () => {
    const { ADCLICK_FEATURES_TABLE: _, ...missing } = env;
    let error: unknown;
    try {
      parseFeatureCountersConfig({ ...missing, ADCLICK_REDIS_URL: 'http://:s3cret@cache.example' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'ADCLICK_FEATURES_TABLE is not set',
      'ADCLICK_REDIS_URL must be a redis:// or rediss:// URL',
    ]);
    expect((error as Error).message).not.toContain('s3cret');
  });
});
