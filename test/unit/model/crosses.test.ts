import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CROSS_FORMAT_VERSION, FORMAT_VERSION, loadModel, saveModel } from '../../../sagemaker/model/artifact.js';
import { type Cross, FeatureEncoder, type FeatureMap } from '../../../sagemaker/model/encoding.js';
import { createRandom } from '../../../sagemaker/model/prng.js';
import { createScorer } from '../../../sagemaker/model/scorer.js';
import { trainModel } from '../../../sagemaker/model/train.js';
import { loadWarmStart } from '../../../sagemaker/model/warm-start.js';
import { randomModel, tempDir } from './helpers.js';
import { holdoutLoss, oracleLoss, parityRows, type TrueExample } from './parity-rows.js';

/** Parity rows (parity-rows.ts) with a weak effect of each field alone and a noise field. */
function rows(seed: number, count: number, interaction = 1.2): TrueExample[] {
  return parityRows(seed, count, { interaction, main: 0.1, extra: (rng) => ({ site: `s${rng.int(5)}` }) });
}

const CROSSES: Cross[] = [
  ['device_type', 'ad_id'],
  ['site_id', 'position'],
];

describe('crosses in the encoding', () => {
  it('gives a cross a slot from its two fields values, after the fields slots', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['a', 'b', 'c'] });
    encoder.setCrosses([['a', 'b']]);
    const slots = new Uint32Array(encoder.width);

    // Act
    const n = encoder.crossInto(slots, encoder.encodeInto({ a: 'x', b: 'y', c: 'z' }, slots));
    const sameValues = encoder.crossSlotOf(0, slots[0]!, slots[1]!);
    const otherB = encoder.crossSlotOf(0, slots[0]!, encoder.slotFor(1, 'w'));

    // Assess
    expect(n).toBe(4);
    expect(slots[3]).toBe(sameValues);
    expect(otherB).not.toBe(slots[3]);
    expect(encoder.rareSlot(3)).not.toBe(slots[3]);
  });

  it('refuses a cross of an unknown field, of a field with itself, or the same pair twice', () => {
    // Prepare
    const encoder = new FeatureEncoder({ fields: ['a', 'b'] });

    // Act
    const unknown = () => encoder.setCrosses([['a', 'z']]);
    const self = () => encoder.setCrosses([['a', 'a']]);
    const twice = () =>
      encoder.setCrosses([
        ['a', 'b'],
        ['b', 'a'],
      ]);

    // Assess
    expect(unknown).toThrow(/z is not a field/);
    expect(self).toThrow(/two different fields/);
    expect(twice).toThrow(/appears twice/);
  });
});

describe('trainModel choosing crosses on its training rows and keeping them on its held-out rows', () => {
  const train = rows(1, 20_000);
  const holdout = rows(2, 20_000);
  const oracle = oracleLoss(holdout);

  it('crosses the two interacting fields, and its linear part then learns the interaction', async () => {
    // Act
    const model = await trainModel(() => train, { bits: 14, factors: 0 });

    // Assess
    expect(model.crosses).toEqual([['group', 'category']]);
    expect(model.metrics.crosses).toMatchObject({ selection: 'screened', crosses: ['group&category'] });
    expect(holdoutLoss(model, holdout) - oracle).toBeLessThan(0.01);
  });

  it('keeps no cross when no pair of fields interacts', async () => {
    // Prepare
    const additive = rows(3, 20_000, 0);

    // Act
    const model = await trainModel(() => additive, { bits: 14, factors: 0 });

    // Assess
    expect(model.crosses).toEqual([]);
    expect(model.metrics.crosses).toMatchObject({ selection: 'screened', crosses: [] });
  });

  it('trains no cross with maxCrosses 0 or without held-out rows', async () => {
    // Act
    const off = await trainModel(() => train, { bits: 14, factors: 0, maxCrosses: 0 });
    const noHoldOut = await trainModel(() => train, { bits: 14, factors: 0, validationFraction: 0, maxPasses: 2 });

    // Assess
    expect(off.crosses).toEqual([]);
    expect(noHoldOut.crosses).toEqual([]);
    expect(noHoldOut.metrics.crosses).toMatchObject({ selection: 'off' });
  });

  it('trains the crosses it is given, streaming or cached alike', async () => {
    // Act
    const given = await trainModel(() => train, { bits: 12, crosses: [['category', 'group']], maxPasses: 2 });
    const streamed = await trainModel(() => train, {
      bits: 12,
      crosses: [['category', 'group']],
      maxPasses: 2,
      maxCachedSlots: 0,
    });

    // Assess
    expect(given.crosses).toEqual([['category', 'group']]);
    expect(Buffer.from(streamed.weights.buffer)).toEqual(Buffer.from(given.weights.buffer));
    expect(streamed.bias).toBe(given.bias);
  });

  it('keeps the earlier model crosses when warm-started', async () => {
    // Prepare
    const dir = await tempDir();
    await saveModel(dir, await trainModel(() => train, { bits: 12, crosses: [['group', 'category']], maxPasses: 2 }));

    // Act
    const warm = await trainModel(() => rows(4, 5_000), {
      bits: 12,
      maxPasses: 1,
      warmStart: await loadWarmStart(dir),
    });

    // Assess
    expect(warm.metrics.warm_start).toMatchObject({ used: true });
    expect(warm.crosses).toEqual([['group', 'category']]);
    expect(warm.metrics.crosses).toMatchObject({ selection: 'warm start' });
  });
});

describe('a model with crosses in the scorer', () => {
  const model = { ...randomModel({ bits: 10, factorDim: 3, minCount: 3 }), crosses: CROSSES };
  const scorer = createScorer(model);
  const request: FeatureMap = { device_type: 'mobile', site_id: 's1', position: 2, ad_id: 'a7', user_ctr: 0.01 };

  it('adds each cross weight to the logit', () => {
    // Prepare
    const plain = createScorer({ ...model, crosses: [] });

    // Act
    const withCrosses = scorer.score(request).logit;
    const without = plain.score(request).logit;

    // Assess
    expect(withCrosses).not.toBeCloseTo(without, 6);
  });

  it('explains a logit exactly: the explanations sum to the logit minus the base value', () => {
    // Prepare
    const rng = createRandom(5);

    for (let i = 0; i < 200; i++) {
      const features: FeatureMap = {
        device_type: `d${rng.int(3)}`,
        site_id: `s${rng.int(40)}`,
        position: 1 + rng.int(5),
        ad_id: `a${rng.int(200)}`,
        user_ctr: rng.next() / 10,
      };

      // Act
      const { logit, explanation } = scorer.score(features, { explain: true });

      // Assess
      const sum = Object.values(explanation!.contributions).reduce((a, b) => a + b, 0);
      expect(explanation!.base_value + sum).toBeCloseTo(logit, 9);
      expect(Object.keys(explanation!.contributions)).toEqual(model.fields);
      expect(scorer.score(features).logit).toBeCloseTo(logit, 9);
    }
  });

  it('scores a batch of candidates exactly like one request each', () => {
    // Prepare
    const batch = scorer.batch(['ad_id', 'position']);
    const shared: FeatureMap = { device_type: 'tablet', site_id: 's3', user_ctr: 0.02, position: 1 };
    const candidates: FeatureMap[] = [{ ad_id: 'a1' }, { ad_id: 'a2', position: 4 }, { ad_id: 'a3', position: 2 }];

    // Act
    const scores = batch.score(shared, candidates);

    // Assess
    candidates.forEach((c, i) => {
      expect(scores[i]).toBeCloseTo(scorer.score({ ...shared, ...c }).probability, 12);
    });
  });

  it('splits a cross variance between its two fields in the uncertainty', () => {
    // Act
    const u = scorer.score(request, { uncertainty: true }).uncertainty!;

    // Assess
    const shares = Object.values(u.field_sd).reduce((a, sd) => a + sd * sd, 0);
    expect(shares).toBeCloseTo(u.logit_sd ** 2, 9);
  });
});

describe('a model with crosses in the artifact', () => {
  it('is written as format_version 3 and scores the same after a reload', async () => {
    // Prepare
    const dir = await tempDir();
    const model = { ...randomModel({ factorDim: 2 }), crosses: CROSSES };
    const request: FeatureMap = { device_type: 'mobile', site_id: 's1', position: 2, ad_id: 'a7' };

    // Act
    const manifest = await saveModel(dir, model);
    const loaded = await loadModel(dir);

    // Assess
    expect(manifest.format_version).toBe(CROSS_FORMAT_VERSION);
    expect(loaded.crosses).toEqual(CROSSES);
    expect(createScorer(loaded).score(request).logit).toBeCloseTo(createScorer(model).score(request).logit, 12);
  });

  it('is written as format_version 2 without crosses, for the readers of version 2', async () => {
    // Prepare
    const dir = await tempDir();

    // Act
    const manifest = await saveModel(dir, { ...randomModel(), crosses: [] });
    const loaded = await loadModel(dir);

    // Assess
    expect(manifest.format_version).toBe(FORMAT_VERSION);
    expect('crosses' in manifest).toBe(false);
    expect(loaded.crosses).toEqual([]);
  });

  it('refuses a model.json whose cross names a field the model does not have', async () => {
    // Prepare
    const dir = await tempDir();
    await saveModel(dir, { ...randomModel(), crosses: CROSSES });
    const path = join(dir, 'model.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as { crosses: string[][] };
    manifest.crosses = [['device_type', 'nope']];
    await writeFile(path, JSON.stringify(manifest));

    // Act
    const attempt = loadModel(dir);

    // Assess
    await expect(attempt).rejects.toThrow(/crosses\.0: must be a pair of two different fields/);
  });
});
