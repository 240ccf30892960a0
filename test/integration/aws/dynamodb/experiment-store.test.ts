import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoExperimentStore } from '../../../../lambdas/adapters/aws/dynamodb/experiment-store.js';
import { type Dynalite, startDynalite } from '../../../support/dynalite.js';
import { experiment, T0 } from '../../../support/memory-ports.js';

describe('the DynamoDB experiment store', () => {
  let db: Dynalite;

  beforeAll(async () => {
    db = await startDynalite();
  });

  afterAll(async () => {
    await db.stop();
  });

  it('returns the running experiments whole, oldest first', async () => {
    // Prepare
    const tables = await db.freshTables();
    const store = new DynamoExperimentStore(db.doc, tables.experiments);
    const later = new Date(T0.getTime() + 60_000).toISOString();
    const newer = experiment({
      experiment_id: 'e_new',
      created_at: later,
      variants: [
        { model_id: 'm_a', weight: 0.9 },
        { model_id: 'm_b', weight: 0.1 },
      ],
      campaign_ids: ['c1', 'c2'],
    });
    const older = experiment({ experiment_id: 'e_old', variants: [{ model_id: 'm_a', weight: 1 }] });
    const stopped = experiment({
      experiment_id: 'e_stopped',
      status: 'stopped',
      stopped_at: later,
      variants: [{ model_id: 'm_a', weight: 1 }],
    });
    for (const e of [newer, stopped, older]) await store.put(e);

    // Act
    const running = await store.running();

    // Assess
    expect(running).toEqual([older, newer]);
  });

  it('returns no experiments from an empty table', async () => {
    // Prepare
    const tables = await db.freshTables();

    // Act
    const running = await new DynamoExperimentStore(db.doc, tables.experiments).running();

    // Assess
    expect(running).toEqual([]);
  });
});
