/**
 * What `adclick simulate` counts while it runs and prints at the end: the traffic sent, what the
 * server did with it, the truth behind it (honest traffic only), and client-side latencies.
 */
import type { TrafficTruth } from '../../sagemaker/traffic/index.js';

export interface Plan {
  readonly server: string;
  readonly runId: string;
  readonly requests: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Simulated seconds per real second, or null: as fast as the server answers. */
  readonly speed: number | null;
  readonly durationSeconds: number | null;
  readonly concurrency: number;
  readonly seed: number;
  readonly worldSeed: number;
  readonly users: number;
  readonly ads: number;
  readonly sites: number;
  readonly candidates: number;
  readonly show: number;
  readonly fraud: number;
  readonly drift: number;
  /** When the drift begins (epoch ms), or null for the window's midpoint. */
  readonly driftAtMs: number | null;
  readonly register: boolean;
}

interface Tally {
  predictions: number;
  impressions: number;
  clicks: number;
  trueSum: number;
  predictedSum: number;
}

const tally = (): Tally => ({ predictions: 0, impressions: 0, clicks: 0, trueSum: 0, predictedSum: 0 });

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** The q-quantile (nearest rank) of a sorted array, or null when it is empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export class Stats {
  readonly startedAt = performance.now();
  requests = 0;
  /** Pages whose prediction call failed (network error or non-2xx). */
  failedRequests = 0;
  predictions = 0;
  adsRegistered = 0;
  readonly impressions = { sent: 0, accepted: 0, duplicate: 0, refused: 0 };
  readonly clicks = { honest: 0, fraud: 0, accepted: 0, duplicate: 0, refused: 0, lost: 0 };
  readonly fraudByKind = new Map<string, number>();
  /** Honest impressions only: the truth the server is measured against. */
  readonly honest = tally();
  readonly byModel = new Map<string, Tally>();
  readonly latencies = new Map<string, number[]>();
  /** `METHOD route status` (or `network`) → count, for every answer that was not a success. */
  readonly errors = new Map<string, number>();
  readonly refusedReasons = new Map<string, number>();
  firstEventMs: number | null = null;
  lastEventMs: number | null = null;
  interrupted = false;
  /** Set when --duration ran out before the window's last request. */
  stoppedEarly = false;

  latency(route: string, ms: number): void {
    let list = this.latencies.get(route);
    if (!list) {
      list = [];
      this.latencies.set(route, list);
    }
    list.push(ms);
  }

  error(route: string, status: number | 'network'): void {
    bump(this.errors, status === 'network' ? `${route} network error` : `${route} ${status}`);
  }

  refused(reason: string): void {
    bump(this.refusedReasons, reason.slice(0, 160));
  }

  fraudClick(kind: string): void {
    this.clicks.fraud++;
    bump(this.fraudByKind, kind);
  }

  eventTime(ms: number): void {
    if (this.firstEventMs === null || ms < this.firstEventMs) this.firstEventMs = ms;
    if (this.lastEventMs === null || ms > this.lastEventMs) this.lastEventMs = ms;
  }

  /** A prediction the server made; `shown` with its truth when the ad was shown (null: not shown, honest page). */
  prediction(model: string, probability: number, shown: { trueProbability: number; honest: boolean } | null): void {
    this.predictions++;
    let t = this.byModel.get(model);
    if (!t) {
      t = tally();
      this.byModel.set(model, t);
    }
    t.predictions++;
    if (shown === null || shown.honest) this.honest.predictions++;
    if (shown?.honest) {
      for (const x of [t, this.honest]) {
        x.impressions++;
        x.trueSum += shown.trueProbability;
        x.predictedSum += probability;
      }
    }
  }

  /** An honest click drawn from the true probability (sent or not: it is part of the truth). */
  honestClick(model: string): void {
    this.honest.clicks++;
    const t = this.byModel.get(model);
    if (t) t.clicks++;
  }

  get serverErrors(): number {
    let n = 0;
    for (const [key, count] of this.errors) if (/ 5\d\d$/.test(key)) n += count;
    return n;
  }
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const round = (x: number | null, digits = 6): number | null => (x === null ? null : Number(x.toFixed(digits)));

interface LatencyFigures {
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

function latencyFigures(stats: Stats): Record<string, LatencyFigures> {
  const latency: Record<string, LatencyFigures> = {};
  for (const [route, list] of stats.latencies) {
    const sorted = Float64Array.from(list).sort();
    latency[route] = {
      count: sorted.length,
      p50_ms: round(quantile(sorted, 0.5), 2),
      p95_ms: round(quantile(sorted, 0.95), 2),
      p99_ms: round(quantile(sorted, 0.99), 2),
    };
  }
  return latency;
}

export function summaryJson(plan: Plan, stats: Stats, truth?: TrafficTruth): Record<string, unknown> {
  const seconds = (performance.now() - stats.startedAt) / 1000;
  const latency = latencyFigures(stats);
  const figures = (t: Tally) => ({
    predictions: t.predictions,
    honest_impressions: t.impressions,
    honest_clicks: t.clicks,
    observed_ctr: round(ratio(t.clicks, t.impressions)),
    true_mean_probability: round(ratio(t.trueSum, t.impressions)),
    mean_predicted: round(ratio(t.predictedSum, t.impressions)),
  });
  return {
    server: plan.server,
    run_id: plan.runId,
    interrupted: stats.interrupted,
    stopped_early: stats.stoppedEarly,
    seconds: round(seconds, 3),
    window: {
      start: new Date(plan.startMs).toISOString(),
      end: new Date(plan.endMs).toISOString(),
      first_event: stats.firstEventMs === null ? null : new Date(stats.firstEventMs).toISOString(),
      last_event: stats.lastEventMs === null ? null : new Date(stats.lastEventMs).toISOString(),
    },
    options: {
      seed: plan.seed,
      world_seed: plan.worldSeed,
      users: plan.users,
      ads: plan.ads,
      sites: plan.sites,
      candidates: plan.candidates,
      show: plan.show,
      fraud: plan.fraud,
      drift: plan.drift,
      speed: plan.speed,
      concurrency: plan.concurrency,
    },
    truth: truth && {
      drift_at: truth.driftAtMs === null ? null : new Date(truth.driftAtMs).toISOString(),
      drift_up: truth.driftUp,
      drift_down: truth.driftDown,
      inflated_site: truth.inflatedSite,
      bots: truth.bots.length,
    },
    ads_registered: stats.adsRegistered,
    requests: stats.requests,
    failed_requests: stats.failedRequests,
    predictions: stats.predictions,
    impressions: { ...stats.impressions },
    clicks: { ...stats.clicks, fraud_by_kind: Object.fromEntries(stats.fraudByKind) },
    honest: figures(stats.honest),
    by_model: Object.fromEntries([...stats.byModel].map(([model, t]) => [model, figures(t)])),
    latency,
    errors: Object.fromEntries(stats.errors),
    server_errors: stats.serverErrors,
    refused: Object.fromEntries(stats.refusedReasons),
  };
}

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(2)} %`);

export function summaryText(plan: Plan, stats: Stats, truth?: TrafficTruth): string {
  const seconds = (performance.now() - stats.startedAt) / 1000;
  const lines: string[] = [];
  const head = stats.interrupted ? 'interrupted after' : stats.stoppedEarly ? 'duration ran out after' : 'done:';
  lines.push(
    `adclick simulate ${head} ${stats.requests} requests in ${seconds.toFixed(1)} s (${(stats.requests / Math.max(seconds, 1e-3)).toFixed(0)}/s) against ${plan.server}, run ${plan.runId}`,
  );
  lines.push(
    `  event time         ${new Date(plan.startMs).toISOString()} → ${new Date(plan.endMs).toISOString()} (${((plan.endMs - plan.startMs) / 60_000).toFixed(1)} min simulated)`,
  );
  if (truth?.driftAtMs != null) {
    lines.push(
      `  drift              from ${new Date(truth.driftAtMs).toISOString()}: ${truth.driftUp} +${plan.drift}, ${truth.driftDown} -${plan.drift} (logit)`,
    );
  }
  if (truth && plan.fraud > 0) {
    lines.push(
      `  fraud              ${truth.bots.length} bots, inflated site ${truth.inflatedSite}, injected too-fast clicks`,
    );
  }
  if (plan.register) lines.push(`  ads registered     ${stats.adsRegistered}`);
  lines.push(`  predictions        ${stats.predictions} (${stats.failedRequests} requests failed)`);
  const i = stats.impressions;
  lines.push(
    `  impressions        ${i.sent} sent: ${i.accepted} accepted, ${i.duplicate} duplicate, ${i.refused} refused`,
  );
  const c = stats.clicks;
  const kinds = [...stats.fraudByKind].map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(
    `  clicks             ${c.honest} honest + ${c.fraud} fraud${kinds ? ` (${kinds})` : ''} sent: ${c.accepted} accepted, ${c.duplicate} duplicate, ${c.refused} refused, ${c.lost} lost`,
  );
  const h = stats.honest;
  lines.push(
    `  honest traffic     observed CTR ${pct(ratio(h.clicks, h.impressions))}, true mean probability ${pct(ratio(h.trueSum, h.impressions))}, mean predicted ${pct(ratio(h.predictedSum, h.impressions))} over ${h.impressions} impressions`,
  );
  for (const [model, t] of stats.byModel) {
    lines.push(
      `    ${model.padEnd(40)} ${t.predictions} predictions, CTR ${pct(ratio(t.clicks, t.impressions))}, true ${pct(ratio(t.trueSum, t.impressions))}, predicted ${pct(ratio(t.predictedSum, t.impressions))}`,
    );
  }
  for (const [route, l] of Object.entries(latencyFigures(stats))) {
    lines.push(
      `  latency (client)   ${route.padEnd(20)} p50 ${l.p50_ms} ms, p95 ${l.p95_ms} ms, p99 ${l.p99_ms} ms (${l.count} calls)`,
    );
  }
  if (stats.errors.size === 0) lines.push('  errors             none');
  for (const [key, n] of stats.errors) lines.push(`  errors             ${key}: ${n}`);
  for (const [reason, n] of stats.refusedReasons) lines.push(`  refused            ${n} × ${reason}`);
  if (stats.serverErrors > 0) {
    lines.push(`  !!! THE SERVER ANSWERED ${stats.serverErrors} REQUESTS WITH A 5xx: see its log !!!`);
  }
  return `${lines.join('\n')}\n`;
}
