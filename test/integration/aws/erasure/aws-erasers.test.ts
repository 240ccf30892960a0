import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetJobRunCommand, GlueClient, StartJobRunCommand } from '@aws-sdk/client-glue';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoPredictionLog } from '../../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import {
  AwsFeatureStoreEraser,
  DynamoPredictionLogEraser,
} from '../../../../lambdas/adapters/aws/erasure/aws-erasers.js';
import { GlueLakeEraser, USER_PARTITIONS_QUERY } from '../../../../lambdas/adapters/aws/erasure/glue-lake-eraser.js';
import { counterRedisKey } from '../../../../lambdas/adapters/aws/redis/redis-feature-store.js';
import { LakeDatabase } from '../../../../lambdas/adapters/local/duckdb/lake-database.js';
import type { ErasureTarget } from '../../../../lambdas/core/ports.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { hasRedisServer, type RedisServer, startRedisServer } from '../../../support/redis-server.js';
import { predictionRecord } from '../../contracts/prediction-log.contract.js';
import { at, click, impression, prediction, writeTable } from '../../training-set/lake-fixture.js';
import { connect } from '../redis/redis-fixture.js';

const ERASED = 'u_erased000000000000001';
const KEPT = 'u_kept00000000000000001';
const target: ErasureTarget = { erasureId: 'er_1', userKey: ERASED, requestedAt: new Date('2026-12-04T12:00:00Z') };

describe('the AWS erasers on DynamoDB (dynalite)', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let server: RedisServer | undefined;
  let redis: Redis;

  beforeAll(async () => {
    db = await startDynalite();
    if (hasRedisServer) {
      server = await startRedisServer();
      redis = await connect(server);
    }
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
    await db?.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
  });

  it("deletes every prediction of the user through the by_user index, and nobody else's", async () => {
    // Prepare: 30 predictions of the user (more than one batch), 2 of another, 1 without consent
    const log = new DynamoPredictionLog(db.doc, tables.predictions);
    const records = [
      ...Array.from({ length: 30 }, (_, i) =>
        predictionRecord(`p-e-${i}`, { user_id: ERASED, timestamp: new Date(Date.UTC(2026, 11, 4, 10, i)) }),
      ),
      predictionRecord('p-k-1', { user_id: KEPT }),
      predictionRecord('p-k-2', { user_id: KEPT }),
      predictionRecord('p-anon', { user_id: null, consent: false }),
    ];
    await log.putAll(records);
    const eraser = new DynamoPredictionLogEraser(db.doc, tables.predictions);

    // Act
    const result = await eraser.erase(target);
    const again = await eraser.erase(target);
    const left = await log.getMany(records.map((r) => r.prediction_id));

    // Assess
    expect(result.removed).toEqual({ predictions: 30 });
    expect(result.span).toEqual({ from: new Date('2026-12-04T10:00:00Z'), to: new Date('2026-12-04T10:29:00Z') });
    expect(again.removed).toEqual({ predictions: 0 });
    expect(left.filter((r) => r !== undefined).map((r) => r!.prediction_id)).toEqual(['p-k-1', 'p-k-2', 'p-anon']);
  });

  it.skipIf(!hasRedisServer)(
    "deletes the user's counters in a real redis-server and in the features table, and nobody else's",
    async () => {
      // Prepare
      for (const user of [ERASED, KEPT]) {
        await redis.hset(counterRedisKey({ entity: 'user', id: user }), 'i', 3, 'c', 1);
        await db.doc.send(
          new PutCommand({ TableName: tables.features, Item: { pk: `user#${user}`, impressions: 3, clicks: 1 } }),
        );
      }
      const eraser = new AwsFeatureStoreEraser(redis, db.doc, { featuresTable: tables.features });

      // Act
      const result = await eraser.erase(target);
      const again = await eraser.erase(target);

      // Assess
      expect(result.removed).toEqual({ dynamodb_items: 1, redis_keys: 1 });
      expect(again.removed).toEqual({ dynamodb_items: 0, redis_keys: 0 });
      expect(await redis.exists(counterRedisKey({ entity: 'user', id: ERASED }))).toBe(0);
      expect(await redis.exists(counterRedisKey({ entity: 'user', id: KEPT }))).toBe(1);
      const kept = await db.doc.send(new GetCommand({ TableName: tables.features, Key: { pk: `user#${KEPT}` } }));
      expect(kept.Item).toBeDefined();
    },
  );
});

describe('the AWS lake eraser (Glue mocked; its partition query on DuckDB)', () => {
  const glue = mockClient(GlueClient);
  const client = new GlueClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's' },
  });
  let lakeDir: string;
  let lake: LakeDatabase;

  beforeAll(async () => {
    lakeDir = await mkdtemp(join(tmpdir(), 'adclick-erasure-lake-'));
    const user = (u: string) => ({ user_id: u });
    await writeTable(lakeDir, 'ad_impressions', [
      { ...impression('i1', 'p1', at('2026-12-01T10:05:00Z')), ...user(ERASED) },
      { ...impression('i2', 'p2', at('2026-12-01T10:06:00Z')), ...user(ERASED) },
      { ...impression('i3', 'p3', at('2026-12-01T10:07:00Z')), ...user(KEPT) },
    ]);
    await writeTable(lakeDir, 'ad_impressions', [
      { ...impression('i4', 'p4', at('2026-12-02T23:00:00Z')), ...user(ERASED) },
    ]);
    await writeTable(lakeDir, 'clicks', [{ ...click('c1', 'i1', at('2026-12-01T10:08:00Z')), ...user(ERASED) }]);
    await writeTable(lakeDir, 'model_predictions', [
      { ...prediction('p3', at('2026-12-01T10:07:00Z')), ...user(KEPT) },
    ]);
    lake = await LakeDatabase.open({ lakeDir });
  });

  afterAll(async () => {
    lake?.close();
    await rm(lakeDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    glue.reset();
  });

  it("starts the rewrite job once per table with the user's partitions only, and says it is submitted", async () => {
    // Prepare: Athena's part is the shared SQL, run here on DuckDB over a small lake
    glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_1' });
    const athena = { run: (name: string, params: readonly unknown[]) => lake.queryFile(name, params as string[]) };
    const eraser = new GlueLakeEraser(athena, client, {
      jobName: 'adclick-dev-rewrite-partition',
      bucket: 'lake-b',
      lakePrefix: 'lake',
      deliveryDelayMs: 960_000,
    });

    // Act
    const result = await eraser.erase(target);

    // Assess
    const inputs = glue.commandCalls(StartJobRunCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      {
        JobName: 'adclick-dev-rewrite-partition',
        Arguments: {
          '--bucket': 'lake-b',
          '--lake_prefix': 'lake',
          '--table': 'ad_impressions',
          '--partitions': '2026-12-01/10,2026-12-02/23',
          '--users': ERASED,
          '--erasure_id': 'er_1',
        },
      },
      expect.objectContaining({
        Arguments: expect.objectContaining({ '--table': 'clicks', '--partitions': '2026-12-01/10' }),
      }),
    ]);
    expect(result.status).toBe('submitted');
    expect(result.removed).toEqual({ ad_impressions: 3, clicks: 1 });
    expect(result.jobs).toEqual(['ad_impressions:jr_1', 'clicks:jr_1']);
    expect(result.span).toEqual({ from: new Date('2026-12-01T10:00:00Z'), to: new Date('2026-12-02T23:59:59.999Z') });
    expect(USER_PARTITIONS_QUERY).toBe('glue/user-partitions');
  });

  it('starts nothing when no partition holds the user', async () => {
    // Prepare
    const athena = { run: (name: string, params: readonly unknown[]) => lake.queryFile(name, params as string[]) };
    const eraser = new GlueLakeEraser(athena, client, {
      jobName: 'j',
      bucket: 'b',
      lakePrefix: 'lake',
      deliveryDelayMs: 0,
    });

    // Act
    const result = await eraser.erase({ ...target, userKey: 'u_nobody0000000000000001' });

    // Assess
    expect(glue.commandCalls(StartJobRunCommand)).toHaveLength(0);
    expect(result).toMatchObject({ status: 'completed', removed: {}, span: null });
  });

  it('waits for the delivery buffer: ready only the given delay after the request', () => {
    // Prepare
    const eraser = new GlueLakeEraser({ run: async () => [] }, client, {
      jobName: 'j',
      bucket: 'b',
      lakePrefix: 'lake',
      deliveryDelayMs: 960_000,
    });

    // Act
    const ready = eraser.readyAt(target);

    // Assess
    expect(ready).toEqual(new Date('2026-12-04T12:16:00Z'));
  });

  it.each([
    [['SUCCEEDED', 'SUCCEEDED'], { done: true }],
    [['SUCCEEDED', 'RUNNING'], { done: false }],
    [['STARTING', 'SUCCEEDED'], { done: false }],
  ])('confirms the runs %j as %j', async (states, expected) => {
    // Prepare
    for (const [i, state] of states.entries()) {
      glue.on(GetJobRunCommand, { RunId: `jr_${i}` }).resolves({ JobRun: { JobRunState: state as 'SUCCEEDED' } });
    }
    const eraser = new GlueLakeEraser({ run: async () => [] }, client, {
      jobName: 'j',
      bucket: 'b',
      lakePrefix: 'lake',
      deliveryDelayMs: 0,
    });

    // Act
    const check = await eraser.confirm(['ad_impressions:jr_0', 'clicks:jr_1']);

    // Assess
    expect(check).toEqual(expected);
    expect(glue.commandCalls(GetJobRunCommand).map((c) => c.args[0].input)).toContainEqual({
      JobName: 'j',
      RunId: 'jr_0',
    });
  });

  it('reports a run that failed, with its state and message, so the erasure fails', async () => {
    // Prepare
    glue
      .on(GetJobRunCommand)
      .resolves({ JobRun: { JobRunState: 'FAILED', ErrorMessage: 'AccessDenied on s3://lake-b' } });
    const eraser = new GlueLakeEraser({ run: async () => [] }, client, {
      jobName: 'j',
      bucket: 'b',
      lakePrefix: 'lake',
      deliveryDelayMs: 0,
    });

    // Act
    const check = await eraser.confirm(['clicks:jr_9']);

    // Assess
    expect(check).toEqual({ done: false, failed: 'Glue run clicks:jr_9 ended FAILED: AccessDenied on s3://lake-b' });
  });
});
