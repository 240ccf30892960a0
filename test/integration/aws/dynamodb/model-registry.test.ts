import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoModelRegistry } from '../../../../lambdas/adapters/aws/dynamodb/model-registry.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import { ConflictError } from '../../../../lambdas/core/errors.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { modelRecord, T0 } from '../../../support/memory-ports.js';

const LATER = new Date(T0.getTime() + 60_000);

describe('the DynamoDB model registry', () => {
  let db: Dynalite;
  let tables: DynamoTableNames;
  let registry: DynamoModelRegistry;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    await db.stop();
  });

  beforeEach(async () => {
    tables = await db.freshTables();
    registry = new DynamoModelRegistry(db.doc, tables.models);
  });

  /** A registry with m_a as the champion (promoted once), m_b a candidate. */
  async function withChampion(): Promise<void> {
    await registry.create(modelRecord({ model_id: 'm_a', version: 'v1' }));
    await registry.create(modelRecord({ model_id: 'm_b', version: 'v2', created_at: LATER.toISOString() }));
    await registry.promote('m_a', T0, null);
  }

  it('refuses an existing version with the ConflictError naming version', async () => {
    // Prepare
    await registry.create(modelRecord({ model_id: 'm_1', version: 'v1' }));

    // Act
    const second = registry.create(modelRecord({ model_id: 'm_2', version: 'v1' }));

    // Assess
    await expect(second).rejects.toBeInstanceOf(ConflictError);
    await expect(second).rejects.toMatchObject({ errors: [{ path: 'version', message: 'already exists' }] });
    expect((await registry.list()).map((m) => m.model_id)).toEqual(['m_1']);
  });

  it('registers a version once when two creates of it race', async () => {
    // Act
    const results = await Promise.allSettled([
      registry.create(modelRecord({ model_id: 'm_1', version: 'v1' })),
      registry.create(modelRecord({ model_id: 'm_2', version: 'v1' })),
    ]);

    // Assess
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await registry.list()).filter((m) => m.version === 'v1')).toHaveLength(1);
  });

  it('lets a create take over a version claim whose model never appeared, once the grace period is over', async () => {
    // Prepare: a create that died between its claim and its model item, ten minutes ago
    let now = T0.getTime();
    const clocked = new DynamoModelRegistry(db.doc, tables.models, { claimGraceMs: 300_000, now: () => now });
    await db.doc.send(
      new PutCommand({
        TableName: tables.models,
        Item: { pk: 'version#v1', model_id: 'm_dead', claimed_at: now - 60_000 },
      }),
    );

    // Act
    const early = clocked.create(modelRecord({ model_id: 'm_1', version: 'v1' }));
    await expect(early).rejects.toBeInstanceOf(ConflictError);
    now += 600_000;
    await clocked.create(modelRecord({ model_id: 'm_1', version: 'v1' }));

    // Assess
    expect((await clocked.findByVersion('v1'))?.model_id).toBe('m_1');
  });

  it('ends racing promotions with one champion that the others name as retired', async () => {
    // Prepare
    await withChampion();
    await registry.create(modelRecord({ model_id: 'm_c', version: 'v3' }));

    // Act
    await Promise.all([registry.promote('m_b', LATER, null), registry.promote('m_c', LATER, null)]);

    // Assess
    const listed = await registry.list();
    const champions = listed.filter((m) => m.status === 'champion' || m.alias === 'champion');
    expect(champions).toHaveLength(1);
    const loser = champions[0]!.model_id === 'm_b' ? 'm_c' : 'm_b';
    expect(champions[0]!.previous_champion_id).toBe(loser);
    expect(listed.find((m) => m.model_id === 'm_a')).toMatchObject({ status: 'retired', alias: null });
    expect(listed.find((m) => m.model_id === loser)).toMatchObject({ status: 'retired', alias: null });
  });

  it('reads the pointer as the truth when a promotion died before updating the model items', async () => {
    // Prepare: m_b's promotion wrote the pointer, then failed before touching either model item
    await withChampion();
    const pointer = await db.doc.send(new GetCommand({ TableName: tables.models, Key: { pk: 'alias#champion' } }));
    await db.doc.send(
      new UpdateCommand({
        TableName: tables.models,
        Key: { pk: 'alias#champion' },
        UpdateExpression: 'SET model_id = :b, generation = :g, previous_champion_id = :a, activated_at = :at',
        ExpressionAttributeValues: {
          ':b': 'm_b',
          ':g': (pointer.Item!.generation as number) + 1,
          ':a': 'm_a',
          ':at': LATER.toISOString(),
        },
      }),
    );

    // Act
    const champion = await registry.champion();
    const listed = await registry.list();
    const repaired = await registry.repair();

    // Assess
    expect(champion).toMatchObject({ model_id: 'm_b', status: 'champion', previous_champion_id: 'm_a' });
    expect(listed.filter((m) => m.alias === 'champion').map((m) => m.model_id)).toEqual(['m_b']);
    expect(listed.find((m) => m.model_id === 'm_a')).toMatchObject({ status: 'retired', alias: null });
    expect(repaired.sort()).toEqual(['m_a', 'm_b']);
    const rawA = await db.doc.send(new GetCommand({ TableName: tables.models, Key: { pk: 'model#m_a' } }));
    expect(rawA.Item).toMatchObject({ status: 'retired', alias: null });
    expect(await registry.repair()).toEqual([]);
  });
});
