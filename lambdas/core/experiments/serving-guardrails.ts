/**
 * The serving guardrails of an experiment: a variant must not fall back to its fallback model more
 * often than the control, nor answer slower in the tail. Pure arithmetic, no I/O. Rules, defaults
 * and their reasons: docs/experiments.md, "Guardrails".
 */
import { msprtPValue } from './msprt.js';

/**
 * Serving figures of a variant over every prediction it made in the window (shown or not).
 * Optional: without them the fallback and latency guardrails have no data and pass.
 */
export interface ServingCounts {
  readonly predictions?: number;
  /** Of those, the ones a fallback model served. */
  readonly fallbacks?: number;
  /** Of those, the ones with a measured model latency (a cached score has none). */
  readonly latencyPredictions?: number;
  /** 99th percentile of the model latency over those, in milliseconds. */
  readonly latencyP99Ms?: number | null;
}

export interface ServingPolicy {
  /** Family-wise false-positive rate, as for the other tests. */
  readonly alpha: number;
  /**
   * A variant fails its fallback guardrail when its fallback rate is shown (sequential test at the
   * corrected alpha) to exceed the control's by more than this many points (default 0.01, one
   * percentage point).
   */
  readonly fallbackMargin: number;
  /**
   * A variant fails its latency guardrail when its p99 model latency exceeds the control's
   * × (1 + latencyMargin) + latencySlackMs: this is the relative part (default 0.25)...
   */
  readonly latencyMargin: number;
  /** ...and this the absolute one (default 5 ms, so that sub-millisecond in-process differences never count). */
  readonly latencySlackMs: number;
  /** Timed predictions both arms need before latency is compared (default 2000: twenty beyond the p99). */
  readonly latencyMinPredictions: number;
}

export interface ServingGuardrail {
  readonly name: 'fallback' | 'latency';
  readonly passed: boolean;
  readonly detail: string;
}

/**
 * τ of the fallback test, in fallback-rate points: the test detects excesses of about two points
 * quickest. A variant that is worse at all usually is by more (an endpoint variant failing for a
 * few per cent of calls), and a τ of the margin's size would need several times the data for those.
 */
export const FALLBACK_MIXING_SD = 0.02;

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** Binomial variance per observation with the (x + ½)/(n + 1) correction: an arm with no fallbacks is not exact. */
function smoothedVariance(x: number, n: number): number {
  const f = (x + 0.5) / (n + 1);
  return (f * (1 - f)) / n;
}

/**
 * Harm, not a difference, is tested, as for the log loss: the estimate is f₁ − f₀ − δ (δ the
 * absolute `fallbackMargin`) with the unpooled variance of the two proportions (pooling assumes
 * equal rates, which a margin denies), and the guardrail fails when the always-valid mSPRT rejects
 * at the corrected alpha with a positive estimate. Sequential like every other test here, so it
 * may be read at every look.
 */
export function fallbackGuardrail(
  control: ServingCounts,
  variant: ServingCounts,
  policy: ServingPolicy,
  k: number,
): ServingGuardrail {
  const n0 = control.predictions ?? 0;
  const n1 = variant.predictions ?? 0;
  if (n0 === 0 || n1 === 0) {
    return { name: 'fallback', passed: true, detail: 'no predictions yet to compare fallback rates' };
  }
  const x0 = control.fallbacks ?? 0;
  const x1 = variant.fallbacks ?? 0;
  const margin = policy.fallbackMargin;
  const f0 = x0 / n0;
  const f1 = x1 / n1;
  const excess = f1 - f0 - margin;
  const variance = smoothedVariance(x1, n1) + smoothedVariance(x0, n0);
  const p = Math.min(1, k * msprtPValue(excess, variance, FALLBACK_MIXING_SD ** 2));
  const detail = `fallback rate ${pct(f1)} (${x1} of ${n1} predictions) vs control ${pct(f0)} (${x0} of ${n0}), margin ${pct(margin)}, always-valid p = ${p.toPrecision(2)} against an excess beyond the margin`;
  return { name: 'fallback', passed: !(excess > 0 && p <= policy.alpha), detail };
}

/**
 * The 99th percentile of the model call's latency must not exceed the control's by more than
 * `latencyMargin` (relative) plus `latencySlackMs` (absolute): p99₁ ≤ p99₀ (1 + m) + s. A point
 * comparison, once both arms have `latencyMinPredictions` timed predictions; the slack keeps
 * sub-millisecond differences (an in-process model) from counting, the minimum keeps the tail
 * estimate resting on at least twenty predictions beyond it.
 */
export function latencyGuardrail(
  control: ServingCounts,
  variant: ServingCounts,
  policy: ServingPolicy,
): ServingGuardrail {
  const min = policy.latencyMinPredictions;
  const n0 = control.latencyPredictions ?? 0;
  const n1 = variant.latencyPredictions ?? 0;
  const p0 = control.latencyP99Ms ?? null;
  const p1 = variant.latencyP99Ms ?? null;
  if (p0 === null || p1 === null || n0 < min || n1 < min) {
    return {
      name: 'latency',
      passed: true,
      detail: `${n1} timed predictions vs control ${n0}: too few to compare p99 latency (${min} each needed)`,
    };
  }
  const limit = p0 * (1 + policy.latencyMargin) + policy.latencySlackMs;
  const passed = p1 <= limit;
  const detail = `p99 model latency ${p1.toFixed(1)} ms vs control ${p0.toFixed(1)} ms, ${passed ? 'within' : 'above'} the limit ${limit.toFixed(1)} ms (control × ${1 + policy.latencyMargin} + ${policy.latencySlackMs} ms)`;
  return { name: 'latency', passed, detail };
}
