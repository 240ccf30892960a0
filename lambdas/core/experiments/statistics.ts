/**
 * A/B experiment statistics: per-variant counts in, per-variant results and a decision out.
 * Pure arithmetic, no I/O. Formulas, defaults and references: docs/experiments.md, "Statistics".
 *
 * The first variant (index 0) is the control, by convention the champion; every other variant is
 * compared with it alone.
 */
import { type Interval, poissonBounds, relativeLift } from './intervals.js';
import { msprtGrowthToSignificance, msprtPValue } from './msprt.js';
import {
  fallbackGuardrail,
  latencyGuardrail,
  type ServingCounts,
  type ServingGuardrail,
  type ServingPolicy,
} from './serving-guardrails.js';

export interface VariantCounts extends ServingCounts {
  /** `'<experiment_id>:<index>'`; index 0 is the control. */
  readonly variant: string;
  readonly model_id: string;
  /** Counted (de-duplicated, fraud-excluded) impressions that followed a prediction of this variant. */
  readonly impressions: number;
  readonly clicks: number;
  /** Sum of the served probabilities over those impressions. */
  readonly sumPredicted: number;
  /** Sum of per-impression log loss, p clipped to [1e-15, 1 - 1e-15] as sagemaker/model/metrics.ts. */
  readonly sumLogLoss: number;
  /**
   * Sum of the squared per-impression log losses, for the log-loss guardrail's variance. Optional:
   * without it the variance is that of a constant prediction at the arm's CTR (see loglossVariance).
   */
  readonly sumSquaredLogLoss?: number;
}

export interface ExperimentPolicy extends ServingPolicy {
  /** Family-wise false-positive rate (default 0.05), split evenly over the non-control variants (Bonferroni). */
  readonly alpha: number;
  /**
   * Impressions that a variant and the control must both have before the experiment may promote or
   * stop (default 1000): below that the normal approximation behind the test is poor.
   */
  readonly minImpressionsPerVariant: number;
  /** A variant fails its calibration guardrail when its whole 95 % interval lies outside this band (default [0.8, 1.2]). */
  readonly calibrationBand: readonly [number, number];
  /**
   * A variant fails its log-loss guardrail when its online log loss is shown (sequential test at
   * the corrected alpha) to be above the control's × (1 + margin) (default 0.02).
   */
  readonly loglossMargin: number;
  /**
   * τ², the variance of the normal mixing distribution of the mSPRT on the CTR difference. Null
   * (default) derives it from the data: τ = mixingRelativeEffect × the pooled CTR.
   */
  readonly mixingVariance: number | null;
  /**
   * The relative effect the tests are tuned to detect quickest (default 0.1, a 10 % lift: a 2 %
   * CTR moving to 2.2 %): τ of the CTR test when mixingVariance is null, and τ of the log-loss
   * guardrail (× the control's log loss). Larger values find large effects sooner and small ones
   * later; far larger effects than τ still get detected, with more data than a tuned τ would need.
   */
  readonly mixingRelativeEffect: number;
}

export const DEFAULT_EXPERIMENT_POLICY: ExperimentPolicy = {
  alpha: 0.05,
  minImpressionsPerVariant: 1000,
  calibrationBand: [0.8, 1.2],
  loglossMargin: 0.02,
  mixingVariance: null,
  mixingRelativeEffect: 0.1,
  fallbackMargin: 0.01,
  latencyMargin: 0.25,
  latencySlackMs: 5,
  latencyMinPredictions: 2000,
};

export interface Guardrail {
  readonly name: 'min_impressions' | 'calibration' | 'logloss' | ServingGuardrail['name'];
  readonly passed: boolean;
  readonly detail: string;
}

export interface VariantResult {
  readonly variant: string;
  readonly model_id: string;
  readonly control: boolean;
  readonly impressions: number;
  readonly clicks: number;
  readonly ctr: number | null;
  readonly logloss: number | null;
  /** Mean predicted / observed CTR (sumPredicted / clicks); null without clicks. */
  readonly calibration: number | null;
  /** Predictions made in the window (shown or not); 0 when unknown. */
  readonly predictions: number;
  /** Share of those a fallback model served; null without predictions. */
  readonly fallback_rate: number | null;
  /** 99th percentile of the model call's latency in milliseconds; null when none was timed. */
  readonly latency_p99_ms: number | null;
  /** Relative CTR lift vs control with its 95 % CI; null for the control or with too little data. */
  readonly lift: { readonly estimate: number; readonly lower: number; readonly upper: number } | null;
  /**
   * Always-valid p-value of "same CTR as the control" at this look, min(1, k/Λ) for k non-control
   * variants (Bonferroni applied: compare with alpha itself). It is the current value, not the
   * running minimum over past looks; see evaluateExperiment for why that keeps the error rate.
   */
  readonly p_value: number | null;
  readonly guardrails: Guardrail[];
}

export interface ExperimentEvaluation {
  readonly control: string | null;
  readonly variants: VariantResult[];
  readonly decision: 'keep_running' | 'promote' | 'stop';
  /** The variant to promote when decision = promote. */
  readonly winner: string | null;
  /** Plain sentences an MLOps engineer reads. */
  readonly reasons: string[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;

function validate(c: VariantCounts): void {
  const whole = (x: number) => Number.isInteger(x) && x >= 0;
  if (!whole(c.impressions) || !whole(c.clicks) || c.clicks > c.impressions) {
    throw new RangeError(`${c.variant}: impressions and clicks must be whole, 0 ≤ clicks ≤ impressions`);
  }
  if (!(c.sumPredicted >= 0 && c.sumPredicted <= c.impressions) || !(c.sumLogLoss >= 0)) {
    throw new RangeError(`${c.variant}: sumPredicted must be in [0, impressions] and sumLogLoss ≥ 0`);
  }
  const predictions = c.predictions ?? 0;
  if (
    !whole(predictions) ||
    !whole(c.fallbacks ?? 0) ||
    (c.fallbacks ?? 0) > predictions ||
    !whole(c.latencyPredictions ?? 0) ||
    (c.latencyPredictions ?? 0) > predictions
  ) {
    throw new RangeError(`${c.variant}: fallbacks and timed predictions must be whole and at most the predictions`);
  }
}

/**
 * Per-impression variance of the log loss. With the sum of squares it is the sample variance;
 * without it, that of a model predicting the arm's CTR p everywhere: the loss is −ln p with
 * probability p and −ln(1 − p) otherwise, so the variance is p (1 − p) ln²((1 − p)/p). Clicks
 * dominate both, and a sharper model's variance is of the same order.
 */
function loglossVariance(c: VariantCounts): number {
  const n = c.impressions;
  if (c.sumSquaredLogLoss !== undefined && n > 1) {
    const mean = c.sumLogLoss / n;
    return Math.max(0, (c.sumSquaredLogLoss - n * mean * mean) / (n - 1));
  }
  const p = (c.clicks + 0.5) / (n + 1);
  return p * (1 - p) * Math.log((1 - p) / p) ** 2;
}

interface Comparison {
  readonly lift: Interval | null;
  readonly pValue: number | null;
  /** Sample growth factor for the p-value to reach alpha if the observed difference held. */
  readonly growth: number | null;
  readonly difference: number;
}

/**
 * The CTR test. The estimate is the difference of the CTRs, its variance the pooled one
 * p̄ (1 − p̄)(1/n0 + 1/n1): under the null both arms share one CTR, and pooling keeps a near-empty
 * arm from looking precise (an arm with no clicks has an unpooled variance of 0).
 */
function compareCtr(control: VariantCounts, variant: VariantCounts, policy: ExperimentPolicy, k: number): Comparison {
  const lift = relativeLift(control.clicks, control.impressions, variant.clicks, variant.impressions);
  if (control.impressions === 0 || variant.impressions === 0) {
    return { lift, pValue: null, growth: null, difference: 0 };
  }
  const difference = variant.clicks / variant.impressions - control.clicks / control.impressions;
  const pooled = (control.clicks + variant.clicks) / (control.impressions + variant.impressions);
  const variance = pooled * (1 - pooled) * (1 / control.impressions + 1 / variant.impressions);
  const tau2 = policy.mixingVariance ?? (policy.mixingRelativeEffect * pooled) ** 2;
  const pValue = Math.min(1, k * msprtPValue(difference, variance, tau2));
  const growth = msprtGrowthToSignificance(difference, variance, tau2, policy.alpha / k);
  return { lift, pValue, growth, difference };
}

function calibrationGuardrail(c: VariantCounts, band: readonly [number, number]): Guardrail {
  const [low, high] = band;
  const range = `[${low}, ${high}]`;
  if (c.impressions === 0) return { name: 'calibration', passed: true, detail: 'no impressions yet' };
  // Clicks are a Poisson count around sumPredicted / calibration; the predictions' sum is known
  // almost exactly, so the interval of the calibration is that of the click count, inverted.
  const clicks = poissonBounds(c.clicks);
  const lower = c.sumPredicted / clicks.upper;
  const upper = clicks.lower > 0 ? c.sumPredicted / clicks.lower : Number.POSITIVE_INFINITY;
  const shown = c.clicks > 0 ? (c.sumPredicted / c.clicks).toFixed(3) : 'undefined (no clicks)';
  const interval = `95 % interval [${lower.toFixed(3)}, ${Number.isFinite(upper) ? upper.toFixed(3) : '∞'}]`;
  if (lower > high || upper < low) {
    return { name: 'calibration', passed: false, detail: `calibration ${shown}, ${interval}, is outside ${range}` };
  }
  return {
    name: 'calibration',
    passed: true,
    detail: `calibration ${shown}, ${interval}, is compatible with ${range}`,
  };
}

/** Entropy (nats) of a click label at this CTR: the log loss of always predicting the CTR itself. */
function labelEntropy(ctr: number): number {
  return ctr <= 0 || ctr >= 1 ? 0 : -ctr * Math.log(ctr) - (1 - ctr) * Math.log(1 - ctr);
}

/**
 * The model-quality guardrail, on normalised entropy: an arm's online log loss over the entropy of
 * its own clicks (He et al., "Practical lessons from predicting clicks on ads at Facebook", 2014).
 * Each arm's log loss is measured on the ads that arm chose, and a model that picks ads with a
 * higher CTR has a higher log loss from its labels alone (at 5 % CTR a perfect-CTR predictor scores
 * 0.199, at 7.4 % 0.264): raw log loss would call the better model harmful. NE divides that out.
 *
 * Harm, not a difference, is tested: the estimate is NE1 − (1 + m) NE0 and the guardrail fails when
 * the mSPRT rejects with a positive estimate; each NE's variance is its log loss's over its
 * entropy squared (the entropy's own error is second order at these sample sizes).
 * τ = mixingRelativeEffect × NE0: a model that is worse at all is usually worse by several per
 * cent, well beyond a margin of 2 %, and a τ of the margin's size would take ten times the data to
 * see a 20 % harm.
 */
function loglossGuardrail(
  control: VariantCounts,
  variant: VariantCounts,
  policy: ExperimentPolicy,
  k: number,
): Guardrail {
  if (control.impressions === 0 || variant.impressions === 0) {
    return { name: 'logloss', passed: true, detail: 'no impressions yet to compare log loss' };
  }
  const h0 = labelEntropy(control.clicks / control.impressions);
  const h1 = labelEntropy(variant.clicks / variant.impressions);
  if (h0 === 0 || h1 === 0) {
    return {
      name: 'logloss',
      passed: true,
      detail: 'no clicks (or only clicks) yet in an arm to normalise log loss by',
    };
  }
  const m = policy.loglossMargin;
  const l0 = control.sumLogLoss / control.impressions;
  const l1 = variant.sumLogLoss / variant.impressions;
  const ne0 = l0 / h0;
  const ne1 = l1 / h1;
  const excess = ne1 - (1 + m) * ne0;
  const variance =
    loglossVariance(variant) / variant.impressions / h1 ** 2 +
    (1 + m) ** 2 * (loglossVariance(control) / control.impressions / h0 ** 2);
  const tau2 = (policy.mixingRelativeEffect * ne0) ** 2;
  const p = Math.min(1, k * msprtPValue(excess, variance, tau2));
  const detail = `normalised entropy ${ne1.toFixed(4)} vs control ${ne0.toFixed(4)} (${signedPct(ne1 / ne0 - 1)}; log loss ${l1.toFixed(5)} vs ${l0.toFixed(5)}), margin ${pct(m)}, always-valid p = ${p.toPrecision(2)} against harm beyond the margin`;
  return { name: 'logloss', passed: !(excess > 0 && p <= policy.alpha), detail };
}

function minImpressionsGuardrail(c: VariantCounts, min: number): Guardrail {
  const passed = c.impressions >= min;
  return {
    name: 'min_impressions',
    passed,
    detail: `${c.impressions} impressions${passed ? '' : `, ${min - c.impressions} short`} of the minimum ${min}`,
  };
}

function describe(c: VariantCounts, control: boolean): VariantResult {
  const n = c.impressions;
  return {
    variant: c.variant,
    model_id: c.model_id,
    control,
    impressions: n,
    clicks: c.clicks,
    ctr: n > 0 ? c.clicks / n : null,
    logloss: n > 0 ? c.sumLogLoss / n : null,
    calibration: c.clicks > 0 ? c.sumPredicted / c.clicks : null,
    predictions: c.predictions ?? 0,
    fallback_rate: c.predictions ? (c.fallbacks ?? 0) / c.predictions : null,
    latency_p99_ms: c.latencyP99Ms ?? null,
    lift: null,
    p_value: null,
    guardrails: [],
  };
}

/**
 * Results per variant and the decision.
 *
 * Decision rule, per non-control variant once it and the control have minImpressionsPerVariant:
 * - harmful when its calibration, log-loss, fallback or latency guardrail fails, or when its CTR
 *   is significantly lower than the control's (p_value ≤ alpha);
 * - a winner when its CTR is significantly higher (p_value ≤ alpha and the lift's lower bound
 *   above 0) and its guardrails pass.
 * The experiment promotes the winner with the largest lift if there is one (promotion ends the
 * experiment, so a harmful sibling stops too), else stops if a variant is harmful, else keeps
 * running.
 *
 * Why the reported p-value is the current 1/Λ and not the running minimum: the error guarantee is
 * P(1/Λ ever ≤ alpha) ≤ alpha (Ville), and the rule above acts the first time 1/Λ ≤ alpha. A
 * caller that stores nothing and calls this at every look therefore has that guarantee, provided
 * it acts on the first promote/stop instead of waiting to see whether it persists. What it must
 * not do is read a later, larger p-value as "no longer significant": the always-valid p-value of
 * the paper is the running minimum, which only callers that keep history can report.
 */
export function evaluateExperiment(
  counts: readonly VariantCounts[],
  policy: Partial<ExperimentPolicy> = {},
): ExperimentEvaluation {
  const p: ExperimentPolicy = { ...DEFAULT_EXPERIMENT_POLICY, ...policy };
  if (!(p.alpha > 0 && p.alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
  for (const c of counts) validate(c);
  const [control, ...others] = counts;
  if (!control)
    return {
      control: null,
      variants: [],
      decision: 'keep_running',
      winner: null,
      reasons: ['The experiment has no variants.'],
    };
  const k = Math.max(1, others.length);
  const results: VariantResult[] = [describe(control, true)];
  const reasons: string[] = [];
  const winners: { variant: string; lift: number }[] = [];
  const harmful: string[] = [];
  const waiting: string[] = [];
  const minimum = p.minImpressionsPerVariant;
  const controlReady = control.impressions >= minimum;

  if (others.length === 0) reasons.push('The experiment has only a control: there is nothing to compare.');
  if (!controlReady) {
    reasons.push(
      `The control ${control.variant} has ${control.impressions} of the ${minimum} impressions needed before any decision.`,
    );
  }
  for (const v of others) {
    const cmp = compareCtr(control, v, p, k);
    const guardrails = [
      minImpressionsGuardrail(v, minimum),
      calibrationGuardrail(v, p.calibrationBand),
      loglossGuardrail(control, v, p, k),
      fallbackGuardrail(control, v, p, k),
      latencyGuardrail(control, v, p),
    ];
    results.push({ ...describe(v, false), lift: cmp.lift, p_value: cmp.pValue, guardrails });
    const ready = controlReady && v.impressions >= minimum;
    const significant = cmp.pValue !== null && cmp.pValue <= p.alpha;
    const failed = guardrails.filter((g) => g.name !== 'min_impressions' && !g.passed);
    const liftText = cmp.lift
      ? `lift ${signedPct(cmp.lift.estimate)} (95 % CI ${signedPct(cmp.lift.lower)} to ${signedPct(cmp.lift.upper)})`
      : 'no lift yet';
    const pText = cmp.pValue === null ? '' : `, p = ${cmp.pValue.toPrecision(2)}`;
    if (!ready) {
      if (v.impressions < minimum) {
        reasons.push(`${v.variant} has ${v.impressions} of the ${minimum} impressions needed before any decision.`);
      }
      waiting.push(v.variant);
    } else if (failed.length > 0) {
      harmful.push(v.variant);
      for (const g of failed) reasons.push(`${v.variant} fails its ${g.name} guardrail: ${g.detail}.`);
    } else if (significant && cmp.difference < 0) {
      harmful.push(v.variant);
      reasons.push(`${v.variant} has a significantly lower CTR than the control: ${liftText}${pText}.`);
    } else if (significant && cmp.lift !== null && cmp.lift.lower > 0) {
      winners.push({ variant: v.variant, lift: cmp.lift.estimate });
      reasons.push(
        `${v.variant} has a significantly higher CTR than the control and passes its guardrails: ${liftText}${pText}.`,
      );
    } else {
      waiting.push(v.variant);
      const more =
        cmp.growth !== null
          ? ` If the observed difference holds, about ${Math.ceil((cmp.growth - 1) * Math.max(v.impressions, control.impressions))} more impressions per variant are needed.`
          : '';
      reasons.push(`${v.variant} shows no significant difference from the control yet: ${liftText}${pText}.${more}`);
    }
  }

  const best = winners.sort((a, b) => b.lift - a.lift)[0];
  if (best) {
    if (harmful.length > 0) reasons.push(`Promoting ${best.variant} also ends the harmful ${harmful.join(', ')}.`);
    return { control: control.variant, variants: results, decision: 'promote', winner: best.variant, reasons };
  }
  if (harmful.length > 0) {
    reasons.push(
      `Stop the experiment: ${harmful.join(', ')} ${harmful.length > 1 ? 'are' : 'is'} worse than the control.`,
    );
    return { control: control.variant, variants: results, decision: 'stop', winner: null, reasons };
  }
  return { control: control.variant, variants: results, decision: 'keep_running', winner: null, reasons };
}
