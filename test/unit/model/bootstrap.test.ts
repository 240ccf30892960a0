import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainBootstrapModel } from '../../../sagemaker/bootstrap.js';
import { loadScorer } from '../../../sagemaker/model/scorer.js';
import { tempDir } from './helpers.js';

describe('trainBootstrapModel', () => {
  it('saves a loadable model trained on simulated traffic, labelled as such, with its holdout metrics', async () => {
    // Prepare
    const dir = join(await tempDir(), 'bootstrap');

    // Act
    const result = await trainBootstrapModel(dir, { rows: 100_000, seed: 3, bits: 18 });
    const scorer = await loadScorer(dir);

    // Assess
    expect(result.dir).toBe(dir);
    const { manifest } = scorer;
    expect(manifest.training_window).toBeNull();
    expect(manifest.metadata).toMatchObject({ source: 'bootstrap', trained_on: 'simulated data', simulator_seed: 3 });
    expect(manifest.hashing.bits).toBe(18);
    expect(manifest.metrics).toMatchObject({
      rows: 10_000,
      logloss: result.metrics.logloss,
      auc: result.metrics.auc,
      calibration: result.metrics.calibration,
      baseline_logloss: result.metrics.baseline_logloss,
    });
    expect(result.metrics.logloss).toBeLessThan(result.metrics.baseline_logloss);
    expect(result.metrics.oracle_logloss).toBeLessThan(result.metrics.logloss);
    expect(result.metrics.auc!).toBeGreaterThan(0.55);
    const p = scorer.score({ device_type: 'mobile', position: 1, site_id: 'site_0001', ad_id: 'ad_00001' }).probability;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.5);
  });

  it('trains the same model from the same seed', async () => {
    // Prepare
    const [a, b] = [join(await tempDir(), 'a'), join(await tempDir(), 'b')];

    // Act
    const first = await trainBootstrapModel(a, { rows: 20_000, seed: 5, bits: 14 });
    const second = await trainBootstrapModel(b, { rows: 20_000, seed: 5, bits: 14 });

    // Assess
    expect(second.manifest.weights.sha256).toBe(first.manifest.weights.sha256);
    expect(second.manifest.bias).toBe(first.manifest.bias);
  });
});
