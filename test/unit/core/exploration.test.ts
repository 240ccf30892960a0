import { describe, expect, it } from 'vitest';
import type { PredictionCache, PredictionCacheKey, ScoreResult } from '../../../lambdas/core/ports.js';
import { DEFAULT_CORE_CONFIG, type ExplorationConfig } from '../../../lambdas/core/usecases/deps.js';
import { explorationBonus } from '../../../lambdas/core/usecases/exploration.js';
import { CHAMPION_ID, FakeModelEndpoint, makeApp } from '../../support/memory-ports.js';

const USER = 'alice';
const NEW_AD = 'ad-new';
const KNOWN_AD = 'ad-known';

function exploring(patch: Partial<ExplorationConfig> = {}) {
  const { app, ports } = makeApp({}, { config: { exploration: { ...DEFAULT_CORE_CONFIG.exploration, ...patch } } });
  ports.model.adEvidence = new Map([
    [KNOWN_AD, 50_000],
    ['ad-few', 99],
  ]);
  return { app, ports };
}

/** Serves a fixed score for every key: any hit it gives is visible as that score. */
class StaticCache implements PredictionCache {
  readonly asked: PredictionCacheKey[] = [];
  async getMany(keys: readonly PredictionCacheKey[]): Promise<(ScoreResult | undefined)[]> {
    this.asked.push(...keys);
    return keys.map(() => ({ probability: 0.5 }));
  }
  async setMany(): Promise<void> {}
}

describe('exploration of new ads', () => {
  it('is off by default: no exploration field, no bonus logged, no uncertainty asked of the model', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: NEW_AD });

    // Assess
    expect(prediction).not.toHaveProperty('exploration');
    expect(ports.predictions.all()[0]!.exploration_bonus).toBeNull();
    expect(ports.model.calls[0]!.uncertainty).toBeUndefined();
  });

  it('with a budget of 1 gives every new ad a ranking score above its unchanged probability', async () => {
    // Prepare
    const { app, ports } = exploring({ budget: 1 });
    const ads = [NEW_AD, 'ad-new-2', 'ad-few'].map((ad_id) => ({ ad_id }));

    // Act
    const predictions = await app.predict.predictBatch({ user_id: USER, ads });

    // Assess
    const rows = ports.model.scoredRows();
    expect(ports.model.calls[0]!.uncertainty).toBe(true);
    predictions.forEach((p, i) => {
      expect(p.probability).toBe(FakeModelEndpoint.probabilityOf(CHAMPION_ID, rows[i]!.features));
      expect(p.exploration!.bonus).toBeGreaterThan(0);
      expect(p.exploration!.ranking_score).toBeGreaterThan(p.probability);
    });
  });

  it('gives no bonus to an ad the model has seen often enough, even within the budget', async () => {
    // Prepare
    const { app, ports } = exploring({ budget: 1 });

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: KNOWN_AD });

    // Assess
    expect(prediction).not.toHaveProperty('exploration');
    expect(ports.predictions.all()[0]!.exploration_bonus).toBeNull();
  });

  it('adds κ posterior standard deviations to the logit, and logs that bonus with the prediction', async () => {
    // Prepare: a never-seen ad has logit_sd 1 in the fake model
    const { app, ports } = exploring({ budget: 1, kappa: 2 });

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: NEW_AD });

    // Assess
    const p = prediction.probability;
    const expected = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + 2)));
    expect(prediction.exploration).toEqual({ bonus: 2, ranking_score: expect.closeTo(expected, 12) });
    expect(ports.predictions.all()[0]).toMatchObject({ exploration_bonus: 2, probability: p });
  });

  it('explores about the budgeted share of predictions, the same ones on every run', async () => {
    // Prepare
    const runs = [exploring({ budget: 0.05 }), exploring({ budget: 0.05 })];
    const ads = Array.from({ length: 100 }, (_, i) => ({ ad_id: `ad-new-${i}` }));

    // Act
    const explored: string[][] = [];
    for (const { app } of runs) {
      const ids: string[] = [];
      for (let r = 0; r < 40; r++) {
        const predictions = await app.predict.predictBatch({ user_id: USER, request_id: `req-${r}`, ads });
        ids.push(...predictions.filter((p) => p.exploration).map((p) => p.prediction_id));
      }
      explored.push(ids);
    }

    // Assess: 4000 draws at 5 %: 200 expected, sd ≈ 14
    expect(explored[0]!.length).toBeGreaterThan(150);
    expect(explored[0]!.length).toBeLessThan(250);
    expect(explored[1]).toEqual(explored[0]);
  });

  it('answers a replayed request with the same exploration as the original', async () => {
    // Prepare
    const { app, ports } = exploring({ budget: 1 });
    const first = await app.predict.predict({ user_id: USER, ad_id: NEW_AD, request_id: 'r-1' });

    // Act
    const replay = await app.predict.predict({ user_id: USER, ad_id: NEW_AD, request_id: 'r-1' });

    // Assess
    expect(replay).toEqual(first);
    expect(ports.model.calls).toHaveLength(1);
  });

  it('does not explore when the model keeps no training counts', async () => {
    // Prepare
    const { app, ports } = exploring({ budget: 1 });
    ports.model.adEvidence = null;

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: NEW_AD });

    // Assess
    expect(prediction).not.toHaveProperty('exploration');
    expect(ports.predictions.all()[0]!.exploration_bonus).toBeNull();
  });

  it('scores an exploring prediction afresh rather than from the prediction cache', async () => {
    // Prepare
    const cache = new StaticCache();
    const { app, ports } = makeApp(
      { predictionCache: cache },
      { config: { exploration: { ...DEFAULT_CORE_CONFIG.exploration, budget: 1 } } },
    );

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: NEW_AD });

    // Assess
    expect(cache.asked).toHaveLength(0);
    expect(ports.model.calls).toHaveLength(1);
    expect(prediction.probability).not.toBe(0.5);
    expect(prediction.exploration).toBeDefined();
  });

  it('still serves from the cache while exploration is off', async () => {
    // Prepare
    const cache = new StaticCache();
    const { app, ports } = makeApp({ predictionCache: cache });

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: NEW_AD });

    // Assess
    expect(prediction.probability).toBe(0.5);
    expect(ports.model.calls).toHaveLength(0);
  });
});

describe('explorationBonus', () => {
  const config = { budget: 1, kappa: 1, minEvidence: 100 };

  it("uses the ad's own spread, not the whole logit's, when the model gives it", () => {
    // Prepare: eight unseen fields make the whole spread √8; the ad's own is 1
    const evidence = { ad_id: 0, site_id: 0, a: 0, b: 0, c: 0, d: 0, e: 0, f: 0 };
    const fieldSd = Object.fromEntries(Object.keys(evidence).map((k) => [k, 1]));

    // Act
    const bonus = explorationBonus(config, { logit_sd: Math.sqrt(8), evidence, field_sd: fieldSd });

    // Assess
    expect(bonus).toBe(1);
  });

  it('falls back to the whole spread for a container that gives no per-field spread', () => {
    expect(explorationBonus(config, { logit_sd: 0.5, evidence: { ad_id: 3 } })).toBe(0.5);
  });

  it('gives no bonus to an ad with enough evidence', () => {
    expect(explorationBonus(config, { logit_sd: 0.5, evidence: { ad_id: 500 }, field_sd: { ad_id: 0.1 } })).toBeNull();
  });
});
