import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoPredictionLog } from '../../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import { DependencyUnavailableError } from '../../../../lambdas/core/errors.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { predictionRecord } from '../../contracts/prediction-log.contract.js';

const AT = new Date('2026-12-04T10:00:00.123Z');

const record = predictionRecord;

describe('the DynamoDB prediction log', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let log: DynamoPredictionLog;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    await db.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
    log = new DynamoPredictionLog(db.doc, tables.predictions);
  });

  it('writes expires_at 90 days after the prediction, in epoch seconds, for DynamoDB TTL', async () => {
    // Prepare
    const expected = Math.floor(AT.getTime() / 1000) + 90 * 86_400;

    // Act
    await log.putAll([record('p1')]);

    // Assess
    const raw = await db.doc.send(new GetCommand({ TableName: tables.predictions, Key: { prediction_id: 'p1' } }));
    expect(raw.Item?.expires_at).toBe(expected);
    expect(new Date(expected * 1000).toISOString()).toBe('2027-03-04T10:00:00.000Z');
  });

  it('reads more than 100 ids, across BatchGetItem calls, in input order', async () => {
    // Prepare
    const ids = Array.from({ length: 250 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    await log.putAll(ids.filter((_, i) => i % 3 !== 0).map((id) => record(id)));
    const asked = [...ids].reverse();

    // Act
    const found = await log.getMany(asked);

    // Assess
    expect(found.map((r) => r?.prediction_id)).toEqual(
      asked.map((id) => (Number(id.slice(5)) % 3 !== 0 ? id : undefined)),
    );
  });

  it('asks again for the keys DynamoDB leaves unprocessed until every one is read', async () => {
    // Prepare: the service answers only the first key of each request and leaves the rest unprocessed
    const ids = ['u1', 'u2', 'u3', 'u4'];
    await log.putAll(ids.map((id) => record(id)));
    const calls = throttleBatchGets(db, 1);
    const retried = new DynamoPredictionLog(db.doc, tables.predictions, {
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxTotalMs: 5_000 },
    });

    // Act
    const found = await retried.getMany(ids);

    // Assess
    expect(found.map((r) => r?.prediction_id)).toEqual(ids);
    expect(calls.count).toBe(4);
    calls.restore();
  });

  it('fails with DependencyUnavailable once unprocessed keys outlast the deadline', async () => {
    // Prepare: nothing is ever processed
    await log.putAll([record('z')]);
    const calls = throttleBatchGets(db, 0);
    const retried = new DynamoPredictionLog(db.doc, tables.predictions, {
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxTotalMs: 20 },
    });

    // Act
    const read = retried.getMany(['z']);

    // Assess
    await expect(read).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls.count).toBeGreaterThan(1);
    calls.restore();
  });
});

/**
 * Makes BatchGetItem process at most `processed` keys per call and return the others as
 * UnprocessedKeys, as DynamoDB does under throttling; the reads themselves stay real.
 */
function throttleBatchGets(db: Dynalite, processed: number): { count: number; restore(): void } {
  const original = db.doc.send.bind(db.doc);
  const calls = {
    count: 0,
    restore: () => {
      db.doc.send = original;
    },
  };
  db.doc.send = (async (command: unknown) => {
    if (!(command instanceof BatchGetCommand)) return original(command as never);
    calls.count++;
    const [table, request] = Object.entries(command.input.RequestItems ?? {})[0]!;
    const keys = request.Keys ?? [];
    const answered = keys.slice(0, processed);
    const left = keys.slice(processed);
    const out =
      answered.length > 0
        ? await original(new BatchGetCommand({ RequestItems: { [table]: { ...request, Keys: answered } } }))
        : { Responses: { [table]: [] } };
    return { ...out, UnprocessedKeys: left.length > 0 ? { [table]: { ...request, Keys: left } } : {} };
  }) as typeof db.doc.send;
  return calls;
}
