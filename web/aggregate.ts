/**
 * What the charts plot, from the API's rows: sums over ads, rules and sites per period, in the
 * range's periods (missing periods count zero). Pure functions, tested without a browser.
 */
import type { AdPerformanceRow, DriftEvent, FraudRow, ModelRecord } from './api-types.js';

export interface PerformancePoint {
  readonly period: number;
  readonly impressions: number;
  readonly clicks: number;
  /** clicks / impressions; null without impressions. */
  readonly ctr: number | null;
  /** Over the impressions that followed a logged prediction: what the model said and what happened. */
  readonly predictedCtr: number | null;
  readonly observedCtr: number | null;
}

/** Rows of many ads and periods summed per period, one point for every period of the range. */
export function performanceByPeriod(rows: readonly AdPerformanceRow[], periods: readonly number[]): PerformancePoint[] {
  const sums = new Map<number, { i: number; c: number; pi: number; pc: number; sp: number }>();
  for (const r of rows) {
    const t = Date.parse(r.period_start);
    const s = sums.get(t) ?? { i: 0, c: 0, pi: 0, pc: 0, sp: 0 };
    s.i += r.impressions;
    s.c += r.clicks;
    s.pi += r.predicted_impressions;
    s.pc += r.predicted_clicks;
    s.sp += (r.mean_predicted_ctr ?? 0) * r.predicted_impressions;
    sums.set(t, s);
  }
  return periods.map((period) => {
    const s = sums.get(period);
    if (!s) return { period, impressions: 0, clicks: 0, ctr: null, predictedCtr: null, observedCtr: null };
    return {
      period,
      impressions: s.i,
      clicks: s.c,
      ctr: s.i > 0 ? s.c / s.i : null,
      predictedCtr: s.pi > 0 ? s.sp / s.pi : null,
      observedCtr: s.pi > 0 ? s.pc / s.pi : null,
    };
  });
}

export interface FraudSeries {
  readonly rules: string[];
  /** Per rule (in `rules` order), flagged events in each period of the range. */
  readonly counts: number[][];
}

/** Flagged events per rule and period (summed over sites). */
export function fraudByRule(rows: readonly FraudRow[], periods: readonly number[]): FraudSeries {
  const rules = [...new Set(rows.map((r) => r.rule))].sort();
  const index = new Map(periods.map((p, i) => [p, i]));
  const counts = rules.map(() => periods.map(() => 0));
  for (const r of rows) {
    const i = index.get(Date.parse(r.period_start));
    if (i !== undefined) counts[rules.indexOf(r.rule)]![i]! += r.flagged_events;
  }
  return { rules, counts };
}

export interface FraudTotal {
  readonly rule: string;
  readonly site: string | null;
  readonly flaggedEvents: number;
  readonly flaggedImpressions: number;
  readonly flaggedClicks: number;
  readonly maxScore: number;
}

/** Totals per rule and site over the range, most flagged first. */
export function fraudTotals(rows: readonly FraudRow[]): FraudTotal[] {
  const totals = new Map<string, FraudTotal>();
  for (const r of rows) {
    const key = JSON.stringify([r.rule, r.site_id]);
    const t = totals.get(key);
    totals.set(key, {
      rule: r.rule,
      site: r.site_id,
      flaggedEvents: (t?.flaggedEvents ?? 0) + r.flagged_events,
      flaggedImpressions: (t?.flaggedImpressions ?? 0) + r.flagged_impressions,
      flaggedClicks: (t?.flaggedClicks ?? 0) + r.flagged_clicks,
      maxScore: Math.max(t?.maxScore ?? 0, r.max_score),
    });
  }
  return [...totals.values()].sort((a, b) => b.flaggedEvents - a.flaggedEvents || a.rule.localeCompare(b.rule));
}

/**
 * Every drift event of the registry once (a rollback is kept on the drifting model and on the one
 * that took over), newest first.
 */
export function driftEvents(models: readonly ModelRecord[]): DriftEvent[] {
  const seen = new Map<string, DriftEvent>();
  for (const m of models) for (const e of m.drift_events ?? []) seen.set(`${e.at}|${e.model_id}|${e.kind}`, e);
  return [...seen.values()].sort((a, b) => b.at.localeCompare(a.at));
}

/** Statuses a model can be made champion from (the gate still decides). */
const ACTIVATABLE = new Set(['candidate', 'challenger', 'retired']);

export function canActivate(model: ModelRecord): boolean {
  return ACTIVATABLE.has(model.status);
}

/** The champion's previous champion, which a rollback activates, if the registry still has it. */
export function rollbackTarget(models: readonly ModelRecord[]): ModelRecord | null {
  const champion = models.find((m) => m.status === 'champion');
  const previous = champion?.previous_champion_id;
  if (!previous) return null;
  const model = models.find((m) => m.model_id === previous);
  return model && canActivate(model) ? model : null;
}
