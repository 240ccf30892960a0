/**
 * What every ExperimentStore must do: SQLite, DynamoDB (dynalite) and the in-memory fake run the
 * same cases, writing through the port itself. (`seed` is what the runner used before the port
 * could write; the cases no longer need it.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../lambdas/core/errors.js';
import type { Experiment, ExperimentStore } from '../../../lambdas/core/ports.js';
import { experiment } from '../../support/memory-ports.js';

export interface SeededExperimentStore {
  readonly store: ExperimentStore;
  seed?(experiments: readonly Experiment[]): Promise<void>;
}

const variants = [
  { model_id: 'm_a', weight: 0.5 },
  { model_id: 'm_b', weight: 0.5 },
];

export function describeExperimentStoreContract(adapter: string, open: () => Promise<SeededExperimentStore>): void {
  describe(`ExperimentStore contract: ${adapter}`, () => {
    let store: ExperimentStore;
    beforeEach(async () => {
      store = (await open()).store;
    });

    it('returns the running experiments whole, oldest first, ties by id, and no stopped one', async () => {
      // Prepare
      const late = experiment({ experiment_id: 'e-3', variants, created_at: '2026-12-03T00:00:00.000Z' });
      const earlyB = experiment({
        experiment_id: 'e-2',
        variants,
        campaign_ids: ['c1', 'c2'],
        created_at: '2026-12-01T00:00:00.000Z',
      });
      const earlyA = experiment({ experiment_id: 'e-1', variants, created_at: '2026-12-01T00:00:00.000Z' });
      const stopped = experiment({ experiment_id: 'e-0', variants, created_at: '2026-11-30T00:00:00.000Z' });
      for (const e of [late, earlyB, stopped, earlyA]) await store.create(e);
      await store.stop('e-0', new Date('2026-12-02T00:00:00.000Z'));

      // Act
      const running = await store.running();

      // Assess
      expect(running).toEqual([earlyA, earlyB, late]);
    });

    it('returns no experiment from an empty store', async () => {
      expect(await store.running()).toEqual([]);
      expect(await store.list()).toEqual([]);
      expect(await store.get('e-none')).toBeUndefined();
    });

    it('returns a created experiment whole by its id', async () => {
      // Prepare
      const created = experiment({
        experiment_id: 'e-1',
        name: 'ftrl vs gbdt',
        variants: [
          { model_id: 'm_a', weight: 3 },
          { model_id: 'm_b', weight: 1 },
          { model_id: 'm_c', weight: 0.25 },
        ],
        campaign_ids: ['c1'],
      });
      await store.create(created);

      // Act
      const found = await store.get('e-1');

      // Assess
      expect(found).toEqual(created);
    });

    it('refuses to create an experiment whose id exists, keeping the first', async () => {
      // Prepare
      const first = experiment({ experiment_id: 'e-1', name: 'first', variants });
      await store.create(first);

      // Act
      const again = store.create(experiment({ experiment_id: 'e-1', name: 'second', variants }));

      // Assess
      await expect(again).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get('e-1')).toEqual(first);
    });

    it('lists every experiment, running or stopped, newest first, ties by id descending', async () => {
      // Prepare
      const old = experiment({ experiment_id: 'e-1', variants, created_at: '2026-11-01T00:00:00.000Z' });
      const tieA = experiment({ experiment_id: 'e-2', variants, created_at: '2026-12-01T00:00:00.000Z' });
      const tieB = experiment({ experiment_id: 'e-3', variants, created_at: '2026-12-01T00:00:00.000Z' });
      for (const e of [tieA, old, tieB]) await store.create(e);
      await store.stop('e-1', new Date('2026-11-02T00:00:00.000Z'));

      // Act
      const listed = await store.list();

      // Assess
      expect(listed.map((e) => e.experiment_id)).toEqual(['e-3', 'e-2', 'e-1']);
      expect(listed[2]).toMatchObject({ status: 'stopped', stopped_at: '2026-11-02T00:00:00.000Z' });
    });

    it('stops a running experiment at the given instant and returns it stopped', async () => {
      // Prepare
      const created = experiment({ experiment_id: 'e-1', variants, campaign_ids: ['c1'] });
      await store.create(created);
      const at = new Date('2026-12-05T12:00:00.000Z');

      // Act
      const stopped = await store.stop('e-1', at);

      // Assess
      const expected: Experiment = { ...created, status: 'stopped', stopped_at: at.toISOString() };
      expect(stopped).toEqual(expected);
      expect(await store.get('e-1')).toEqual(expected);
      expect(await store.running()).toEqual([]);
    });

    it('keeps the first stop: stopping a stopped experiment returns it unchanged', async () => {
      // Prepare
      await store.create(experiment({ experiment_id: 'e-1', variants }));
      const first = await store.stop('e-1', new Date('2026-12-05T12:00:00.000Z'));

      // Act
      const second = await store.stop('e-1', new Date('2026-12-06T12:00:00.000Z'));

      // Assess
      expect(second).toEqual(first);
      expect(second?.stopped_at).toBe('2026-12-05T12:00:00.000Z');
    });

    it('answers a stop of an unknown experiment with undefined and creates nothing', async () => {
      // Act
      const stopped = await store.stop('e-none', new Date('2026-12-05T12:00:00.000Z'));

      // Assess
      expect(stopped).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });
  });
}
