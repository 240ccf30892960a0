import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { saveModel } from '../../../sagemaker/model/artifact.js';
import { FeatureEncoder, type FeatureMap, type FeatureValue } from '../../../sagemaker/model/encoding.js';
import { createScorer, loadScorer, sigmoid } from '../../../sagemaker/model/scorer.js';
import { randomModel, tempDir } from './helpers.js';

const FIELDS = ['device_type', 'site_id', 'position', 'ad_id', 'campaign_id', 'user_impressions', 'user_ctr'];

const featureValue: fc.Arbitrary<FeatureValue> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
/** Feature maps over the model's fields plus fields the model never saw. */
const featureMap: fc.Arbitrary<FeatureMap> = fc.dictionary(
  fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 6 })),
  featureValue,
);

describe('Scorer', () => {
  it('explains exactly: base_value + Σ contributions = logit, for any features and any model', () => {
    fc.assert(
      fc.property(
        featureMap,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (features, bits, seed, rate) => {
          // Prepare
          const scorer = createScorer(randomModel({ bits, seed, fields: FIELDS, negativeSamplingRate: rate }));

          // Act
          const { logit, probability, explanation } = scorer.score(features, { explain: true });

          // Assess
          const sum = Object.values(explanation!.contributions).reduce((a, b) => a + b, explanation!.base_value);
          expect(Math.abs(sum - logit)).toBeLessThanOrEqual(1e-9);
          expect(Object.keys(explanation!.contributions).sort()).toEqual([...FIELDS].sort());
          expect(probability).toBe(sigmoid(logit));
        },
      ),
    );
  });

  it('scores the same with and without an explanation', () => {
    fc.assert(
      fc.property(featureMap, (features) => {
        // Prepare
        const scorer = createScorer(randomModel({ bits: 8, fields: FIELDS }));

        // Act
        const plain = scorer.score(features);
        const explained = scorer.score(features, { explain: true });

        // Assess
        expect(plain.explanation).toBeUndefined();
        expect(explained.logit).toBe(plain.logit);
      }),
    );
  });

  it('sums the bias and each field token weight into the logit', () => {
    // Prepare
    const model = randomModel({ bits: 16, fields: ['device_type', 'position', 'user_ctr'] });
    const encoder = new FeatureEncoder({ bits: 16, fields: model.fields });
    const w = (token: string) => model.weights[encoder.slotOf(token)]!;

    // Act
    const score = createScorer(model).score({ device_type: 'mobile', position: 3, unknown: 'x' }, { explain: true });

    // Assess
    const expected = model.bias + w('device_type=mobile') + w('position#p3') + w('user_ctr=<missing>');
    expect(score.logit).toBeCloseTo(expected, 12);
    expect(score.explanation).toEqual({
      base_value: model.bias,
      contributions: {
        device_type: w('device_type=mobile'),
        position: w('position#p3'),
        user_ctr: w('user_ctr=<missing>'),
      },
    });
  });

  it('corrects for negative down-sampling by adding ln r to the logit', () => {
    // Prepare
    const full = randomModel({ bits: 10, negativeSamplingRate: 1 });
    const sampled = { ...full, negative_sampling_rate: 0.05 };
    const features = { device_type: 'tablet', site_id: 's1', position: 2 };

    // Act
    const a = createScorer(full).score(features, { explain: true });
    const b = createScorer(sampled).score(features, { explain: true });

    // Assess
    expect(b.logit - a.logit).toBeCloseTo(Math.log(0.05), 12);
    expect(b.explanation!.base_value).toBeCloseTo(full.bias + Math.log(0.05), 12);
    expect(b.explanation!.contributions).toEqual(a.explanation!.contributions);
  });

  it('ignores fields the model was not trained with', () => {
    // Prepare
    const scorer = createScorer(randomModel({ fields: FIELDS }));

    // Act
    const without = scorer.score({ device_type: 'mobile' });
    const withExtra = scorer.score({ device_type: 'mobile', brand_new_field: 'x', another: 3 });

    // Assess
    expect(withExtra.logit).toBe(without.logit);
  });

  it('explains a field named __proto__ as an ordinary key', () => {
    // Prepare
    const scorer = createScorer(randomModel({ fields: ['__proto__', 'a'] }));

    // Act
    const { explanation } = scorer.score(JSON.parse('{"__proto__":"x","a":"y"}'), { explain: true });

    // Assess
    expect(Object.keys(explanation!.contributions).sort()).toEqual(['__proto__', 'a']);
    expect(JSON.parse(JSON.stringify(explanation)).contributions).toHaveProperty(['__proto__']);
  });

  it('scores a saved and reloaded model exactly like the model in memory', async () => {
    // Prepare
    const dir = await tempDir();
    const model = randomModel({ bits: 12, fields: FIELDS, negativeSamplingRate: 0.5 });
    await saveModel(dir, model);
    const inMemory = createScorer(model);

    // Act
    const loaded = await loadScorer(dir);

    // Assess
    expect(loaded.manifest).toEqual(inMemory.manifest);
    fc.assert(
      fc.property(featureMap, (features) => {
        expect(loaded.score(features).logit).toBe(inMemory.score(features).logit);
      }),
    );
  });
});

describe('sigmoid', () => {
  it('stays finite and within [0, 1] at extreme logits', () => {
    // Act
    const values = [-1000, -50, 0, 50, 1000].map(sigmoid);

    // Assess
    expect(values[0]).toBe(0);
    expect(values[2]).toBe(0.5);
    expect(values[4]).toBe(1);
    for (const v of values) expect(Number.isFinite(v)).toBe(true);
  });
});
