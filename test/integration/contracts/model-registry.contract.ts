/** What every ModelRegistry must do, run against SQLite, DynamoDB (dynalite) and the in-memory fake. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../lambdas/core/errors.js';
import type { ModelRegistry } from '../../../lambdas/core/ports.js';
import type { DriftEvent, GateReport } from '../../../lambdas/core/schemas/models.js';
import { modelRecord, T0 } from '../../support/memory-ports.js';

const LATER = new Date(T0.getTime() + 60_000);

const gate = (passed: boolean): GateReport => ({
  passed,
  reasons: passed ? [] : ['log loss not lower'],
  holdout: 'holdout 2026-12-01..2026-12-03',
  candidate: { rows: 10_000, positives: 500, logloss: 0.1, calibration: 1.01, auc: 0.75, segments: [] },
  champion: null,
});

export function describeModelRegistryContract(adapter: string, open: () => Promise<ModelRegistry>): void {
  describe(`ModelRegistry contract: ${adapter}`, () => {
    let registry: ModelRegistry;
    beforeEach(async () => {
      registry = await open();
    });

    /** m_a the champion (promoted once), m_b a candidate. */
    async function withChampion(): Promise<void> {
      await registry.create(modelRecord({ model_id: 'm_a', version: 'v1' }));
      await registry.create(modelRecord({ model_id: 'm_b', version: 'v2', created_at: LATER.toISOString() }));
      await registry.promote('m_a', T0, null);
    }

    it('reads back a created model by id and by version, nested fields included', async () => {
      const record = modelRecord({
        model_id: 'm_1',
        version: '2026-12-04.1',
        metadata: { owner: 'ml', notes: 'first' },
        training_window: { from: '2026-11-01T00:00:00Z', to: null },
        holdout_metrics: { logloss: 0.12 },
        negative_sampling_rate: 0.5,
      });

      await registry.create(record);

      expect(await registry.get('m_1')).toEqual(record);
      expect(await registry.findByVersion('2026-12-04.1')).toEqual(record);
      expect(await registry.get('m_2')).toBeUndefined();
      expect(await registry.findByVersion('nope')).toBeUndefined();
    });

    it('refuses an existing version with a ConflictError', async () => {
      await registry.create(modelRecord({ model_id: 'm_1', version: 'v1' }));

      const act = registry.create(modelRecord({ model_id: 'm_2', version: 'v1' }));

      await expect(act).rejects.toBeInstanceOf(ConflictError);
      expect(await registry.get('m_2')).toBeUndefined();
    });

    it('lists models newest first', async () => {
      await registry.create(modelRecord({ model_id: 'm_old', version: 'v1', created_at: T0.toISOString() }));
      await registry.create(modelRecord({ model_id: 'm_new', version: 'v2', created_at: LATER.toISOString() }));
      await registry.create(modelRecord({ model_id: 'm_old2', version: 'v3', created_at: T0.toISOString() }));

      const listed = await registry.list();

      expect(listed.map((m) => m.model_id)).toEqual(['m_new', 'm_old2', 'm_old']);
    });

    it('updates only the patched fields and says NotFound for an unknown model', async () => {
      await registry.create(modelRecord({ model_id: 'm_1', version: 'v1', status: 'uploading', metadata: { a: 1 } }));

      const updated = await registry.update('m_1', { status: 'candidate', algorithm: 'ftrl-fm', gate: gate(false) });
      const missing = await registry.update('m_unknown', { status: 'candidate' }).catch((err: unknown) => err);

      expect(updated).toMatchObject({
        status: 'candidate',
        algorithm: 'ftrl-fm',
        gate: gate(false),
        metadata: { a: 1 },
      });
      expect(await registry.get('m_1')).toEqual(updated);
      expect(missing).toBeInstanceOf(NotFoundError);
    });

    it('makes the promoted model the champion and retires the previous one', async () => {
      await withChampion();

      const promoted = await registry.promote('m_b', LATER, gate(true));

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
      await registry.create(modelRecord({ model_id: 'm_a', version: 'v1' }));
      expect(await registry.champion()).toBeUndefined();

      const promoted = await registry.promote('m_a', T0, null);

      expect(promoted).toMatchObject({ status: 'champion', alias: 'champion', previous_champion_id: null, gate: null });
      expect((await registry.champion())?.model_id).toBe('m_a');
    });

    it('rolls back by promoting the previous champion, leaving exactly one champion', async () => {
      await withChampion();
      const promoted = await registry.promote('m_b', LATER, gate(true));

      const rolledBack = await registry.promote(promoted.previous_champion_id!, LATER, null);

      expect(rolledBack).toMatchObject({ model_id: 'm_a', status: 'champion', previous_champion_id: 'm_b' });
      expect(await registry.get('m_b')).toMatchObject({ status: 'retired', alias: null });
      expect((await registry.list()).filter((m) => m.alias === 'champion').map((m) => m.model_id)).toEqual(['m_a']);
    });

    it('keeps the gate on the model when promoted without one', async () => {
      await withChampion();
      await registry.update('m_b', { gate: gate(false) });

      const forced = await registry.promote('m_b', LATER, null);

      expect(forced.gate).toEqual(gate(false));
    });

    it('promotes the current champion again without losing its previous champion', async () => {
      await withChampion();
      await registry.promote('m_b', LATER, null);

      const again = await registry.promote('m_b', new Date(LATER.getTime() + 1_000), null);

      expect(again).toMatchObject({ status: 'champion', previous_champion_id: 'm_a' });
      expect((await registry.list()).filter((m) => m.status === 'champion')).toHaveLength(1);
    });

    it('keeps drift events through updates and promotions, and leaves them out of a model that has none', async () => {
      await withChampion();
      const event: DriftEvent = {
        at: LATER.toISOString(),
        kind: 'rolled_back',
        model_id: 'm_b',
        rolled_back_to: 'm_a',
        experiment_ids: ['exp_1'],
        reasons: ['online calibration 1.500 is outside [0.8, 1.2]'],
        impressions: 50_000,
        clicks: 1_000,
        calibration: 1.5,
        logloss: null,
        baseline_logloss: 0.1,
        window: { from: T0.toISOString(), to: LATER.toISOString() },
        detail: 'rolled back',
      };

      await registry.promote('m_b', LATER, gate(true));
      await registry.update('m_b', { drift_events: [event] });
      await registry.promote('m_a', LATER, null);
      await registry.update('m_a', { drift_events: [event] });

      expect((await registry.get('m_b'))?.drift_events).toEqual([event]);
      expect(await registry.champion()).toMatchObject({ model_id: 'm_a', drift_events: [event] });
      expect((await registry.list()).map((m) => m.drift_events)).toEqual([[event], [event]]);
      await registry.create(modelRecord({ model_id: 'm_c', version: 'v3' }));
      expect(await registry.get('m_c')).not.toHaveProperty('drift_events');
    });

    it('keeps the erasure retrain flag through updates and promotions, and leaves it out of a model that has none', async () => {
      // Prepare
      await withChampion();
      const flag = { since: LATER.toISOString(), erasures: 2, erasure_ids: ['er_1', 'er_2'] };

      // Act
      await registry.update('m_a', { retrain_required_by_erasure: flag });
      await registry.promote('m_b', LATER, gate(true));

      // Assess
      expect((await registry.get('m_a'))?.retrain_required_by_erasure).toEqual(flag);
      expect(await registry.get('m_b')).not.toHaveProperty('retrain_required_by_erasure');
    });

    it('says NotFound when promoting an unknown model and leaves the champion alone', async () => {
      await withChampion();

      const act = registry.promote('m_unknown', LATER, null);

      await expect(act).rejects.toBeInstanceOf(NotFoundError);
      expect((await registry.champion())?.model_id).toBe('m_a');
    });
  });
}
