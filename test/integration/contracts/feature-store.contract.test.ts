/**
 * The FeatureStore contract over the local memory store and the two AWS shapes: the Redis store
 * counting into the DynamoDB table itself, and the deployed split, where the Kinesis consumer
 * counts into DynamoDB and Redis and the API's store only reads.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import {
  DynamoFeatureBackingStore,
  FeatureCounterTable,
} from '../../../lambdas/adapters/aws/dynamodb/feature-table.js';
import { RedisFeatureStore } from '../../../lambdas/adapters/aws/redis/redis-feature-store.js';
import { MemoryFeatureStore } from '../../../lambdas/adapters/local/memory-feature-store.js';
import type { CounterEvent, FeatureStore } from '../../../lambdas/core/ports.js';
import { createFeatureCountersHandler, RedisCounterCache } from '../../../lambdas/handlers/feature-counters.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { kinesisEvent } from '../../support/kinesis-events.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../support/redis-server.js';
import { connect } from '../aws/redis/redis-fixture.js';
import { describeFeatureStoreContract } from './feature-store.contract.js';

if (!hasRedisServer) console.warn('SKIPPED: the AWS feature store contracts need /usr/bin/redis-server');

let dynalite: Dynalite;
let server: RedisServer | undefined;
let redis: Redis | undefined;
let prefixes = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
  if (hasRedisServer) {
    server = await startRedisServer();
    redis = await connect(server);
  }
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await dynalite?.stop();
});

describeFeatureStoreContract('memory (local)', async (clock) => new MemoryFeatureStore({ clock }));

if (hasRedisServer) {
  describeFeatureStoreContract('Redis counting into DynamoDB', async (clock) => {
    const tables = await dynalite.freshTables();
    const backing = new DynamoFeatureBackingStore(dynalite.doc, {
      tableName: tables.features,
      now: () => clock.now().getTime(),
    });
    return new RedisFeatureStore(redis!, backing, { keyPrefix: `fc${++prefixes}:`, clock });
  });

  describeFeatureStoreContract('Kinesis consumer into DynamoDB and Redis, read by the API', async (clock) => {
    const tables = await dynalite.freshTables();
    const keyPrefix = `fc${++prefixes}:`;
    const now = () => clock.now().getTime();
    const table = new FeatureCounterTable(dynalite.doc, { tableName: tables.features, now });
    const cache = new RedisCounterCache(redis!, { keyPrefix, now });
    const silent = { info: () => {}, warn: () => {}, error: () => {} };
    const handler = createFeatureCountersHandler({ compose: () => ({ table, cache }), logger: silent });
    const api = new RedisFeatureStore(redis!, table, { keyPrefix, clock, countEvents: false });
    let clicks = 0;
    const viaStreams: FeatureStore = {
      get: (userKey, adIds, asOf) => api.get(userKey, adIds, asOf),
      record: async (events: readonly CounterEvent[]) => {
        const rows = events.map((e) =>
          e.kind === 'impression'
            ? { impression_id: e.impressionId, user_id: e.userKey, ad_id: e.adId, timestamp: e.at.getTime() }
            : {
                click_id: `c${++clicks}`,
                impression_id: e.impressionId,
                user_id: e.userKey,
                clicked: true,
                timestamp: e.at.getTime(),
              },
        );
        const { batchItemFailures } = await handler(
          kinesisEvent(rows.map((data) => ({ data, streamName: 'adclick-events' }))),
        );
        if (batchItemFailures.length > 0) throw new Error('the consumer reported a failure');
      },
    };
    return viaStreams;
  });
}
