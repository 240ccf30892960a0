import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { saveModel } from '../../../sagemaker/model/artifact.js';
import { FeatureEncoder, type FeatureMap, type FeatureValue } from '../../../sagemaker/model/encoding.js';
import { createScorer, loadScorer, sigmoid } from '../../../sagemaker/model/scorer.js';
import { randomModel, tempDir, writeVersion1Artifact } from './helpers.js';

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
        expect(explained.logit).toBeCloseTo(plain.logit, 12);
      }),
    );
  });

  it('sums the bias and each field token weight into the logit', () => {
    // Prepare
    const model = randomModel({ bits: 16, fields: ['device_type', 'position', 'user_ctr'], factorDim: 0 });
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

/** A model whose slots for the given tokens hold the given weights and factors (all else 0). */
function handMadeModel(
  fields: string[],
  tokens: Record<string, { w: number; v: number[]; count?: number }>,
  options: { minCount?: number; bits?: number } = {},
) {
  const bits = options.bits ?? 12;
  const dim = 2;
  const base = randomModel({ bits, fields, factorDim: dim, minCount: options.minCount ?? 0 });
  const encoder = new FeatureEncoder({ bits, fields });
  const weights = new Float32Array(2 ** bits);
  const factors = new Float32Array(2 ** bits * dim);
  const counts = new Uint16Array(2 ** bits);
  for (const [token, { w, v, count }] of Object.entries(tokens)) {
    const slot = encoder.slotOf(token);
    weights[slot] = w;
    factors.set(v, slot * dim);
    counts[slot] = count ?? 100;
  }
  return { ...base, weights, factors, counts, bias: -2, negative_sampling_rate: 1 };
}

describe('Scorer with pairwise (factorization machine) terms', () => {
  it('adds ⟨v_i, v_j⟩ for each pair of fields and splits it half to each partner in the explanation', () => {
    // Prepare
    const model = handMadeModel(['user', 'ad', 'site'], {
      'user=u1': { w: 0.5, v: [1, 2] },
      'ad=a1': { w: -0.25, v: [3, -1] },
      'site=s1': { w: 0, v: [0.5, 0.5] },
    });
    const pairUserAd = 1 * 3 + 2 * -1;
    const pairUserSite = 1 * 0.5 + 2 * 0.5;
    const pairAdSite = 3 * 0.5 + -1 * 0.5;

    // Act
    const { logit, explanation } = createScorer(model).score({ user: 'u1', ad: 'a1', site: 's1' }, { explain: true });

    // Assess
    expect(logit).toBeCloseTo(-2 + 0.5 - 0.25 + pairUserAd + pairUserSite + pairAdSite, 6);
    expect(explanation!.contributions.user).toBeCloseTo(0.5 + (pairUserAd + pairUserSite) / 2, 6);
    expect(explanation!.contributions.ad).toBeCloseTo(-0.25 + (pairUserAd + pairAdSite) / 2, 6);
    expect(explanation!.contributions.site).toBeCloseTo((pairUserSite + pairAdSite) / 2, 6);
    expect(explanation!.base_value).toBe(-2);
  });

  it('scores a value seen in fewer than min_count training rows as the rare token of its field', () => {
    // Prepare
    const model = handMadeModel(
      ['user', 'ad'],
      {
        'user=rare_user': { w: 5, v: [1, 1], count: 2 },
        'user#rare': { w: -0.7, v: [0, 0], count: 0 },
        'user=frequent_user': { w: 0.3, v: [0, 0], count: 3 },
      },
      { minCount: 3 },
    );
    const scorer = createScorer(model);

    // Act
    const rare = scorer.score({ user: 'rare_user', ad: 'x' }, { explain: true });
    const unseen = scorer.score({ user: 'never_seen', ad: 'x' }, { explain: true });
    const frequent = scorer.score({ user: 'frequent_user', ad: 'x' }, { explain: true });

    // Assess
    expect(rare.explanation!.contributions.user).toBeCloseTo(-0.7, 6);
    expect(unseen.explanation!.contributions.user).toBeCloseTo(-0.7, 6);
    expect(frequent.explanation!.contributions.user).toBeCloseTo(0.3, 6);
  });

  it('scores a version 1 artifact as bias + ln r + Σ token weights', async () => {
    // Prepare
    const dir = await tempDir();
    const fields = ['device_type', 'ad_id'];
    const encoder = new FeatureEncoder({ bits: 8, fields });
    const weights = Float32Array.from({ length: 256 }, (_, i) => Math.cos(i) / 2);
    await writeVersion1Artifact(dir, { bits: 8, fields, weights, bias: -3, negativeSamplingRate: 0.25 });

    // Act
    const scorer = await loadScorer(dir);
    const score = scorer.score({ device_type: 'mobile', ad_id: 'a9' }, { explain: true, uncertainty: true });

    // Assess
    const expected =
      -3 + Math.log(0.25) + weights[encoder.slotOf('device_type=mobile')]! + weights[encoder.slotOf('ad_id=a9')]!;
    expect(score.logit).toBeCloseTo(expected, 12);
    expect(score.uncertainty).toBeNull();
    expect(scorer.manifest.format_version).toBe(1);
  });
});

describe('Scorer.batch', () => {
  const AD_FIELDS = ['ad_id', 'campaign_id', 'position'];

  it('scores each candidate exactly like score({...shared, ...its candidate fields})', () => {
    fc.assert(
      fc.property(
        featureMap,
        fc.array(fc.dictionary(fc.constantFrom(...AD_FIELDS, 'site_id', 'other'), featureValue), { maxLength: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 8 }),
        (shared, candidates, seed, factorDim) => {
          // Prepare
          const scorer = createScorer(randomModel({ bits: 10, seed, fields: FIELDS, factorDim, minCount: 5 }));
          const batch = scorer.batch(AD_FIELDS);

          // Act
          const probabilities = batch.score(shared, candidates);

          // Assess
          expect(probabilities).toHaveLength(candidates.length);
          candidates.forEach((candidate, i) => {
            const own = Object.fromEntries(Object.entries(candidate).filter(([k]) => AD_FIELDS.includes(k)));
            const single = scorer.score({ ...shared, ...own }).probability;
            expect(Math.abs(probabilities[i]! - single)).toBeLessThanOrEqual(1e-12);
          });
        },
      ),
    );
  });

  it('reads only the model fields among the candidate fields from the candidates', () => {
    // Prepare
    const scorer = createScorer(randomModel({ fields: FIELDS }));

    // Act
    const batch = scorer.batch(['ad_id', 'not_a_model_field', 'campaign_id']);

    // Assess
    expect(batch.fields).toEqual(['ad_id', 'campaign_id']);
  });

  it('writes into a given buffer and refuses one that is too short', () => {
    // Prepare
    const batch = createScorer(randomModel({ fields: FIELDS })).batch(AD_FIELDS);
    const out = new Float64Array(3);

    // Act
    const result = batch.score({ device_type: 'mobile' }, [{ ad_id: 'a' }, { ad_id: 'b' }], out);

    // Assess
    expect(result).toBe(out);
    expect(() => batch.score({}, [{}, {}, {}, {}], out)).toThrow(/out holds 3 values for 4 candidates/);
  });
});

describe('Scorer uncertainty', () => {
  it('is higher for a request whose user and ad were never seen than for well-seen ones', () => {
    // Prepare
    const model = handMadeModel(['user', 'ad', 'site'], {
      'user=regular': { w: 0.1, v: [0, 0], count: 5000 },
      'ad=popular': { w: 0.1, v: [0, 0], count: 20000 },
      'site=s1': { w: 0, v: [0, 0], count: 60000 },
    });
    const scorer = createScorer(model);

    // Act
    const known = scorer.score({ user: 'regular', ad: 'popular', site: 's1' }, { uncertainty: true });
    const unknown = scorer.score({ user: 'new', ad: 'new', site: 's1' }, { uncertainty: true });

    // Assess
    expect(unknown.uncertainty!.logit_sd).toBeGreaterThan(known.uncertainty!.logit_sd * 3);
    expect(unknown.uncertainty!.evidence).toEqual({ user: 0, ad: 0, site: 60000 });
    expect(known.uncertainty!.evidence).toEqual({ user: 5000, ad: 20000, site: 60000 });
  });

  it('shrinks as the evidence of a value grows', () => {
    // Prepare
    const sds = [0, 10, 100, 1000, 10000].map((count) => {
      const model = handMadeModel(['ad'], { 'ad=a': { w: 0, v: [0, 0], count } });
      return createScorer(model).score({ ad: 'a' }, { uncertainty: true }).uncertainty!.logit_sd;
    });

    // Assess
    for (let i = 1; i < sds.length; i++) expect(sds[i]!).toBeLessThan(sds[i - 1]!);
    expect(sds[0]).toBeCloseTo(1, 12);
  });

  it("gives each field's own spread, whose squares add up to the logit's variance", () => {
    // Prepare: a known ad, an unseen site
    const model = handMadeModel(['ad', 'site'], { 'ad=a': { w: 0, v: [0, 0], count: 10000 } });

    // Act
    const u = createScorer(model).score({ ad: 'a', site: 'never' }, { uncertainty: true }).uncertainty!;

    // Assess
    expect(u.field_sd.site).toBeCloseTo(1, 12);
    expect(u.field_sd.ad).toBeLessThan(u.field_sd.site!);
    expect(u.field_sd.ad! ** 2 + u.field_sd.site! ** 2).toBeCloseTo(u.logit_sd ** 2, 12);
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
