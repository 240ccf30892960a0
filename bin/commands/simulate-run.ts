/**
 * The traffic driver of `adclick simulate`: registers the world's ads, then sends its pages from
 * `concurrency` workers (predict the candidates → show the best → report impressions → report
 * clicks in later batches, once their simulated time has come) and counts everything in Stats.
 * A failed call is counted and the run goes on.
 */
import { type Candidate, createPageGenerator, type Page, type PageGenerator } from '../../sagemaker/traffic/index.js';
import type { Plan, Stats } from './simulate-summary.js';

const MAX_EVENTS = 500;
const TIMEOUT_MS = 30_000;

export interface Credentials {
  readonly apiKey?: string;
  readonly token?: string;
}

interface Answer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field below.
  readonly json: any;
}

/** A click waiting for its simulated time, with what it counts as. */
interface PendingClick {
  readonly timeMs: number;
  readonly event: Record<string, unknown>;
  readonly fraud: string | null;
}

/** A min-heap on timeMs: clicks come due in event-time order whatever order they were drawn in. */
class ClickQueue {
  private readonly heap: PendingClick[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(click: PendingClick): void {
    const h = this.heap;
    h.push(click);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.timeMs <= h[i]!.timeMs) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Removes and returns up to `max` clicks due at `timeMs` or before. */
  popDue(timeMs: number, max: number): PendingClick[] {
    const out: PendingClick[] = [];
    const h = this.heap;
    while (out.length < max && h.length > 0 && h[0]!.timeMs <= timeMs) {
      out.push(h[0]!);
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.timeMs < h[m]!.timeMs) m = l;
        if (r < h.length && h[r]!.timeMs < h[m]!.timeMs) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return out;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TrafficRun {
  readonly generator: PageGenerator;
  private readonly base: string;
  private readonly clicks = new ClickQueue();
  private stopping = false;
  private readonly realStart = performance.now();

  constructor(
    private readonly plan: Plan,
    private readonly stats: Stats,
    private readonly credentials: Credentials,
    private readonly onRequest: () => void = () => undefined,
  ) {
    this.base = plan.server.replace(/\/+$/, '');
    this.generator = createPageGenerator({
      seed: plan.seed,
      world: { seed: plan.worldSeed, users: plan.users, ads: plan.ads, sites: plan.sites },
      requests: plan.requests,
      startMs: plan.startMs,
      endMs: plan.endMs,
      candidates: plan.candidates,
      fraud: plan.fraud,
      drift: plan.drift,
      ...(plan.driftAtMs === null ? {} : { driftAtMs: plan.driftAtMs }),
    });
  }

  /** Stops taking new pages; requests in flight finish and the waiting clicks are still sent. */
  stop(): void {
    this.stopping = true;
  }

  private async call(
    method: string,
    route: string,
    path: string,
    body: unknown,
    admin: boolean,
  ): Promise<Answer | null> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (admin && this.credentials.token) headers.authorization = `Bearer ${this.credentials.token}`;
    if (!admin && this.credentials.apiKey) headers['x-api-key'] = this.credentials.apiKey;
    const started = performance.now();
    try {
      // Node's fetch keeps connections alive and reuses them: one pool for the whole run.
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await res.text();
      this.stats.latency(route, performance.now() - started);
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!res.ok) this.stats.error(route, res.status);
      return { status: res.status, json };
    } catch {
      this.stats.error(route, 'network');
      return null;
    }
  }

  /** PUT /ads/{id} for every ad of the world: its campaign, advertiser and category are model features. */
  async registerAds(): Promise<void> {
    const ads = this.generator.world.catalogue;
    let next = 0;
    const worker = async () => {
      while (next < ads.length && !this.stopping) {
        const ad = ads[next++]!;
        const res = await this.call(
          'PUT',
          'PUT /ads',
          `/ads/${encodeURIComponent(ad.ad_id)}`,
          { campaign_id: ad.campaign_id, advertiser_id: ad.advertiser_id, category: ad.category },
          true,
        );
        if (res && res.status >= 200 && res.status < 300) this.stats.adsRegistered++;
        else if (res?.status === 401) throw new Error('the server refused the admin token (401): pass --token');
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, this.plan.concurrency) }, worker));
  }

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.plan.concurrency }, () => this.worker()));
    // The clicks still waiting come after the last page; send them all, in time order.
    while (this.clicks.size > 0) await this.sendEvents([], this.clicks.popDue(Number.POSITIVE_INFINITY, MAX_EVENTS));
  }

  private async worker(): Promise<void> {
    const { plan } = this;
    for (;;) {
      if (this.stopping) return;
      const elapsed = (performance.now() - this.realStart) / 1000;
      if (plan.durationSeconds !== null && elapsed >= plan.durationSeconds) {
        this.stats.stoppedEarly = this.generator.timeline.requests > this.stats.requests;
        return;
      }
      const page = this.generator.next();
      if (!page) return;
      if (plan.speed !== null) {
        const due = this.realStart + (page.timeMs - plan.startMs) / plan.speed;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
      this.stats.requests++;
      await this.page(page);
      this.onRequest();
    }
  }

  private async page(page: Page): Promise<void> {
    const answer = await this.call(
      'POST',
      'POST /predict/batch',
      '/predict/batch',
      {
        user_id: page.user_id,
        features: { device_type: page.device_type, location: page.location, site_id: page.site_id },
        // The page's simulated time: its impressions then join their predictions in the training
        // set, which matches them within one attribution window.
        timestamp: new Date(page.timeMs).toISOString(),
        ads: page.candidates.map((c) => ({ ad_id: c.ad_id, features: { position: c.position } })),
      },
      false,
    );
    const predictions: unknown = answer?.status === 200 ? answer.json?.predictions : null;
    if (!Array.isArray(predictions) || predictions.length !== page.candidates.length) {
      this.stats.failedRequests++;
      return;
    }
    // The ad server shows the best `show` candidates (by predicted probability), each in the slot
    // it was scored for: the position the model saw is the one the user saw.
    const ranked = page.candidates
      .map((candidate, k) => ({ candidate, prediction: predictions[k] as PredictionAnswer }))
      .sort((a, b) => b.prediction.probability - a.prediction.probability);
    const shown = ranked.slice(0, this.plan.show);
    for (const { candidate, prediction } of ranked) {
      const isShown = shown.some((s) => s.candidate === candidate);
      this.stats.prediction(
        modelKey(prediction),
        prediction.probability,
        isShown ? { trueProbability: candidate.trueProbability, honest: !page.bot } : null,
      );
    }
    this.stats.eventTime(page.timeMs);
    const impressions = shown.map(({ candidate, prediction }) => ({
      candidate,
      prediction,
      event: {
        type: 'impression',
        impression_id: `sim-${this.plan.runId}-${page.index}-${candidate.position}`,
        prediction_id: prediction.prediction_id,
        user_id: page.user_id,
        ad_id: candidate.ad_id,
        timestamp: new Date(page.timeMs).toISOString(),
        device_type: page.device_type,
        location: page.location,
        ip: page.ip,
        features: { site_id: page.site_id, position: candidate.position },
      },
    }));
    const results = await this.sendEvents(
      impressions.map((i) => i.event),
      this.clicks.popDue(page.timeMs, MAX_EVENTS - impressions.length),
    );
    impressions.forEach(({ candidate, prediction, event }, k) => {
      const ok = results?.[k] === 'accepted' || results?.[k] === 'duplicate';
      if (!page.bot && candidate.clicked) this.stats.honestClick(modelKey(prediction));
      if (ok) this.scheduleClicks(page, candidate, event.impression_id, k === 0);
    });
  }

  /** Queues the clicks of an acknowledged impression, so no click is sent before its impression. */
  private scheduleClicks(page: Page, candidate: Candidate, impressionId: string, firstShown: boolean): void {
    const click = (suffix: string, delayMs: number, fraud: string | null) =>
      this.clicks.push({
        timeMs: page.timeMs + delayMs,
        fraud,
        event: {
          type: 'click',
          click_id: `${impressionId}-${suffix}`,
          impression_id: impressionId,
          user_id: page.user_id,
          ip: page.ip,
          clicked: true,
          timestamp: new Date(page.timeMs + delayMs).toISOString(),
        },
      });
    if (candidate.clicked) click('c', candidate.clickDelayMs, null);
    for (const f of candidate.fraudClicks) click(f.kind, f.delayMs, f.kind);
    if (firstShown && page.injectedClickDelayMs !== null) click('too_fast', page.injectedClickDelayMs, 'too_fast');
  }

  /**
   * One POST /event/batch of impressions then due clicks; returns each impression's status
   * (undefined when the batch failed as a whole).
   */
  private async sendEvents(
    impressions: readonly Record<string, unknown>[],
    clicks: readonly PendingClick[],
  ): Promise<(string | undefined)[] | undefined> {
    const events = [...impressions, ...clicks.map((c) => c.event)];
    if (events.length === 0) return [];
    this.stats.impressions.sent += impressions.length;
    for (const c of clicks) {
      if (c.fraud === null) this.stats.clicks.honest++;
      else this.stats.fraudClick(c.fraud);
      this.stats.eventTime(c.timeMs);
    }
    const answer = await this.call('POST', 'POST /event/batch', '/event/batch', { events }, false);
    const results = answer?.status === 200 ? (answer.json?.results as EventResult[] | undefined) : undefined;
    if (!Array.isArray(results)) {
      this.stats.clicks.lost += clicks.length;
      return undefined;
    }
    const statuses: (string | undefined)[] = new Array(events.length);
    for (const r of results) {
      statuses[r.index] = r.status;
      const counts = r.index < impressions.length ? this.stats.impressions : this.stats.clicks;
      if (r.status === 'accepted') counts.accepted++;
      else if (r.status === 'duplicate') counts.duplicate++;
      else {
        counts.refused++;
        this.stats.refused(r.error?.detail ?? r.status);
      }
    }
    return statuses.slice(0, impressions.length);
  }
}

interface PredictionAnswer {
  readonly prediction_id: string;
  readonly probability: number;
  readonly model_version?: string;
  readonly variant?: string;
}

interface EventResult {
  readonly index: number;
  readonly status: string;
  readonly error?: { detail?: string };
}

function modelKey(p: PredictionAnswer): string {
  return `${p.model_version ?? '?'} (${p.variant ?? '?'})`;
}
