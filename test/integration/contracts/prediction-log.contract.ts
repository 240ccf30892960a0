/**
 * What every PredictionLog must do (lambdas/core/ports.ts), run against each adapter: SQLite
 * (local), DynamoDB (dynalite) and the in-memory fake the use-case tests rely on.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { PredictionLog, PredictionRecord } from '../../../lambdas/core/ports.js';

const AT = new Date('2026-12-04T10:00:00.123Z');

export const predictionRecord = (id: string, patch: Partial<PredictionRecord> = {}): PredictionRecord => ({
  prediction_id: id,
  request_id: 'req-1',
  user_id: 'u_abc',
  ad_id: 'ad-1',
  probability: 0.02,
  model_id: 'm_1',
  model_version: 'v1',
  variant: 'champion',
  experiment_id: null,
  fallback: false,
  consent: true,
  features: { device_type: 'mobile', position: 1, returning: true, region: null, ctr: 0.0123456789 },
  explanation: { base_value: -3, contributions: { device_type: 0.25, position: -0.5 } },
  exploration_bonus: null,
  model_latency_ms: null,
  timestamp: AT,
  ...patch,
});

export function describePredictionLogContract(adapter: string, open: () => Promise<PredictionLog>): void {
  describe(`PredictionLog contract: ${adapter}`, () => {
    let log: PredictionLog;
    beforeEach(async () => {
      log = await open();
    });

    it('reads back exactly the record it wrote, every field and type included', async () => {
      const withNulls = predictionRecord('p-2', {
        request_id: null,
        user_id: null,
        consent: false,
        explanation: null,
        experiment_id: 'e-1',
        fallback: true,
        variant: 'challenger',
      });

      await log.putAll([predictionRecord('p-1'), withNulls]);

      expect(await log.getMany(['p-1', 'p-2'])).toEqual([predictionRecord('p-1'), withNulls]);
    });

    it('reads back the exploration bonus of an explored prediction', async () => {
      const explored = predictionRecord('p-x', { exploration_bonus: 0.8125 });

      await log.putAll([explored]);

      expect(await log.getMany(['p-x'])).toEqual([explored]);
    });

    it('keeps the stored record and reports the index of a replayed id', async () => {
      await log.putAll([predictionRecord('p-1')]);

      const result = await log.putAll([predictionRecord('p-3'), predictionRecord('p-1', { probability: 0.9 })]);

      expect(result.duplicates).toEqual([1]);
      expect((await log.getMany(['p-1']))[0]?.probability).toBe(0.02);
      expect((await log.getMany(['p-3']))[0]).toEqual(predictionRecord('p-3'));
    });

    it('treats a repeated id inside one batch as a duplicate of its first occurrence', async () => {
      const result = await log.putAll([predictionRecord('p-1'), predictionRecord('p-1', { probability: 0.5 })]);

      expect(result.duplicates).toEqual([1]);
      expect((await log.getMany(['p-1']))[0]?.probability).toBe(0.02);
    });

    it('writes each id once when concurrent batches race on it, and each loser is told', async () => {
      const racers = Array.from({ length: 5 }, (_, i) =>
        log.putAll([predictionRecord('p-race', { probability: i / 10 })]),
      );

      const results = await Promise.all(racers);

      expect(results.filter((r) => r.duplicates.length === 0)).toHaveLength(1);
      expect(results.filter((r) => r.duplicates.length === 1)).toHaveLength(4);
    });

    it('answers getMany in input order, undefined for unknown ids, repeats included', async () => {
      await log.putAll([predictionRecord('p-1'), predictionRecord('p-2')]);

      const found = await log.getMany(['p-2', 'nope', 'p-1', 'p-2']);

      expect(found.map((r) => r?.prediction_id)).toEqual(['p-2', undefined, 'p-1', 'p-2']);
    });

    it('accepts an empty batch and an empty lookup', async () => {
      expect(await log.putAll([])).toEqual({ duplicates: [] });
      expect(await log.getMany([])).toEqual([]);
    });
  });
}
