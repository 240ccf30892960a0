/**
 * Drift protection (docs/drift.md): the models that serve traffic — the champion and every model
 * of a running experiment — are judged on their online metrics over a recent, labelled window.
 * A model whose calibration leaves the band, or whose online log loss is worse than its own
 * holdout log loss by more than the allowed share, stops serving: a champion is rolled back to
 * its previous champion, and the experiments a model serves in are stopped. What was seen and
 * done is kept on the models (`drift_events`, visible in GET /models).
 */
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../lake/attribution.js';
import type { Experiment } from '../ports.js';
import type { ModelBinCounts } from '../schemas/analytics.js';
import { type DriftEvent, MAX_DRIFT_EVENTS, type ModelRecord } from '../schemas/models.js';
import type { Deps } from './deps.js';

export interface DriftConfig {
  /** Length of the window judged; it ends `attributionWindowSeconds` before now. */
  readonly windowMs: number;
  /** Impressions younger than this may still get their click: left out so they do not look unclicked. */
  readonly attributionWindowSeconds: number;
  /** Below either minimum a model is not judged: noise must not roll a model back. */
  readonly minImpressions: number;
  readonly minClicks: number;
  /** Online mean predicted / observed must stay within [low, high]. */
  readonly calibrationBand: readonly [number, number];
  /** Online log loss may exceed the model's holdout log loss by at most this share (0.1 = +10 %). */
  readonly maxLoglossIncrease: number;
}

/**
 * Six hours hold a day's worth of traffic pattern in each check only partly, but enough clicks at
 * design traffic; 500 clicks put the observed click rate within ±4.5 % (one standard error), so
 * the ±20 % band is far outside noise, and the log loss (whose relative noise is about
 * 0.8 / sqrt(clicks) at a 2 % click rate) within ±3.5 %, a third of the +10 % allowed.
 */
export const DEFAULT_DRIFT_CONFIG: DriftConfig = {
  windowMs: 6 * 3_600_000,
  attributionWindowSeconds: DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
  minImpressions: 10_000,
  minClicks: 500,
  calibrationBand: [0.8, 1.2],
  maxLoglossIncrease: 0.1,
};

/** The analytics port answers at most this many (model_version, variant) pairs. */
const MAX_PAIRS = 1_000;

export interface OnlineMetrics {
  readonly impressions: number;
  readonly clicks: number;
  /** Mean predicted over observed; null without clicks. */
  readonly calibration: number | null;
  readonly logloss: number | null;
}

export type DriftVerdict = 'ok' | 'insufficient_data' | 'cooling_down' | 'drifted';

export interface ModelCheck {
  readonly model_id: string;
  readonly version: string;
  readonly role: 'champion' | 'challenger';
  readonly metrics: OnlineMetrics;
  readonly baseline_logloss: number | null;
  readonly verdict: DriftVerdict;
  readonly reasons: readonly string[];
}

export interface DriftReport {
  readonly window: { from: string; to: string };
  readonly checks: readonly ModelCheck[];
  readonly events: readonly DriftEvent[];
  /** Models whose action failed (logged); the next check tries again. */
  readonly failures: readonly { model_id: string; error: string }[];
}

/** Sums the pairs of one model version over its variants (the pair totals repeat on each bin row). */
export function onlineMetricsByVersion(rows: readonly ModelBinCounts[]): Map<string, OnlineMetrics> {
  const sums = new Map<string, { impressions: number; clicks: number; probability: number; loss: number }>();
  const seen = new Set<string>();
  for (const r of rows) {
    const pair = `${r.model_version}\u0000${r.variant}`;
    if (seen.has(pair)) continue;
    seen.add(pair);
    const s = sums.get(r.model_version) ?? { impressions: 0, clicks: 0, probability: 0, loss: 0 };
    s.impressions += r.impressions;
    s.clicks += r.clicks;
    s.probability += r.sum_probability;
    s.loss += r.log_loss * r.impressions;
    sums.set(r.model_version, s);
  }
  const out = new Map<string, OnlineMetrics>();
  for (const [version, s] of sums) {
    out.set(version, {
      impressions: s.impressions,
      clicks: s.clicks,
      calibration: s.clicks === 0 ? null : s.probability / s.clicks,
      logloss: s.impressions === 0 ? null : s.loss / s.impressions,
    });
  }
  return out;
}

/**
 * The model's own holdout log loss: the gate's score of it (the same kind of time-later holdout
 * every model is judged on), else a `logloss` in its holdout metrics. The trainer's validation
 * log loss is not used: it may be measured on negatively sampled rows.
 */
export function baselineLogloss(model: ModelRecord): number | null {
  const gated = model.gate?.candidate.logloss;
  if (typeof gated === 'number' && Number.isFinite(gated) && gated > 0) return gated;
  const recorded = model.holdout_metrics?.logloss;
  if (typeof recorded === 'number' && Number.isFinite(recorded) && recorded > 0) return recorded;
  return null;
}

/** Why the metrics say the model drifted; empty when they do not. */
export function driftReasons(metrics: OnlineMetrics, baseline: number | null, config: DriftConfig): string[] {
  const reasons: string[] = [];
  const [low, high] = config.calibrationBand;
  if (metrics.calibration !== null && (metrics.calibration < low || metrics.calibration > high)) {
    reasons.push(`online calibration ${metrics.calibration.toFixed(3)} is outside [${low}, ${high}]`);
  }
  if (baseline !== null && metrics.logloss !== null && metrics.logloss > baseline * (1 + config.maxLoglossIncrease)) {
    const increase = (metrics.logloss / baseline - 1) * 100;
    reasons.push(
      `online log loss ${metrics.logloss.toFixed(5)} is ${increase.toFixed(1)} % above its holdout log loss ${baseline.toFixed(5)} (at most ${(config.maxLoglossIncrease * 100).toFixed(0)} % allowed)`,
    );
  }
  return reasons;
}

/** The newest event in which this model itself drifted. */
function lastOwnEvent(model: ModelRecord): DriftEvent | undefined {
  return (model.drift_events ?? []).filter((e) => e.model_id === model.model_id).at(-1);
}

/** With a `deployment` (AWS), a rollback first makes the restored champion servable, as an activation does. */
export type DriftDeps = Pick<Deps, 'models' | 'experiments' | 'analytics' | 'clock' | 'logger' | 'deployment'>;

export class DriftMonitor {
  private readonly config: DriftConfig;

  constructor(
    private readonly deps: DriftDeps,
    config: Partial<DriftConfig> = {},
    /** Told when the champion or the experiments changed, so routing switches at once (locally). */
    private readonly routing?: { invalidate(): void },
  ) {
    this.config = { ...DEFAULT_DRIFT_CONFIG, ...config };
  }

  /** One check of every serving model; acts on each that drifted. Never throws for one model's failure. */
  async check(): Promise<DriftReport> {
    const { models, experiments, analytics, clock } = this.deps;
    const now = clock.now();
    const to = new Date(now.getTime() - this.config.attributionWindowSeconds * 1000);
    const from = new Date(to.getTime() - this.config.windowMs);
    const window = { from: from.toISOString(), to: to.toISOString() };

    const [champion, running] = await Promise.all([models.champion(), experiments.running()]);
    const serving = new Map<string, { model: ModelRecord; role: 'champion' | 'challenger' }>();
    if (champion) serving.set(champion.model_id, { model: champion, role: 'champion' });
    for (const id of new Set(running.flatMap((e) => e.variants.map((v) => v.model_id)))) {
      if (serving.has(id)) continue;
      const model = await models.get(id);
      if (model) serving.set(id, { model, role: 'challenger' });
    }
    if (serving.size === 0) return { window, checks: [], events: [], failures: [] };

    const { rows, truncated } = await analytics.models({
      from,
      to,
      limit: MAX_PAIRS,
      attributionWindowSeconds: this.config.attributionWindowSeconds,
    });
    if (truncated) {
      this.deps.logger.warn('drift check: model metrics truncated; models left out count as without data', {
        pairs: MAX_PAIRS,
      });
    }
    const online = onlineMetricsByVersion(rows);

    const checks: ModelCheck[] = [];
    const events: DriftEvent[] = [];
    const failures: { model_id: string; error: string }[] = [];
    for (const { model, role } of serving.values()) {
      const check = this.judge(model, role, online.get(model.version), now);
      checks.push(check);
      if (check.verdict !== 'drifted') continue;
      try {
        events.push(await this.act(model, role, check, running, window, now));
      } catch (err) {
        // The next check tries again: the evidence is still in its window.
        failures.push({ model_id: model.model_id, error: String(err) });
        this.deps.logger.error('drift action failed', { model_id: model.model_id, error: String(err) });
      }
    }
    return { window, checks, events, failures };
  }

  private judge(
    model: ModelRecord,
    role: 'champion' | 'challenger',
    metrics: OnlineMetrics | undefined,
    now: Date,
  ): ModelCheck {
    const m = metrics ?? { impressions: 0, clicks: 0, calibration: null, logloss: null };
    const baseline = baselineLogloss(model);
    const base = { model_id: model.model_id, version: model.version, role, metrics: m, baseline_logloss: baseline };
    // A window shifts by the time elapsed: after `windowMs` it no longer holds the evidence of the
    // last event, so the same impressions never act twice (a re-activated model is not rolled
    // back again on what it was rolled back for, and a flag is not repeated every check).
    const last = lastOwnEvent(model);
    if (last && now.getTime() - Date.parse(last.at) < this.config.windowMs) {
      return { ...base, verdict: 'cooling_down', reasons: [] };
    }
    if (m.impressions < this.config.minImpressions || m.clicks < this.config.minClicks) {
      return { ...base, verdict: 'insufficient_data', reasons: [] };
    }
    const reasons = driftReasons(m, baseline, this.config);
    return { ...base, verdict: reasons.length > 0 ? 'drifted' : 'ok', reasons };
  }

  private async act(
    model: ModelRecord,
    role: 'champion' | 'challenger',
    check: ModelCheck,
    running: readonly Experiment[],
    window: { from: string; to: string },
    now: Date,
  ): Promise<DriftEvent> {
    const notes: string[] = [];
    let rolledBackTo: string | null = null;
    if (role === 'champion') {
      const target = await this.rollbackTarget(model, notes);
      if (target) {
        // Before the promotion: routing must never name a model the endpoint cannot serve. An
        // endpoint update outlasting the wait fails this action; the next check completes it.
        const { model_id, version, artifact_uri } = target;
        await this.deps.deployment?.prepare([{ model_id, version, artifact_uri }]);
        await this.deps.models.promote(model_id, now, null);
        rolledBackTo = model_id;
        notes.push(`rolled back to its previous champion ${model_id}`);
      }
    }
    const stopped = await this.stopExperiments(model.model_id, running, now, notes);
    if (rolledBackTo !== null || stopped.length > 0) this.routing?.invalidate();

    const kind: DriftEvent['kind'] =
      rolledBackTo !== null ? 'rolled_back' : stopped.length > 0 ? 'experiment_stopped' : 'flagged';
    const event: DriftEvent = {
      at: now.toISOString(),
      kind,
      model_id: model.model_id,
      rolled_back_to: rolledBackTo,
      experiment_ids: stopped,
      reasons: [...check.reasons],
      impressions: check.metrics.impressions,
      clicks: check.metrics.clicks,
      calibration: check.metrics.calibration,
      logloss: check.metrics.logloss,
      baseline_logloss: check.baseline_logloss,
      window,
      detail: `${role} ${model.model_id} (${model.version}) drifted: ${check.reasons.join('; ')}. ${notes.join('; ')}.`,
    };
    await this.record(model.model_id, event);
    if (rolledBackTo !== null) await this.record(rolledBackTo, event);
    const log = kind === 'flagged' ? this.deps.logger.warn : this.deps.logger.info;
    log.call(this.deps.logger, `model drift: ${kind}`, {
      model_id: model.model_id,
      rolled_back_to: rolledBackTo,
      experiment_ids: stopped,
      reasons: check.reasons,
    });
    return event;
  }

  /**
   * The previous champion, if it can take over: it exists, is not the drifting model, did not
   * drift itself when it last served (rolling back to it would swap one drift for another), and
   * the drifting model is still the champion (an operator may have activated another meanwhile).
   */
  private async rollbackTarget(model: ModelRecord, notes: string[]): Promise<ModelRecord | null> {
    const id = model.previous_champion_id;
    if (id === null || id === model.model_id) {
      notes.push('no previous champion to roll back to');
      return null;
    }
    const [previous, current] = await Promise.all([this.deps.models.get(id), this.deps.models.champion()]);
    if (!previous) {
      notes.push(`its previous champion ${id} is no longer registered`);
      return null;
    }
    const last = lastOwnEvent(previous);
    if (last) {
      notes.push(`its previous champion ${id} was itself taken out for drift on ${last.at}`);
      return null;
    }
    if (current?.model_id !== model.model_id) {
      notes.push(`it is no longer the champion (${current?.model_id ?? 'none'} is)`);
      return null;
    }
    return previous;
  }

  private async stopExperiments(
    modelId: string,
    running: readonly Experiment[],
    now: Date,
    notes: string[],
  ): Promise<string[]> {
    const serving = running.filter((e) => e.variants.some((v) => v.model_id === modelId));
    if (serving.length === 0) return [];
    const stopped: string[] = [];
    for (const e of serving) {
      await this.deps.experiments.stop(e.experiment_id, now);
      stopped.push(e.experiment_id);
    }
    notes.push(`stopped experiment${stopped.length > 1 ? 's' : ''} ${stopped.join(', ')}`);
    return stopped;
  }

  private async record(modelId: string, event: DriftEvent): Promise<void> {
    const model = await this.deps.models.get(modelId);
    if (!model) return;
    const kept = [...(model.drift_events ?? []), event].slice(-MAX_DRIFT_EVENTS);
    await this.deps.models.update(modelId, { drift_events: kept });
  }
}

export interface DriftSchedule {
  /** Stops the interval and waits for a check in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `monitor.check()` every `everyMs` (the local server's schedule; EventBridge's in AWS).
 * A check never overlaps the previous one, and a failure is logged, never thrown: the server it
 * runs in must not fall over because the lake or the registry is unavailable for a while.
 */
export function scheduleDriftChecks(
  monitor: Pick<DriftMonitor, 'check'>,
  everyMs: number,
  logger: DriftDeps['logger'],
): DriftSchedule {
  let inFlight: Promise<void> | undefined;
  const run = () => {
    if (inFlight) return;
    inFlight = monitor
      .check()
      .then((report) => {
        if (report.events.length > 0 || report.failures.length > 0) {
          logger.info('drift check', {
            window: report.window,
            events: report.events.map((e) => ({ kind: e.kind, model_id: e.model_id })),
            failures: report.failures.length,
          });
        }
      })
      .catch((err: unknown) => logger.error('drift check failed', { error: String(err) }))
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(run, everyMs);
  timer.unref?.();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
