import { describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../../sagemaker/model/artifact.js';
import { logLoss } from '../../../sagemaker/model/metrics.js';
import { createScorer } from '../../../sagemaker/model/scorer.js';
import { type PassReport, trainModel } from '../../../sagemaker/model/train.js';
import { createSimulator } from '../../../sagemaker/simulate.js';
import { tempDir } from './helpers.js';
import { holdoutLoss, oracleLoss, parityRows, type TrueExample } from './parity-rows.js';

/**
 * Rows where the click rate depends only on whether the user's group and the ad's category agree
 * in parity (parity-rows.ts): each field alone carries no signal, so a linear model cannot beat
 * the constant rate, while the rank-1 interaction is exactly what a factorization machine represents.
 */
function interactionRows(seed: number, count: number): TrueExample[] {
  return parityRows(seed, count, { extra: (rng) => ({ site: `s${rng.int(5)}` }) });
}

describe('trainModel with factorization-machine terms', () => {
  const train = interactionRows(1, 20_000);
  const holdout = interactionRows(2, 20_000);
  const oracle = oracleLoss(holdout);

  it('learns a pairwise interaction that logistic regression cannot', async () => {
    // Act: each value here has about 2 000 rows, under the default factorMinCount.
    // No crosses: a cross of the two fields would learn the interaction too (cross-selection.test.ts).
    const fm = await trainModel(() => train, { bits: 12, factors: 4, factorMinCount: 0, maxCrosses: 0 });
    const linear = await trainModel(() => train, { bits: 12, factors: 0, maxCrosses: 0 });

    // Assess
    const fmLoss = holdoutLoss(fm, holdout);
    const linearLoss = holdoutLoss(linear, holdout);
    expect(linearLoss - oracle).toBeGreaterThan(0.05);
    expect(fmLoss - oracle).toBeLessThan(0.01);
  });

  it('explains a trained model exactly, with the interaction split between its two fields', async () => {
    // Prepare
    const model = await trainModel(() => train, { bits: 12, factors: 4, factorMinCount: 0 });
    const scorer = createScorer(model);
    const linearOnly = createScorer({ ...model, factors: new Float32Array(model.factors.length) });

    // Act
    const explained = holdout.slice(0, 200).map((r) => ({
      full: scorer.score(r.features, { explain: true }),
      linear: linearOnly.score(r.features, { explain: true }),
    }));

    // Assess
    for (const { full } of explained) {
      const { base_value, contributions } = full.explanation!;
      const sum = Object.values(contributions).reduce((a, b) => a + b, base_value);
      expect(Math.abs(sum - full.logit)).toBeLessThan(1e-9);
    }
    // The pairwise part of group's and category's contributions is what carries the signal.
    const pairwise = explained.map(({ full, linear }) => {
      const c = full.explanation!.contributions;
      const l = linear.explanation!.contributions;
      return c.group! - l.group! + (c.category! - l.category!);
    });
    expect(Math.max(...pairwise.map(Math.abs))).toBeGreaterThan(0.5);
  });

  it('holds out the time-latest rows for early stopping, then refits on all rows for the best pass count', async () => {
    // Prepare
    const reports: PassReport[] = [];

    // Act
    const model = await trainModel(() => train, { bits: 12, maxPasses: 6, onPass: (r) => reports.push(r) });

    // Assess
    const search = reports.filter((r) => !r.refit);
    const refit = reports.filter((r) => r.refit);
    expect(search.every((r) => r.rows === 18_000 && r.validation_logloss !== null)).toBe(true);
    expect(refit.map((r) => r.pass)).toEqual(
      Array.from({ length: model.metrics.best_pass as number }, (_, i) => i + 1),
    );
    expect(refit.every((r) => r.rows === 20_000 && r.validation_logloss === null)).toBe(true);
    expect(model.metrics).toMatchObject({ early_stopping: 'held-out tail', held_out_rows: 2_000, refit: true });
  });

  it('gives factors only to values with at least factorMinCount rows, and still saves and reloads', async () => {
    // Prepare: site has 5 values (about 4 000 rows each), group and category 10 (about 2 000).
    const options = { bits: 12, factors: 4, factorMinCount: 3_000, maxPasses: 2 } as const;
    const dir = await tempDir();

    // Act
    const model = await trainModel(() => train, options);
    await saveModel(dir, model);
    const loaded = await loadModel(dir);

    // Assess
    const k = model.factor_dim;
    const counts = model.counts ?? new Uint16Array(0);
    const slotsWithFactors = new Set<number>();
    for (let s = 0; s < counts.length; s++) {
      for (let f = 0; f < k; f++) if (model.factors[s * k + f] !== 0) slotsWithFactors.add(s);
    }
    const counted = [...slotsWithFactors].map((s) => counts[s]!);
    expect(slotsWithFactors.size).toBe(5);
    expect(counted.every((c) => c >= 3_000)).toBe(true);
    expect(model.hyperparameters).toMatchObject({ factor_min_count: 3_000 });
    expect(Buffer.from(loaded.factors.buffer)).toEqual(Buffer.from(model.factors.buffer));
  });

  it('trains and saves a model whose rare tokens carry factors (minCount above 1)', async () => {
    // Prepare: 1 in 20 rows has a site seen once, so the site's rare token is trained.
    const rows = train.map((r, i) => (i % 20 === 0 ? { ...r, features: { ...r.features, site: `once${i}` } } : r));
    const dir = await tempDir();

    // Act
    const model = await trainModel(() => rows, { bits: 12, factors: 4, factorMinCount: 0, minCount: 2, maxPasses: 2 });
    await saveModel(dir, model);
    const loaded = await loadModel(dir);

    // Assess
    const scorer = createScorer(loaded);
    const rare = scorer.score({ group: 'g1', category: 'c2', site: 'never-seen' }, { uncertainty: true });
    expect(rare.uncertainty?.evidence.site).toBe(0);
    expect(Buffer.from(loaded.factors.buffer)).toEqual(Buffer.from(model.factors.buffer));
    expect(createScorer(model).score({ group: 'g1', category: 'c2', site: 'once20' }).probability).toBe(
      scorer.score({ group: 'g1', category: 'c2', site: 'once20' }).probability,
    );
  });

  it('gives the same model for the same rows and options', async () => {
    // Act
    const a = await trainModel(() => train, { bits: 10, maxPasses: 2 });
    const b = await trainModel(() => train, { bits: 10, maxPasses: 2 });

    // Assess
    expect(Buffer.from(b.factors.buffer)).toEqual(Buffer.from(a.factors.buffer));
    expect(b.bias).toBe(a.bias);
  });

  it('refuses factors outside [0, 64] and a validationFraction outside [0, 1)', async () => {
    // Act
    const attempts = [
      trainModel(() => train, { factors: 65 }),
      trainModel(() => train, { factors: 1.5 }),
      trainModel(() => train, { validationFraction: 1 }),
    ];

    // Assess
    await expect(attempts[0]).rejects.toThrow(/factors must be an integer in \[0, 64\], got 65/);
    await expect(attempts[1]).rejects.toThrow(/factors must be an integer in \[0, 64\], got 1.5/);
    await expect(attempts[2]).rejects.toThrow(/validationFraction must be in \[0, 1\), got 1/);
  });
});

describe('cold start on simulated traffic', () => {
  /** Simulated rows with the user id as a feature (the simulator hides the user's interest segment). */
  function trafficRows(count: number): TrueExample[] {
    const simulator = createSimulator({ seed: 21, users: 3_000, ads: 200, sites: 30, ctr: 0.05 });
    const rows: TrueExample[] = [];
    for (let i = 0; i < count; i++) {
      const request = simulator.nextRequest();
      rows.push({
        features: { user_id: request.user_id, ...simulator.toTrainingRow(request) },
        label: simulator.clicks(request.trueProbability) ? 1 : 0,
        p: request.trueProbability,
      });
    }
    return rows;
  }

  it('scores never-seen users and ads from the fields that generalise, better than the constant rate', async () => {
    // Prepare
    const rows = trafficRows(80_000);
    const train = rows.slice(0, 60_000);
    // The same traffic, with every user and ad replaced by one the model never saw.
    const unseen = rows.slice(60_000).map((r, i) => ({
      ...r,
      features: { ...r.features, user_id: `new_user_${i}`, ad_id: `new_ad_${i}` },
    }));
    const rate = train.reduce((n, r) => n + (r.label as number), 0) / train.length;
    const labels = unseen.map((r) => r.label as number);

    // Act
    const model = await trainModel(() => train, { bits: 18 });
    const scorer = createScorer(model);
    const scores = unseen.map((r) => scorer.score(r.features, { explain: true, uncertainty: true }));

    // Assess
    const constant = logLoss(new Array(unseen.length).fill(rate), labels);
    const ours = logLoss(
      scores.map((s) => s.probability),
      labels,
    );
    expect(ours).toBeLessThan(constant - 0.002);
    // An unseen id adds nothing, neither alone nor through a pairwise term, unless its hash
    // collides with a trained slot (about occupied slots / 2^18, a few per cent here).
    const silent = scores.filter(
      (s) => s.explanation!.contributions.user_id === 0 && s.explanation!.contributions.ad_id === 0,
    );
    expect(silent.length / scores.length).toBeGreaterThan(0.9);
    const seen = scorer.score(train[0]!.features, { uncertainty: true });
    expect(scores[0]!.uncertainty!.logit_sd).toBeGreaterThan(seen.uncertainty!.logit_sd);
    expect(scores[0]!.uncertainty!.evidence.ad_id).toBe(0);
  });
});
