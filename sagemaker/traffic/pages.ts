/**
 * The traffic driver's requests: page views of the world of `sagemaker/simulate.ts` (the one
 * the bootstrap model learned), each a user on a site with a few candidate ads in slots 1..k,
 * with every candidate's true click probability, whether the user would click it and after how
 * long. Optional drift (two ad categories change appeal half-way through the window) and fraud
 * (bots, injected clicks, a site inflating its CTR) are labelled as such, so a summary can tell
 * the truth from what the server saw.
 *
 * Everything is a function of the options: the same seed, world and window give the same pages.
 * Each concern draws from its own stream, so turning fraud on does not change which honest users
 * come, and drift does not change who clicks unless their probability changed.
 */
import { createRandom, cumulative, type Random, sample } from '../model/prng.js';
import type { SimulatorOptions } from '../simulate.js';
import { createTimeline, type Timeline } from './timeline.js';
import { buildTrafficWorld, CATEGORIES, DEVICE_TYPES, LOCATIONS, MAX_SLOTS, type TrafficWorld } from './world.js';

/** Zipf exponent of user popularity: a few heavy users, a long tail. */
export const USER_SKEW = 0.8;
/**
 * Page views a minute of each bot of --fraud: with 4 ads a page clicked 9 times in 10, about 11
 * clicks a minute, far above the per-user limit of 5. The number of bots follows from it.
 */
export const BOT_PAGES_PER_MINUTE = 3;
const MAX_BOTS = 1000;
const BOT_CLICK_RATE = 0.9;
/** Longest honest click delay: far inside the lake's one-hour attribution window. */
const MAX_CLICK_DELAY_MS = 120_000;

export interface PageOptions {
  /** Seed of the traffic: users, sites, candidates, clicks, fraud (default 1). */
  readonly seed?: number;
  /** The world (default: simulate.ts's defaults with seed 1, the bootstrap model's world). */
  readonly world?: SimulatorOptions;
  readonly requests: number;
  /** The simulated window, ms since the epoch. */
  readonly startMs: number;
  readonly endMs: number;
  /** Candidate ads a page, in slots 1..k (default 4, at most 5). */
  readonly candidates?: number;
  /** Share of the traffic that is fraudulent, in [0, 0.5] (default 0). */
  readonly fraud?: number;
  /** Logit shift of the drifting categories after the window's midpoint (default 0: no drift). */
  readonly drift?: number;
  /**
   * When the drift begins, epoch ms (default: the window's midpoint). Earlier than the window
   * continues the drift of an earlier run: a second run then starts already drifted.
   */
  readonly driftAtMs?: number;
}

export type FraudKind = 'bot' | 'too_fast' | 'inflated_site';

export interface FraudClick {
  readonly kind: FraudKind;
  readonly delayMs: number;
}

export interface Candidate {
  readonly ad_id: string;
  readonly position: number;
  /** The true click probability (0 on a bot's page: a bot's clicks are all fraud). */
  readonly trueProbability: number;
  /** Whether the user clicks it if it is shown (a Bernoulli draw of trueProbability). */
  readonly clicked: boolean;
  readonly clickDelayMs: number;
  /** Fraudulent clicks on it if it is shown. */
  readonly fraudClicks: readonly FraudClick[];
}

export interface Page {
  readonly index: number;
  readonly timeMs: number;
  readonly user_id: string;
  /** A bot's page: every click on it is fraud, and it is left out of the honest figures. */
  readonly bot: boolean;
  readonly device_type: string;
  readonly location: string;
  readonly ip: string;
  readonly site_id: string;
  readonly candidates: readonly Candidate[];
  /** An injected click (too fast to be human) on the first ad shown, if any. */
  readonly injectedClickDelayMs: number | null;
}

/** What the traffic hides from the server, for summaries and docs. */
export interface TrafficTruth {
  readonly driftAtMs: number | null;
  readonly driftUp: string | null;
  readonly driftDown: string | null;
  readonly inflatedSite: string | null;
  readonly bots: readonly string[];
}

export interface PageGenerator {
  readonly world: TrafficWorld;
  readonly timeline: Timeline;
  readonly truth: TrafficTruth;
  /** The next page, or undefined after `requests` pages. */
  next(): Page | undefined;
}

function share(name: string, value: number, max: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value <= max)) {
    throw new RangeError(`${name} must be a number in [0, ${max}], got ${value}`);
  }
  return value;
}

function zipfCdf(n: number, s: number, rng: Random): Float64Array {
  const weights = Array.from({ length: n }, (_, r) => 1 / (r + 1) ** s);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [weights[i], weights[j]] = [weights[j]!, weights[i]!];
  }
  return cumulative(weights);
}

/** Index of the k-th largest share (0 = largest) of a cumulative distribution. */
function kthLargest(cdf: Float64Array, k: number): number {
  const shares = Array.from(cdf, (c, i) => ({ i, p: c - (i === 0 ? 0 : cdf[i - 1]!) }));
  shares.sort((a, b) => b.p - a.p || a.i - b.i);
  return shares[Math.min(k, shares.length - 1)]!.i;
}

function userIp(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

export function createPageGenerator(options: PageOptions): PageGenerator {
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const fraud = share('fraud', options.fraud ?? 0, 0.5);
  const drift = share('drift', options.drift ?? 0, 5);
  const world = buildTrafficWorld({ seed: 1, ...options.world });
  const k = options.candidates ?? 4;
  if (!Number.isInteger(k) || k < 1 || k > MAX_SLOTS) {
    throw new RangeError(`candidates must be an integer in [1, ${MAX_SLOTS}], got ${k}`);
  }
  const slots = Math.min(k, world.catalogue.length);
  const timeline = createTimeline(options.startMs, options.endMs, options.requests);

  const pages = createRandom(seed, 100);
  const outcomes = createRandom(seed, 101);
  const frauds = createRandom(seed, 102);
  const userCdf = zipfCdf(world.users.length, USER_SKEW, createRandom(seed, 103));

  // Drift moves the two categories with the most traffic in opposite directions: the overall
  // click rate barely moves (so calibration alone does not reveal it) while per-ad predictions
  // go wrong, which a model retrained on recent traffic can fix.
  const categoryShare = new Float64Array(CATEGORIES.length);
  world.catalogue.forEach((ad, a) => {
    categoryShare[ad.categoryIndex]! += world.adCdf[a]! - (a === 0 ? 0 : world.adCdf[a - 1]!);
  });
  const ranked = [...categoryShare.keys()].sort((a, b) => categoryShare[b]! - categoryShare[a]! || a - b);
  const driftUp = drift > 0 ? ranked[0]! : -1;
  const driftDown = drift > 0 && ranked.length > 1 ? ranked[1]! : -1;
  const driftAtMs =
    drift > 0
      ? (options.driftAtMs ?? options.startMs + (options.endMs - options.startMs) / 2)
      : Number.POSITIVE_INFINITY;
  // The inflating site is a busy one (the second busiest), so it can gather the impressions the
  // site rule needs before it judges.
  const inflatedSite = fraud > 0 ? kthLargest(world.siteCdf, 1) : -1;
  const inflatedClickRate = Math.min(0.3, 2 * fraud);
  const botPagesPerMinute = (options.requests * fraud * 0.5 * 60_000) / (options.endMs - options.startMs);
  const botCount = Math.min(MAX_BOTS, Math.max(1, Math.floor(botPagesPerMinute / BOT_PAGES_PER_MINUTE)));
  const bots = Array.from({ length: botCount }, (_, b) => `bot_${b + 1}`);

  let index = 0;
  const next = (): Page | undefined => {
    if (index >= options.requests) return undefined;
    const i = index++;
    const timeMs = Math.round(timeline.timeOf(i, pages.next()));
    const user = sample(userCdf, pages.next());
    const site = sample(world.siteCdf, pages.next());
    const chosen: number[] = [];
    while (chosen.length < slots) {
      const ad = sample(world.adCdf, pages.next());
      if (!chosen.includes(ad)) chosen.push(ad);
    }
    // A fixed number of draws per page from each stream keeps later pages the same whatever
    // the options that only decide how the draws are used.
    const botDraw = frauds.next();
    const botIndex = frauds.int(botCount);
    const injectDraw = frauds.next();
    const injectDelay = Math.round(50 + frauds.next() * 750);
    const bot = botDraw < fraud * 0.5;
    const candidates: Candidate[] = chosen.map((ad, c) => {
      const position = c + 1;
      const category = world.catalogue[ad]!.categoryIndex;
      const shift = timeMs >= driftAtMs ? (category === driftUp ? drift : category === driftDown ? -drift : 0) : 0;
      const p = world.probability(user, ad, site, position, shift);
      const clickDraw = outcomes.next();
      const clickDelayMs = Math.min(
        MAX_CLICK_DELAY_MS,
        Math.round(1000 + 1000 * Math.exp(1.5 + 0.7 * outcomes.normal())),
      );
      const siteDraw = frauds.next();
      const siteDelay = Math.round(2000 + frauds.next() * 18_000);
      const botDelay = Math.round(1200 + frauds.next() * 1800);
      const botClickDraw = frauds.next();
      const fraudClicks: FraudClick[] = [];
      if (bot && botClickDraw < BOT_CLICK_RATE) fraudClicks.push({ kind: 'bot', delayMs: botDelay });
      if (site === inflatedSite && siteDraw < inflatedClickRate)
        fraudClicks.push({ kind: 'inflated_site', delayMs: siteDelay });
      return {
        ad_id: world.catalogue[ad]!.ad_id,
        position,
        trueProbability: bot ? 0 : p,
        clicked: !bot && clickDraw < p,
        clickDelayMs,
        fraudClicks,
      };
    });
    const u = world.users[user]!;
    return {
      index: i,
      timeMs,
      user_id: bot ? bots[botIndex]! : u.id,
      bot,
      device_type: bot ? 'desktop' : DEVICE_TYPES[u.device]!,
      location: bot ? 'NL' : LOCATIONS[u.location]!,
      ip: bot ? `203.0.${113 + (botIndex >> 8)}.${botIndex & 255}` : userIp(user),
      site_id: world.siteIds[site]!,
      candidates,
      injectedClickDelayMs: !bot && injectDraw < fraud * 0.25 ? injectDelay : null,
    };
  };

  return {
    world,
    timeline,
    truth: {
      driftAtMs: drift > 0 ? driftAtMs : null,
      driftUp: driftUp >= 0 ? CATEGORIES[driftUp]! : null,
      driftDown: driftDown >= 0 ? CATEGORIES[driftDown]! : null,
      inflatedSite: inflatedSite >= 0 ? world.siteIds[inflatedSite]! : null,
      bots: fraud > 0 ? bots : [],
    },
    next,
  };
}
