/**
 * Simulated event traffic with a known truth, for the fraud benchmark: an hour of honest traffic
 * from the project's simulator (sagemaker/simulate.ts: users, ads, sites, true click
 * probabilities) plus injected fraud patterns. Everything is a deterministic function of the seed.
 * The constants below describe the world and the fraudsters; they were set from what such traffic
 * looks like, not from the detector's thresholds (docs/fraud.md, bench/README.md).
 *
 * Honest traffic:
 * - impressions arrive as a Poisson process; each is a simulator request (user, ad, site,
 *   position, device, location) and is clicked with the request's true probability;
 * - a click comes 0.8 s (the floor of seeing, deciding and pointing) plus a log-normal delay
 *   (median 6 s, σ 1.1: most within seconds, a long tail to minutes) after its impression; 1 %
 *   of honest clicks are accidental taps 100–900 ms after it (labelled honest here, though the
 *   industry counts them as invalid);
 * - IPs are shared as on the real internet: 62 % of users have their own, 30 % share one per
 *   household of 2–4, 8 % sit behind one of 8 carrier NAT addresses (~200 users each);
 * - 90 % of clicks carry the user id, 90 % the IP; events reach the server 0–2 s after their
 *   event time, 1 % of impressions 10–60 s late (a click can then arrive before its impression).
 */
import { createRandom, type Random } from '../../sagemaker/model/prng.js';
import { createSimulator } from '../../sagemaker/simulate.js';

export const PATTERNS = ['ip_burst', 'click_farm', 'fast_clicks', 'duplicate_clicks', 'site_inflation'] as const;
export type Pattern = (typeof PATTERNS)[number];

export const PATTERN_LABELS: Readonly<Record<Pattern, string>> = {
  ip_burst: 'click bursts from one IP',
  click_farm: 'click farm across many users',
  fast_clicks: 'too-fast clicks (click injection)',
  duplicate_clicks: 'duplicate clicks (new ids)',
  site_inflation: 'site inflating its CTR',
};

export interface TrafficOptions {
  readonly seed: number;
  /** Honest impressions over the hour. */
  readonly impressions: number;
  readonly users: number;
  /** Extra fake-click probability per impression on an inflating site (main scenario: 0.08). */
  readonly inflation: number;
}

export const DEFAULT_TRAFFIC: TrafficOptions = { seed: 1, impressions: 500_000, users: 20_000, inflation: 0.08 };

/** One event as an ad server posts it in `/event/batch`, with when it reaches the server. */
export interface TimedEvent {
  readonly arrivalMs: number;
  readonly body: Record<string, unknown>;
}

export interface Traffic {
  /** Sorted by arrival. */
  readonly events: TimedEvent[];
  /** The injected fraudulent clicks, by click id. */
  readonly fraud: ReadonlyMap<string, Pattern>;
  readonly honestClicks: number;
  readonly impressions: number;
  /** Sites whose CTR is inflated (empty unless site_inflation is injected). */
  readonly inflatedSites: readonly string[];
}

export const START_MS = Date.parse('2026-12-04T09:00:00Z');
const HOUR_MS = 3_600_000;
const SITES = 60;

interface HonestImpression {
  readonly id: string;
  readonly atMs: number;
  readonly user: string;
  readonly ip: string;
  readonly site: string;
}

interface HonestClick {
  readonly id: string;
  readonly impression: HonestImpression;
  readonly atMs: number;
}

/** The honest hour, computed once per seed and size and shared by every scenario. */
interface Honest {
  readonly events: TimedEvent[];
  readonly impressions: HonestImpression[];
  readonly clicks: HonestClick[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const uniform = (rng: Random, lo: number, hi: number) => lo + (hi - lo) * rng.next();

function logNormal(rng: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * rng.normal());
}

/** Delay from impression to an honest click (ms). */
function honestDelay(rng: Random): number {
  if (rng.next() < 0.01) return uniform(rng, 100, 900);
  return Math.min(30 * 60_000, 800 + logNormal(rng, 6_000, 1.1));
}

/** 0–2 s of delivery, and 1 % of impressions 10–60 s late. */
function arrival(rng: Random, atMs: number, lateShare: number): number {
  const lag = rng.next() < lateShare ? uniform(rng, 10_000, 60_000) : uniform(rng, 0, 2_000);
  return atMs + lag;
}

function ipsOfUsers(users: number, rng: Random): string[] {
  const ips: string[] = new Array(users);
  let household = 0;
  let left = 0;
  for (let u = 0; u < users; u++) {
    const r = rng.next();
    if (r < 0.08) {
      ips[u] = `172.16.0.${1 + rng.int(8)}`;
    } else if (r < 0.38) {
      if (left === 0) {
        household++;
        left = 2 + rng.int(3);
      }
      left--;
      ips[u] = `100.64.${(household >> 8) & 255}.${household & 255}`;
    } else {
      ips[u] = `10.${(u >> 16) & 255}.${(u >> 8) & 255}.${u & 255}`;
    }
  }
  return ips;
}

function impressionBody(
  id: string,
  atMs: number,
  user: string,
  ip: string,
  ad: string,
  features: { device_type: string; location: string; site_id: string; position: number },
): Record<string, unknown> {
  return {
    type: 'impression',
    impression_id: id,
    user_id: user,
    ad_id: ad,
    timestamp: iso(atMs),
    device_type: features.device_type,
    location: features.location,
    ip,
    features: { site_id: features.site_id, position: features.position },
  };
}

function clickBody(id: string, impressionId: string, atMs: number, user: string | null, ip: string | null) {
  const body: Record<string, unknown> = {
    type: 'click',
    click_id: id,
    impression_id: impressionId,
    clicked: true,
    timestamp: iso(atMs),
  };
  if (user !== null) body.user_id = user;
  if (ip !== null) body.ip = ip;
  return body;
}

const honestCache = new Map<string, Honest>();

function honestHour(o: TrafficOptions): Honest {
  const key = `${o.seed}/${o.impressions}/${o.users}`;
  const cached = honestCache.get(key);
  if (cached) return cached;
  const sim = createSimulator({ seed: o.seed, users: o.users, sites: SITES });
  const rng = createRandom(o.seed, 0xf4a0);
  const ips = ipsOfUsers(o.users, createRandom(o.seed, 0xf4a1));
  const events: TimedEvent[] = [];
  const impressions: HonestImpression[] = [];
  const clicks: HonestClick[] = [];
  const meanGap = HOUR_MS / o.impressions;
  let t = START_MS;
  for (let n = 0; n < o.impressions; n++) {
    t += -Math.log(1 - rng.next()) * meanGap;
    const request = sim.nextRequest();
    const userIndex = Number(request.user_id.slice(2)) - 1;
    const ip = ips[userIndex]!;
    const imp: HonestImpression = { id: `h-i${n}`, atMs: t, user: request.user_id, ip, site: request.features.site_id };
    impressions.push(imp);
    events.push({
      arrivalMs: arrival(rng, t, 0.01),
      body: impressionBody(imp.id, t, request.user_id, ip, request.ad_id, request.features),
    });
    if (sim.clicks(request.trueProbability)) {
      const at = t + honestDelay(rng);
      const click: HonestClick = { id: `h-c${n}`, impression: imp, atMs: at };
      clicks.push(click);
      const withUser = rng.next() < 0.9;
      const withIp = rng.next() < 0.9;
      events.push({
        arrivalMs: arrival(rng, at, 0),
        body: clickBody(click.id, imp.id, at, withUser ? imp.user : null, withIp ? ip : null),
      });
    }
  }
  const honest = { events, impressions, clicks };
  honestCache.set(key, honest);
  return honest;
}

interface Injected {
  readonly events: TimedEvent[];
  readonly clicks: string[];
  readonly sites?: string[];
}

/** Six bots, each a single IP with 10 cookies, clicking twice a second for two minutes, 1.5–4 s after impressions served to it. */
function ipBursts(o: TrafficOptions): Injected {
  const rng = createRandom(o.seed, 0xf4b0);
  const sim = createSimulator({ seed: o.seed + 7_919, users: o.users, sites: SITES });
  const events: TimedEvent[] = [];
  const clicks: string[] = [];
  for (let bot = 0; bot < 6; bot++) {
    const ip = `203.0.113.${10 + bot}`;
    const start = START_MS + uniform(rng, 5, 53) * 60_000;
    for (let k = 0; k < 240; k++) {
      const at = start + k * 500 + uniform(rng, 0, 200);
      const shown = at - uniform(rng, 1_500, 4_000);
      const user = `bot${bot}-cookie${k % 10}`;
      const request = sim.nextRequest();
      const impId = `burst${bot}-i${k}`;
      const clickId = `burst${bot}-c${k}`;
      events.push({
        arrivalMs: arrival(rng, shown, 0),
        body: impressionBody(impId, shown, user, ip, request.ad_id, request.features),
      });
      events.push({ arrivalMs: arrival(rng, at, 0), body: clickBody(clickId, impId, at, user, ip) });
      clicks.push(clickId);
    }
  }
  return { events, clicks };
}

/**
 * A phone farm: 120 accounts on 3 IPs (40 an IP), working a 20-minute shift; each account is
 * served an ad every 20–40 s and clicks half of them, 2–20 s after: about one click a minute per
 * account, human-like in timing.
 */
function clickFarm(o: TrafficOptions): Injected {
  const rng = createRandom(o.seed, 0xf4c0);
  const sim = createSimulator({ seed: o.seed + 15_485_863, users: o.users, sites: SITES });
  const events: TimedEvent[] = [];
  const clicks: string[] = [];
  const shiftStart = START_MS + uniform(rng, 10, 30) * 60_000;
  const shiftEnd = shiftStart + 20 * 60_000;
  for (let account = 0; account < 120; account++) {
    const user = `farm-account-${account}`;
    const ip = `198.51.100.${1 + (account % 3)}`;
    let n = 0;
    for (let t = shiftStart + uniform(rng, 0, 30_000); t < shiftEnd; t += uniform(rng, 20_000, 40_000)) {
      const request = sim.nextRequest();
      const impId = `farm${account}-i${n}`;
      events.push({
        arrivalMs: arrival(rng, t, 0),
        body: impressionBody(impId, t, user, ip, request.ad_id, request.features),
      });
      if (rng.next() < 0.5) {
        const at = t + uniform(rng, 2_000, 20_000);
        const clickId = `farm${account}-c${n}`;
        events.push({ arrivalMs: arrival(rng, at, 0), body: clickBody(clickId, impId, at, user, ip) });
        clicks.push(clickId);
      }
      n++;
    }
  }
  return { events, clicks };
}

/**
 * Click-injection malware on 1 % of the users' devices: on a quarter of the impressions those
 * devices show, it fires a click 50–900 ms after the impression, or (a quarter of the time)
 * stamps it 0.1–3 s before; a fifth of the injected clicks reach the server before the impression.
 */
function fastClicks(o: TrafficOptions, honest: Honest): Injected {
  const rng = createRandom(o.seed, 0xf4d0);
  const infected = new Set<string>();
  for (let u = 1; u <= o.users; u++) if (rng.next() < 0.01) infected.add(`u_${String(u).padStart(6, '0')}`);
  const events: TimedEvent[] = [];
  const clicks: string[] = [];
  for (const imp of honest.impressions) {
    if (!infected.has(imp.user) || rng.next() >= 0.25) continue;
    const at = rng.next() < 0.25 ? imp.atMs - uniform(rng, 100, 3_000) : imp.atMs + uniform(rng, 50, 900);
    const clickId = `inject-${imp.id}`;
    const early = rng.next() < 0.2;
    events.push({
      arrivalMs: early ? imp.atMs - 1 : arrival(rng, Math.max(at, imp.atMs), 0),
      body: clickBody(clickId, imp.id, at, imp.user, imp.ip),
    });
    clicks.push(clickId);
  }
  return { events, clicks };
}

/** An intermediary re-sending 3 % of the honest clicks under new click ids, 5–120 s later. */
function duplicateClicks(o: TrafficOptions, honest: Honest): Injected {
  const rng = createRandom(o.seed, 0xf4e0);
  const events: TimedEvent[] = [];
  const clicks: string[] = [];
  for (const c of honest.clicks) {
    if (rng.next() >= 0.03) continue;
    const at = c.atMs + uniform(rng, 5_000, 120_000);
    const clickId = `dup-${c.id}`;
    events.push({
      arrivalMs: arrival(rng, at, 0),
      body: clickBody(clickId, c.impression.id, at, c.impression.user, c.impression.ip),
    });
    clicks.push(clickId);
  }
  return { events, clicks };
}

/**
 * Two publishers (the 5th and the 20th site by traffic) run a script that clicks ads in their
 * visitors' browsers for 40 minutes: each impression gets a fake click with probability
 * `inflation`, timed like an honest click, from the visitor's own user and IP.
 */
function siteInflation(o: TrafficOptions, honest: Honest): Injected {
  const rng = createRandom(o.seed, 0xf4f0);
  const traffic = new Map<string, number>();
  for (const imp of honest.impressions) traffic.set(imp.site, (traffic.get(imp.site) ?? 0) + 1);
  const ranked = [...traffic.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s]) => s);
  const sites = [ranked[4]!, ranked[19]!];
  const from = START_MS + 10 * 60_000;
  const to = START_MS + 50 * 60_000;
  const events: TimedEvent[] = [];
  const clicks: string[] = [];
  for (const imp of honest.impressions) {
    if (imp.atMs < from || imp.atMs >= to || !sites.includes(imp.site) || rng.next() >= o.inflation) continue;
    const at = imp.atMs + honestDelay(rng);
    const clickId = `inflate-${imp.id}`;
    events.push({ arrivalMs: arrival(rng, at, 0), body: clickBody(clickId, imp.id, at, imp.user, imp.ip) });
    clicks.push(clickId);
  }
  return { events, clicks, sites };
}

/** The honest hour plus the given patterns, merged in arrival order. */
export function buildTraffic(o: TrafficOptions, patterns: readonly Pattern[]): Traffic {
  const honest = honestHour(o);
  const fraud = new Map<string, Pattern>();
  const events = [...honest.events];
  let inflatedSites: string[] = [];
  let impressions = honest.impressions.length;
  for (const pattern of patterns) {
    const injected =
      pattern === 'ip_burst'
        ? ipBursts(o)
        : pattern === 'click_farm'
          ? clickFarm(o)
          : pattern === 'fast_clicks'
            ? fastClicks(o, honest)
            : pattern === 'duplicate_clicks'
              ? duplicateClicks(o, honest)
              : siteInflation(o, honest);
    for (const id of injected.clicks) fraud.set(id, pattern);
    for (const e of injected.events) {
      events.push(e);
      if (e.body.type === 'impression') impressions++;
    }
    if (injected.sites) inflatedSites = injected.sites;
  }
  events.sort((a, b) => a.arrivalMs - b.arrivalMs);
  return { events, fraud, honestClicks: honest.clicks.length, impressions, inflatedSites };
}
