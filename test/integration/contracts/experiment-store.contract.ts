/**
 * What every ExperimentStore must do. The port only reads (experiments are written by issue 6's
 * use case), so each adapter's runner seeds the experiments its own way.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Experiment, ExperimentStore } from '../../../lambdas/core/ports.js';
import { experiment } from '../../support/memory-ports.js';

export interface SeededExperimentStore {
  readonly store: ExperimentStore;
  seed(experiments: readonly Experiment[]): Promise<void>;
}

export function describeExperimentStoreContract(adapter: string, open: () => Promise<SeededExperimentStore>): void {
  describe(`ExperimentStore contract: ${adapter}`, () => {
    let subject: SeededExperimentStore;
    beforeEach(async () => {
      subject = await open();
    });

    it('returns the running experiments whole, oldest first, ties by id, and no stopped one', async () => {
      const variants = [
        { model_id: 'm_a', weight: 0.5 },
        { model_id: 'm_b', weight: 0.5 },
      ];
      const late = experiment({ experiment_id: 'e-3', variants, created_at: '2026-12-03T00:00:00.000Z' });
      const earlyB = experiment({
        experiment_id: 'e-2',
        variants,
        campaign_ids: ['c1', 'c2'],
        created_at: '2026-12-01T00:00:00.000Z',
      });
      const earlyA = experiment({ experiment_id: 'e-1', variants, created_at: '2026-12-01T00:00:00.000Z' });
      const stopped = experiment({
        experiment_id: 'e-0',
        variants,
        status: 'stopped',
        stopped_at: '2026-12-02T00:00:00.000Z',
      });
      await subject.seed([late, earlyB, stopped, earlyA]);

      const running = await subject.store.running();

      expect(running).toEqual([earlyA, earlyB, late]);
    });

    it('returns no experiment from an empty store', async () => {
      expect(await subject.store.running()).toEqual([]);
    });
  });
}
