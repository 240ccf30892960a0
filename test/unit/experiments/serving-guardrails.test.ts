import { describe, expect, it } from 'vitest';
import { fallbackGuardrail, latencyGuardrail } from '../../../lambdas/core/experiments/serving-guardrails.js';
import {
  DEFAULT_EXPERIMENT_POLICY,
  evaluateExperiment,
  type VariantCounts,
} from '../../../lambdas/core/experiments/statistics.js';

/** A calibrated arm with a flat log loss and the given serving figures. */
function arm(index: number, serving: Partial<VariantCounts> = {}, impressions = 20_000, clicks = 400): VariantCounts {
  return {
    variant: `exp-1:${index}`,
    model_id: `model-${index}`,
    impressions,
    clicks,
    sumPredicted: clicks,
    sumLogLoss: 0.1 * impressions,
    ...serving,
  };
}

const policy = DEFAULT_EXPERIMENT_POLICY;

describe('the fallback guardrail', () => {
  it('fails a variant whose fallback rate is shown to exceed the control’s by more than the margin', () => {
    // Prepare: control 10 / 2000 = 0.5 %, variant 100 / 2000 = 5 %, margin 1 point: excess 3.5 points.
    // Smoothed rates 10.5 / 2001 = 0.0052474 and 100.5 / 2001 = 0.0502249; V = 0.0502249 × 0.9497751
    // / 2000 + 0.0052474 × 0.9947526 / 2000 = 2.64611e-5; τ² = 0.02² = 4e-4;
    // ln Λ = ½ ln(2.64611e-5 / 4.264611e-4) + 4e-4 × 0.035² / (2 × 2.64611e-5 × 4.264611e-4)
    //      = −1.38991 + 21.71094 = 20.32103, p = e^−20.32103 = 1.4952e-9.
    const control = arm(0, { predictions: 2_000, fallbacks: 10 });
    const variant = arm(1, { predictions: 2_000, fallbacks: 100 });

    // Act
    const guardrail = fallbackGuardrail(control, variant, policy, 1);

    // Assess
    expect(guardrail.passed).toBe(false);
    expect(guardrail.detail).toContain('fallback rate 5.00 % (100 of 2000 predictions) vs control 0.50 % (10 of 2000)');
    expect(guardrail.detail).toContain('p = 1.5e-9');
  });

  it('tolerates a fallback rate above the control’s by less than the margin, however much data', () => {
    // Prepare: 1.25 % vs 0.5 %: 0.75 points, under the 1-point margin (estimate −0.0025).
    const control = arm(0, { predictions: 2_000_000, fallbacks: 10_000 });
    const variant = arm(1, { predictions: 2_000_000, fallbacks: 25_000 });

    // Act
    const guardrail = fallbackGuardrail(control, variant, policy, 1);

    // Assess
    expect(guardrail).toMatchObject({ name: 'fallback', passed: true });
  });

  it('does not fail on a handful of fallbacks: 6 of 200 against none gives p = 0.80', () => {
    // Prepare: excess 3 % − 0 − 1 % = 0.02; V = 0.0323383 × 0.9676617 / 200 + 0.0024876 × 0.9975124 / 200
    // = 1.68870e-4; ln Λ = ½ ln(1.68870e-4 / 5.68870e-4) + 4e-4 × 4e-4 / (2 × 1.68870e-4 × 5.68870e-4)
    // = −0.60722 + 0.83273 = 0.22551, p = 0.79811.
    const control = arm(0, { predictions: 200, fallbacks: 0 });
    const variant = arm(1, { predictions: 200, fallbacks: 6 });

    // Act
    const guardrail = fallbackGuardrail(control, variant, policy, 1);

    // Assess
    expect(guardrail.passed).toBe(true);
    expect(guardrail.detail).toContain('p = 0.80');
  });

  it('passes with a note while either arm has no predictions', () => {
    // Act
    const guardrail = fallbackGuardrail(arm(0), arm(1, { predictions: 100, fallbacks: 100 }), policy, 1);

    // Assess
    expect(guardrail).toEqual({
      name: 'fallback',
      passed: true,
      detail: 'no predictions yet to compare fallback rates',
    });
  });
});

describe('the latency guardrail', () => {
  const timed = (p99: number, n = 5_000): Partial<VariantCounts> => ({
    predictions: n,
    latencyPredictions: n,
    latencyP99Ms: p99,
  });

  it('fails a p99 above the control’s × 1.25 + 5 ms, and passes one at that limit', () => {
    // Prepare: control p99 40 ms: the limit is 40 × 1.25 + 5 = 55 ms.
    const control = arm(0, timed(40));

    // Act
    const above = latencyGuardrail(control, arm(1, timed(55.5)), policy);
    const at = latencyGuardrail(control, arm(1, timed(55)), policy);

    // Assess
    expect(above).toEqual({
      name: 'latency',
      passed: false,
      detail: 'p99 model latency 55.5 ms vs control 40.0 ms, above the limit 55.0 ms (control × 1.25 + 5 ms)',
    });
    expect(at.passed).toBe(true);
  });

  it('ignores sub-millisecond differences of an in-process model through the absolute slack', () => {
    // Act: three times slower, but 0.3 ms against 0.1 ms.
    const guardrail = latencyGuardrail(arm(0, timed(0.1)), arm(1, timed(0.3)), policy);

    // Assess
    expect(guardrail.passed).toBe(true);
  });

  it('does not compare before both arms have the minimum of timed predictions', () => {
    // Act: the variant is far slower but has 1999 timed predictions of the 2000 needed.
    const guardrail = latencyGuardrail(arm(0, timed(40)), arm(1, timed(400, 1_999)), policy);

    // Assess
    expect(guardrail).toMatchObject({ passed: true, detail: expect.stringContaining('too few') });
  });
});

describe('serving guardrails in the decision', () => {
  it('stops an experiment whose variant is slower in the tail, even with a higher CTR', () => {
    // Prepare: a significant CTR win (2 % to 3 % on 20 000 impressions each) but a p99 of 80 ms
    // against 40 ms.
    const counts = [
      arm(0, { predictions: 5_000, latencyPredictions: 5_000, latencyP99Ms: 40 }),
      arm(1, { predictions: 5_000, latencyPredictions: 5_000, latencyP99Ms: 80 }, 20_000, 600),
    ];

    // Act
    const evaluation = evaluateExperiment(counts);

    // Assess
    expect(evaluation.decision).toBe('stop');
    expect(evaluation.winner).toBeNull();
    expect(evaluation.reasons[0]).toMatch(/^exp-1:1 fails its latency guardrail: p99 model latency 80\.0 ms/);
    expect(evaluation.variants[1]).toMatchObject({ predictions: 5_000, fallback_rate: 0, latency_p99_ms: 80 });
  });

  it('reports the fallback and latency guardrails of every variant, passing without serving figures', () => {
    // Act
    const evaluation = evaluateExperiment([arm(0), arm(1)]);

    // Assess
    expect(evaluation.variants[1]!.guardrails.map((g) => [g.name, g.passed])).toEqual([
      ['min_impressions', true],
      ['calibration', true],
      ['logloss', true],
      ['fallback', true],
      ['latency', true],
    ]);
    expect(evaluation.variants[1]).toMatchObject({ predictions: 0, fallback_rate: null, latency_p99_ms: null });
  });

  it('refuses more fallbacks than predictions', () => {
    // Act
    const act = () => evaluateExperiment([arm(0), arm(1, { predictions: 10, fallbacks: 11 })]);

    // Assess
    expect(act).toThrow(RangeError);
  });
});
