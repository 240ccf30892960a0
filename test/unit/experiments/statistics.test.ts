import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateExperiment, type VariantCounts } from '../../../lambdas/core/experiments/statistics.js';

/** Counts of a perfectly calibrated arm with a flat log loss, unless told otherwise. */
function arm(index: number, impressions: number, clicks: number, extra: Partial<VariantCounts> = {}): VariantCounts {
  return {
    variant: `exp-1:${index}`,
    model_id: `model-${index}`,
    impressions,
    clicks,
    sumPredicted: clicks,
    sumLogLoss: 0.1 * impressions,
    ...extra,
  };
}

/** The entropy (nats) of a click label at this CTR. */
const entropy = (p: number) => -p * Math.log(p) - (1 - p) * Math.log(1 - p);

function challenger(evaluation: ReturnType<typeof evaluateExperiment>, index = 1) {
  const result = evaluation.variants[index];
  if (!result) throw new Error(`no variant ${index}`);
  return result;
}

describe('per-variant figures', () => {
  it('computes CTR, online log loss and calibration from the sums', () => {
    // Prepare: 0.1 log loss per impression would be 1000; 1100 / 10 000 = 0.11. Calibration:
    // 250 predicted clicks over 200 observed = 1.25.
    const counts = [arm(0, 10_000, 200, { sumLogLoss: 1100, sumPredicted: 250 }), arm(1, 10_000, 260)];

    // Act
    const control = evaluateExperiment(counts).variants[0];

    // Assess
    expect(control).toMatchObject({ control: true, ctr: 0.02, lift: null, p_value: null, guardrails: [] });
    expect(control?.logloss).toBeCloseTo(0.11, 12);
    expect(control?.calibration).toBeCloseTo(1.25, 12);
  });

  it('matches the hand-computed lift, interval and always-valid p-value', () => {
    // Prepare: control 200 / 10 000 = 2 %, variant 260 / 10 000 = 2.6 %.
    // Lift: 2.6 / 2 − 1 = 0.3. Var ln(ratio) = 1/260 − 1/10 000 + 1/200 − 1/10 000 = 0.00864615,
    // se = 0.0929847; ln 1.3 = 0.262364; bounds exp(0.262364 ∓ 1.959964 × 0.0929847) − 1
    // = exp(0.080117) − 1 = 0.083414 and exp(0.444611) − 1 = 0.559883.
    // mSPRT: pooled p̄ = 460 / 20 000 = 0.023, V = 0.023 × 0.977 × (2 / 10 000) = 4.4942e-6,
    // θ̂ = 0.006, τ² = (0.1 × 0.023)² = 5.29e-6, V + τ² = 9.7842e-6:
    // Λ = sqrt(4.4942 / 9.7842) × exp(5.29e-6 × 3.6e-5 / (2 × 4.4942e-6 × 9.7842e-6))
    //   = 0.677737 × exp(2.165469) = 5.908966, p = 1 / Λ = 0.169234.
    const counts = [arm(0, 10_000, 200), arm(1, 10_000, 260)];

    // Act
    const result = challenger(evaluateExperiment(counts));

    // Assess
    expect(result.ctr).toBeCloseTo(0.026, 12);
    expect(result.lift?.estimate).toBeCloseTo(0.3, 10);
    expect(result.lift?.lower).toBeCloseTo(0.083414, 6);
    expect(result.lift?.upper).toBeCloseTo(0.559883, 6);
    expect(result.p_value).toBeCloseTo(0.169234, 6);
  });

  it('uses the mixing variance it is given', () => {
    // Prepare: as above with τ² = 1e-5: V + τ² = 1.44942e-5,
    // Λ = sqrt(4.4942e-6 / 1.44942e-5) × exp(1e-5 × 3.6e-5 / (2 × 4.4942e-6 × 1.44942e-5))
    //   = 0.556838 × exp(2.763286) = 8.826916, p = 0.113290.
    const counts = [arm(0, 10_000, 200), arm(1, 10_000, 260)];

    // Act
    const result = challenger(evaluateExperiment(counts, { mixingVariance: 1e-5 }));

    // Assess
    expect(result.p_value).toBeCloseTo(1 / 8.826916, 6);
  });

  it('multiplies the p-value by the number of challengers (Bonferroni)', () => {
    // Prepare: the same challenger alone and next to a second one.
    const alone = [arm(0, 10_000, 200), arm(1, 10_000, 260)];
    const withSibling = [...alone, arm(2, 10_000, 200)];

    // Act
    const single = challenger(evaluateExperiment(alone)).p_value ?? Number.NaN;
    const corrected = challenger(evaluateExperiment(withSibling)).p_value ?? Number.NaN;

    // Assess
    expect(corrected).toBeCloseTo(2 * single, 12);
    expect(challenger(evaluateExperiment(withSibling), 2).p_value).toBe(1);
  });
});

describe('edge cases', () => {
  it('gives a finite lift with the Haldane-Anscombe correction when the control has no clicks', () => {
    // Prepare: control 0 / 1000, variant 5 / 1000 → 0.5 / 1001 and 5.5 / 1001: ratio 11, lift 10.
    // Var = 1/5.5 − 1/1001 + 1/0.5 − 1/1001 = 2.179820, se = 1.476421; ln 11 = 2.397895;
    // bounds exp(2.397895 ∓ 2.893733) − 1 = −0.390939 and 197.666604.
    const counts = [arm(0, 1000, 0), arm(1, 1000, 5)];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    const result = challenger(evaluation);
    expect(evaluation.variants[0]?.calibration).toBeNull();
    expect(result.lift?.estimate).toBeCloseTo(10, 10);
    expect(result.lift?.lower).toBeCloseTo(-0.390939, 6);
    expect(result.lift?.upper).toBeCloseTo(197.666604, 4);
    expect(result.p_value).toBeGreaterThan(0.9);
    expect(evaluation.decision).toBe('keep_running');
  });

  it('reports no difference and p = 1 when neither arm has clicks', () => {
    // Prepare: 0.5 / 1001 on both sides: lift 0, Var = 2 × (2 − 1/1001) = 3.998002, se = 1.999500,
    // bounds exp(∓3.918948) − 1 = −0.980138 and 49.347494.
    const counts = [arm(0, 1000, 0), arm(1, 1000, 0)];

    // Act
    const result = challenger(evaluateExperiment(counts));

    // Assess
    expect(result.lift?.estimate).toBeCloseTo(0, 12);
    expect(result.lift?.lower).toBeCloseTo(-0.980138, 6);
    expect(result.lift?.upper).toBeCloseTo(49.347494, 5);
    expect(result.p_value).toBe(1);
    expect(result.calibration).toBeNull();
  });

  it('leaves every ratio null when an arm has no impressions', () => {
    // Prepare
    const counts = [arm(0, 5000, 100), arm(1, 0, 0, { sumLogLoss: 0 })];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(challenger(evaluation)).toMatchObject({
      ctr: null,
      logloss: null,
      calibration: null,
      lift: null,
      p_value: null,
    });
    expect(evaluation.decision).toBe('keep_running');
    expect(evaluation.reasons.join(' ')).toContain('0 of the 1000 impressions');
  });

  it('keeps running with a reason when there is no variant or only the control', () => {
    // Act
    const empty = evaluateExperiment([]);
    const alone = evaluateExperiment([arm(0, 5000, 100)]);

    // Assess
    expect(empty).toMatchObject({ control: null, decision: 'keep_running', winner: null });
    expect(alone).toMatchObject({ control: 'exp-1:0', decision: 'keep_running' });
    expect(alone.reasons.join(' ')).toContain('nothing to compare');
  });

  it('rejects counts that cannot be, such as more clicks than impressions', () => {
    expect(() => evaluateExperiment([arm(0, 10, 11)])).toThrow(RangeError);
    expect(() => evaluateExperiment([arm(0, 10, 1, { sumPredicted: -1 })])).toThrow(RangeError);
    expect(() => evaluateExperiment([arm(0, 10.5, 1)])).toThrow(RangeError);
  });
});

describe('decision', () => {
  it('promotes a variant whose CTR is significantly higher and that passes its guardrails', () => {
    // Prepare: 2 % against 2.6 % over 40 000 impressions each: p ≈ 4e-6.
    const counts = [arm(0, 40_000, 800), arm(1, 40_000, 1040)];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation).toMatchObject({ decision: 'promote', winner: 'exp-1:1' });
    expect(challenger(evaluation).lift?.lower).toBeGreaterThan(0);
    expect(challenger(evaluation).guardrails.every((g) => g.passed)).toBe(true);
  });

  it('keeps running and estimates the impressions still needed while the difference is not significant', () => {
    // Prepare: the hand-computed example, p = 0.17.
    const counts = [arm(0, 10_000, 200), arm(1, 10_000, 260)];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation).toMatchObject({ decision: 'keep_running', winner: null });
    const needed = Number(/about (\d+) more impressions per variant/.exec(evaluation.reasons.join(' '))?.[1]);
    // Both arms scaled by the estimated growth must reach significance, and by 3 % less must
    // not (the estimate is within 1 %). Scales are multiples of 0.05 so that 200 and 260 clicks
    // scale to whole numbers and the observed CTRs stay exactly 2 % and 2.6 %.
    const scaled = (s: number) =>
      evaluateExperiment([arm(0, 10_000 * s, 200 * s), arm(1, 10_000 * s, 260 * s)]).variants[1]?.p_value ?? 1;
    const growth = 1 + needed / 10_000;
    expect(needed).toBeGreaterThan(0);
    expect(scaled(Math.ceil(growth * 20) / 20)).toBeLessThanOrEqual(0.05);
    expect(scaled(Math.floor(growth * 0.97 * 20) / 20)).toBeGreaterThan(0.05);
  });

  it('stops when the variant has a significantly lower CTR', () => {
    // Prepare: the promote example mirrored, each arm's log loss at the same normalised entropy (0.9).
    const counts = [
      arm(0, 40_000, 1040, { sumLogLoss: 0.9 * entropy(1040 / 40_000) * 40_000 }),
      arm(1, 40_000, 800, { sumLogLoss: 0.9 * entropy(800 / 40_000) * 40_000 }),
    ];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation).toMatchObject({ decision: 'stop', winner: null });
    expect(evaluation.reasons.join(' ')).toContain('significantly lower CTR');
  });

  it('stops when the variant is clearly miscalibrated, even with a higher CTR', () => {
    // Prepare: 1040 clicks but 1560 predicted: calibration 1.5, interval about [1.41, 1.59].
    const counts = [arm(0, 40_000, 800), arm(1, 40_000, 1040, { sumPredicted: 1560 })];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation).toMatchObject({ decision: 'stop', winner: null });
    const calibration = challenger(evaluation).guardrails.find((g) => g.name === 'calibration');
    expect(calibration?.passed).toBe(false);
  });

  it('does not fail the calibration guardrail on a few clicks', () => {
    // Prepare: calibration 1.5 from 10 clicks: the interval reaches down below 1.2.
    const counts = [arm(0, 2000, 10), arm(1, 2000, 10, { sumPredicted: 15 })];

    // Act
    const calibration = challenger(evaluateExperiment(counts)).guardrails.find((g) => g.name === 'calibration');

    // Assess
    expect(calibration?.passed).toBe(true);
  });

  it('stops when the variant’s log loss is clearly worse than the control’s beyond the margin', () => {
    // Prepare: same CTR, log loss 0.12 against 0.10 (+20 %) over 40 000 impressions each.
    const counts = [arm(0, 40_000, 800), arm(1, 40_000, 800, { sumLogLoss: 0.12 * 40_000 })];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation.decision).toBe('stop');
    expect(challenger(evaluation).guardrails.find((g) => g.name === 'logloss')?.passed).toBe(false);
  });

  it('tolerates a log loss worse by less than the margin', () => {
    // Prepare: +1 % with a 2 % margin, on a large sample.
    const counts = [arm(0, 400_000, 8000), arm(1, 400_000, 8000, { sumLogLoss: 0.101 * 400_000 })];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(challenger(evaluation).guardrails.find((g) => g.name === 'logloss')?.passed).toBe(true);
    expect(evaluation.decision).toBe('keep_running');
  });

  it('judges log loss normalised by each arm’s own click entropy, so choosing higher-CTR ads is no harm', () => {
    // Prepare: the demo's case. The challenger picks ads with a 7.4 % CTR, the control 5.0 %; raw
    // log loss 0.250 vs 0.193 (+29 %) only reflects the labels' entropy (0.264 vs 0.199): NE 0.948
    // vs 0.974, the challenger is the better model.
    const counts = [
      arm(0, 40_000, 2000, { sumLogLoss: 0.1934 * 40_000 }),
      arm(1, 40_000, 2960, { sumLogLoss: 0.2501 * 40_000 }),
    ];

    // Act
    const logloss = challenger(evaluateExperiment(counts)).guardrails.find((g) => g.name === 'logloss');

    // Assess
    expect(logloss?.passed).toBe(true);
    expect(logloss?.detail).toMatch(/^normalised entropy 0\.94\d\d vs control 0\.97\d\d/);
  });

  it('fails the log loss guardrail on a worse normalised entropy at the same CTR', () => {
    // Prepare: same 2 % CTR, NE 0.98 against 0.90 over 400 000 impressions each.
    const h = entropy(0.02);
    const counts = [
      arm(0, 400_000, 8000, { sumLogLoss: 0.9 * h * 400_000 }),
      arm(1, 400_000, 8000, { sumLogLoss: 0.98 * h * 400_000 }),
    ];

    // Act
    const logloss = challenger(evaluateExperiment(counts)).guardrails.find((g) => g.name === 'logloss');

    // Assess
    expect(logloss?.passed).toBe(false);
  });

  it('waits for the minimum impressions before acting on a large effect', () => {
    // Prepare: the promote example below a minimum raised to 50 000.
    const counts = [arm(0, 40_000, 800), arm(1, 40_000, 1040)];
    const policy = { minImpressionsPerVariant: 50_000 };

    // Act
    const evaluation = evaluateExperiment(counts, policy);

    // Assess
    expect(evaluation.decision).toBe('keep_running');
    expect(challenger(evaluation).guardrails.find((g) => g.name === 'min_impressions')?.passed).toBe(false);
    expect(evaluation.reasons.join(' ')).toContain('40000 of the 50000 impressions');
  });

  it('promotes the best winner among several and says the harmful one ends too', () => {
    // Prepare: variant 1 wins a little, variant 2 wins more, variant 3 loses.
    const counts = [arm(0, 40_000, 800), arm(1, 40_000, 1000), arm(2, 40_000, 1100), arm(3, 40_000, 600)];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation).toMatchObject({ decision: 'promote', winner: 'exp-1:2' });
    expect(evaluation.reasons.join(' ')).toContain('also ends the harmful exp-1:3');
  });
});

/** Mulberry32: a small seeded generator, so that the simulation is the same on every run. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function binomial(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

describe('sequential validity', () => {
  it('rejects a true null at most about alpha of the time when looked at after every batch', () => {
    // 200 A/A experiments of 50 looks each, 200 impressions per arm per look. A fixed-sample
    // z-test read at every look is run on the same data: it must reject far more often, which
    // shows that the simulation can tell a valid sequential test from peeking.
    const experiments = 200;
    const looks = 50;
    const batch = 200;
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.1, noNaN: true }), fc.nat(), (ctr, seed) => {
        const random = generator(seed);
        let sequential = 0;
        let peeking = 0;
        for (let e = 0; e < experiments; e++) {
          let n = 0;
          let x0 = 0;
          let x1 = 0;
          let rejected = false;
          let peeked = false;
          for (let look = 0; look < looks && !(rejected && peeked); look++) {
            n += batch;
            x0 += binomial(random, batch, ctr);
            x1 += binomial(random, batch, ctr);
            const p = challenger(
              evaluateExperiment([arm(0, n, x0), arm(1, n, x1)], { minImpressionsPerVariant: 0 }),
            ).p_value;
            if (p !== null && p <= 0.05) rejected = true;
            const pooled = (x0 + x1) / (2 * n);
            const z = (x1 - x0) / n / Math.sqrt((pooled * (1 - pooled) * 2) / n);
            if (Math.abs(z) >= 1.959964) peeked = true;
          }
          if (rejected) sequential++;
          if (peeked) peeking++;
        }
        // 0.05 plus about two standard errors of a rate over 200 experiments (0.015 each).
        expect(sequential / experiments).toBeLessThanOrEqual(0.08);
        expect(peeking / experiments).toBeGreaterThan(0.15);
      }),
      { seed: 20_240_606, numRuns: 3 },
    );
  });
});
