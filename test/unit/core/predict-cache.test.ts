import { describe, expect, it } from 'vitest';
import type { PredictionCache, PredictionCacheKey, ScoreResult } from '../../../lambdas/core/ports.js';
import { makeApp } from '../../support/memory-ports.js';

/** The port's contract in memory: exact keys, no TTL (the tests control what is cached). */
class MemoryPredictionCache implements PredictionCache {
  readonly entries = new Map<string, ScoreResult>();
  failing = false;

  static keyOf(k: PredictionCacheKey): string {
    const context = Object.keys(k.context)
      .sort()
      .map((name) => [name, k.context[name]]);
    return JSON.stringify([k.modelVersion, k.userKey, k.adId, context]);
  }

  async getMany(keys: readonly PredictionCacheKey[]) {
    if (this.failing) throw new Error('cache down');
    return keys.map((k) => this.entries.get(MemoryPredictionCache.keyOf(k)));
  }

  async setMany(entries: readonly { key: PredictionCacheKey; result: ScoreResult }[]) {
    if (this.failing) throw new Error('cache down');
    for (const e of entries) this.entries.set(MemoryPredictionCache.keyOf(e.key), e.result);
  }
}

const request = { user_id: 'alice', ad_id: 'ad-1', features: { device_type: 'mobile', position: 2 } };

describe('predict with a prediction cache', () => {
  it('serves a repeated request from the cache without calling the model, under a new prediction id', async () => {
    // Prepare
    const cache = new MemoryPredictionCache();
    const { app, ports } = makeApp({ predictionCache: cache });
    const first = await app.predict.predict(request);

    // Act
    const second = await app.predict.predict(request);

    // Assess
    expect(ports.model.calls).toHaveLength(1);
    expect(second.probability).toBe(first.probability);
    expect(second.prediction_id).not.toBe(first.prediction_id);
    expect(ports.predictions.all()).toHaveLength(2);
  });

  it('scores again when the context, the ad or the user differs', async () => {
    // Prepare
    const cache = new MemoryPredictionCache();
    const { app, ports } = makeApp({ predictionCache: cache });
    await app.predict.predict(request);

    // Act
    await app.predict.predict({ ...request, features: { device_type: 'desktop', position: 2 } });
    await app.predict.predict({ ...request, ad_id: 'ad-2' });
    await app.predict.predict({ ...request, user_id: 'bob' });

    // Assess
    expect(ports.model.calls).toHaveLength(4);
  });

  it('scores only the ads of a batch that the cache does not hold', async () => {
    // Prepare
    const cache = new MemoryPredictionCache();
    const { app, ports } = makeApp({ predictionCache: cache });
    await app.predict.predict(request);

    // Act
    const predictions = await app.predict.predictBatch({
      user_id: 'alice',
      features: request.features,
      ads: [{ ad_id: 'ad-1' }, { ad_id: 'ad-3' }],
    });

    // Assess
    expect(predictions).toHaveLength(2);
    expect(ports.model.calls.at(-1)?.rows.map((r) => r.features.ad_id)).toEqual(['ad-3']);
  });

  it('does not cache a score served by the fallback model', async () => {
    // Prepare
    const cache = new MemoryPredictionCache();
    const { app, ports } = makeApp({ predictionCache: cache });
    ports.model.fallback = true;

    // Act
    await app.predict.predict(request);

    // Assess
    expect(cache.entries.size).toBe(0);
  });

  it('bypasses the cache when an explanation is asked for', async () => {
    // Prepare
    const cache = new MemoryPredictionCache();
    const { app, ports } = makeApp({ predictionCache: cache });
    await app.predict.predict(request);

    // Act
    const explained = await app.predict.predict({ ...request, explain: true });

    // Assess
    expect(ports.model.calls).toHaveLength(2);
    expect(explained.explanation).toBeDefined();
  });

  it('still serves every request when the cache fails', async () => {
    // Prepare
    const cache = new MemoryPredictionCache();
    cache.failing = true;
    const { app, ports } = makeApp({ predictionCache: cache });

    // Act
    const prediction = await app.predict.predict(request);

    // Assess
    expect(prediction.probability).toBeGreaterThan(0);
    expect(ports.model.calls).toHaveLength(1);
  });
});
