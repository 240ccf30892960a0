import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoModelRegistry } from '../../../../lambdas/adapters/aws/dynamodb/model-registry.js';
import type { DynamoTableNames } from '../../../../lambdas/adapters/aws/dynamodb/tables.js';
import { ConflictError, NotFoundError } from '../../../../lambdas/core/errors.js';
import type { GateReport } from '../../../../lambdas/core/schemas/models.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { modelRecord, T0 } from '../../../support/memory-ports.js';

const LATER = new Date(T0.getTime() + 60_000);

const gate = (passed: boolean): GateReport => ({
  passed,
  reasons: passed ? [] : ['log loss not lower'],
  holdout: 'holdout 2026-12-01..2026-12-03',
  candidate: { rows: 10_000, positives: 500, logloss: 0.1, calibration: 1.01, auc: 0.75, segments: [] },
  champion: null,
});

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

  it('reads back a created model by id and by version, nested fields included', async () => {
    // Prepare
    const record = modelRecord({
      model_id: 'm_1',
      version: '2026-12-04.1',
      metadata: { owner: 'ml', notes: 'first' },
      training_window: { from: '2026-11-01T00:00:00Z', to: null },
      holdout_metrics: { logloss: 0.12 },
      negative_sampling_rate: 0.5,
    });

    // Act
    await registry.create(record);

    // Assess
    expect(await registry.get('m_1')).toEqual(record);
    expect(await registry.findByVersion('2026-12-04.1')).toEqual(record);
    expect(await registry.get('m_unknown')).toBeUndefined();
    expect(await registry.findByVersion('nope')).toBeUndefined();
  });

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

  it('lists models newest first', async () => {
    // Prepare
    await registry.create(modelRecord({ model_id: 'm_old', version: 'v1', created_at: T0.toISOString() }));
    await registry.create(modelRecord({ model_id: 'm_new', version: 'v2', created_at: LATER.toISOString() }));
    await registry.create(modelRecord({ model_id: 'm_old2', version: 'v3', created_at: T0.toISOString() }));

    // Act
    const listed = await registry.list();

    // Assess
    expect(listed.map((m) => m.model_id)).toEqual(['m_new', 'm_old2', 'm_old']);
  });

  it('updates only the patched fields and says NotFound for an unknown model', async () => {
    // Prepare
    await registry.create(modelRecord({ model_id: 'm_1', version: 'v1', status: 'uploading', metadata: { a: 1 } }));

    // Act
    const updated = await registry.update('m_1', { status: 'candidate', algorithm: 'ftrl-fm', gate: gate(false) });
    const missing = await registry.update('m_unknown', { status: 'candidate' }).catch((err: unknown) => err);

    // Assess
    expect(updated).toMatchObject({ status: 'candidate', algorithm: 'ftrl-fm', gate: gate(false), metadata: { a: 1 } });
    expect(await registry.get('m_1')).toEqual(updated);
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it('makes the promoted model the champion and retires the previous one', async () => {
    // Prepare
    await withChampion();

    // Act
    const promoted = await registry.promote('m_b', LATER, gate(true));

    // Assess
    expect(promoted).toMatchObject({
      model_id: 'm_b',
      status: 'champion',
      alias: 'champion',
      previous_champion_id: 'm_a',
      activated_at: LATER.toISOString(),
      gate: gate(true),
    });
    expect(await registry.get('m_b')).toEqual(promoted);
    expect(await registry.champion()).toEqual(promoted);
    expect(await registry.get('m_a')).toMatchObject({ status: 'retired', alias: null });
  });

  it('makes a first champion with no previous one', async () => {
    // Prepare
    await registry.create(modelRecord({ model_id: 'm_a', version: 'v1' }));
    expect(await registry.champion()).toBeUndefined();

    // Act
    const promoted = await registry.promote('m_a', T0, null);

    // Assess
    expect(promoted).toMatchObject({ status: 'champion', alias: 'champion', previous_champion_id: null, gate: null });
    expect((await registry.champion())?.model_id).toBe('m_a');
  });

  it('rolls back by promoting the previous champion, leaving exactly one champion', async () => {
    // Prepare
    await withChampion();
    const promoted = await registry.promote('m_b', LATER, gate(true));

    // Act
    const rolledBack = await registry.promote(promoted.previous_champion_id!, LATER, null);

    // Assess
    expect(rolledBack).toMatchObject({ model_id: 'm_a', status: 'champion', previous_champion_id: 'm_b' });
    expect(await registry.get('m_b')).toMatchObject({ status: 'retired', alias: null });
    expect((await registry.list()).filter((m) => m.alias === 'champion').map((m) => m.model_id)).toEqual(['m_a']);
  });

  it('keeps the gate on the model when promoted without one, as the local registry does', async () => {
    // Prepare
    await withChampion();
    await registry.update('m_b', { gate: gate(false) });

    // Act
    const forced = await registry.promote('m_b', LATER, null);

    // Assess
    expect(forced.gate).toEqual(gate(false));
  });

  it('promotes the current champion again without losing its previous champion', async () => {
    // Prepare
    await withChampion();
    await registry.promote('m_b', LATER, null);

    // Act
    const again = await registry.promote('m_b', new Date(LATER.getTime() + 1_000), null);

    // Assess
    expect(again).toMatchObject({ status: 'champion', previous_champion_id: 'm_a' });
    expect((await registry.list()).filter((m) => m.status === 'champion')).toHaveLength(1);
  });

  it('says NotFound when promoting an unknown model and leaves the champion alone', async () => {
    // Prepare
    await withChampion();

    // Act
    const act = registry.promote('m_unknown', LATER, null);

    // Assess
    await expect(act).rejects.toBeInstanceOf(NotFoundError);
    expect((await registry.champion())?.model_id).toBe('m_a');
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
