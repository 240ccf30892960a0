/**
 * The simulated world, defined once: users (an interest segment the model never sees, a device,
 * a location), ads in campaigns and advertisers with a category, sites, slots, their effects on
 * the true logit, and the base solved so that the mean true probability is `ctr`. The bootstrap
 * simulator (`sagemaker/simulate.ts`) draws whole requests from it (`drawLikeSimulator`); the
 * traffic driver draws pages (one user and site, several candidate ads, each at its own slot).
 *
 * Every draw from the world's random stream is made in a fixed order: the same options give the
 * same catalogue, effects and base, which is what makes the bootstrap model's world reproducible.
 */
import { createRandom, cumulative, type Random, sample } from '../model/prng.js';
import { sigmoid } from '../model/scorer.js';
import {
  CATEGORIES,
  type CatalogueAd,
  DEVICE_TYPES,
  LOCATIONS,
  SEGMENTS,
  type SimulatorOptions,
} from './vocabulary.js';

const DEVICE_SHARE = [0.62, 0.3, 0.08];
const DEVICE_EFFECT = [0.15, -0.1, 0.05];
const POSITION_SHARE = [0.32, 0.26, 0.19, 0.14, 0.09];
/** Position bias of slots 1..5: the top slot is seen most. */
export const POSITION_EFFECT = [0, -0.35, -0.6, -0.8, -0.95] as const;
export const MAX_SLOTS = POSITION_EFFECT.length;

export type WorldOptions = Required<SimulatorOptions>;

export interface WorldUser {
  readonly id: string;
  readonly segment: number;
  readonly device: number;
  readonly location: number;
}

export interface WorldAd extends CatalogueAd {
  readonly effect: number;
  readonly categoryIndex: number;
}

export interface TrafficWorld {
  readonly options: WorldOptions;
  readonly users: readonly WorldUser[];
  readonly catalogue: readonly WorldAd[];
  readonly siteIds: readonly string[];
  /** Cumulative traffic shares of the ads and the sites (Zipf-like, as in simulate.ts). */
  readonly adCdf: Float64Array;
  readonly siteCdf: Float64Array;
  /** The logit offset solved so that the mean true probability over simulate.ts's traffic is `ctr`. */
  readonly base: number;
  /** The true logit without the base, for user, ad and site indexes and a slot 1..5. */
  logit(user: number, ad: number, site: number, position: number): number;
  /** σ(base + logit + shift): the true click probability, `shift` being any drift in logit units. */
  probability(user: number, ad: number, site: number, position: number, shift?: number): number;
  /** simulate.ts's request draw (uniform user, Zipf ad and site, a slot by POSITION_SHARE). */
  drawLikeSimulator(rng: Random): { user: number; ad: number; site: number; position: number };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** simulate.ts's Zipf-like popularity: rank r weighs 1 / r^s, ranks shuffled by `rng`. */
function zipf(n: number, s: number, rng: Random): Float64Array {
  const weights = Array.from({ length: n }, (_, r) => 1 / (r + 1) ** s);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [weights[i], weights[j]] = [weights[j]!, weights[i]!];
  }
  return cumulative(weights);
}

function count(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 10_000_000) {
    throw new RangeError(`${name} must be an integer in [1, 10 000 000], got ${value}`);
  }
  return value;
}

/** simulate.ts's defaults: the bootstrap model's world is `resolveWorldOptions({ seed: 1 })`. */
export function resolveWorldOptions(options: SimulatorOptions = {}): WorldOptions {
  const resolved: WorldOptions = {
    seed: options.seed ?? 1,
    users: count('users', options.users ?? 20_000),
    ads: count('ads', options.ads ?? 300),
    sites: count('sites', options.sites ?? 60),
    ctr: options.ctr ?? 0.02,
  };
  if (!Number.isFinite(resolved.seed)) throw new RangeError(`seed must be a finite number, got ${resolved.seed}`);
  if (!(resolved.ctr > 0 && resolved.ctr < 0.5)) throw new RangeError(`ctr must be in (0, 0.5), got ${resolved.ctr}`);
  return resolved;
}

export function buildTrafficWorld(options: SimulatorOptions = {}): TrafficWorld {
  const resolved = resolveWorldOptions(options);
  const { seed } = resolved;
  // Same stream and same order of draws as simulate.ts's buildWorld: do not reorder.
  const world = createRandom(seed, 0);
  const deviceCdf = cumulative(DEVICE_SHARE);
  const locationCdf = zipf(LOCATIONS.length, 0.7, world);
  const locationEffect = LOCATIONS.map(() => 0.1 * world.normal());
  const users: WorldUser[] = Array.from({ length: resolved.users }, (_, i) => ({
    id: `u_${pad(i + 1, 6)}`,
    segment: world.int(SEGMENTS.length),
    device: sample(deviceCdf, world.next()),
    location: sample(locationCdf, world.next()),
  }));
  const categoryEffect = CATEGORIES.map(() => 0.2 * world.normal());
  const interaction = CATEGORIES.map(() => SEGMENTS.map(() => 0.5 * world.normal()));
  const advertiserCount = Math.max(1, Math.round(resolved.ads / 15));
  const campaignCount = Math.max(1, Math.round(resolved.ads / 4));
  const advertiserEffect = Array.from({ length: advertiserCount }, () => 0.2 * world.normal());
  const campaigns = Array.from({ length: campaignCount }, (_, c) => ({
    id: `cmp_${pad(c + 1, 4)}`,
    advertiser: c % advertiserCount,
    category: world.int(CATEGORIES.length),
    effect: 0.35 * world.normal(),
  }));
  const catalogue: WorldAd[] = Array.from({ length: resolved.ads }, (_, a) => {
    const campaign = campaigns[a < campaignCount ? a : world.int(campaignCount)]!;
    return {
      ad_id: `ad_${pad(a + 1, 5)}`,
      campaign_id: campaign.id,
      advertiser_id: `adv_${pad(campaign.advertiser + 1, 3)}`,
      category: CATEGORIES[campaign.category]!,
      categoryIndex: campaign.category,
      effect: advertiserEffect[campaign.advertiser]! + campaign.effect + 0.25 * world.normal(),
    };
  });
  const adCdf = zipf(resolved.ads, 0.8, world);
  const siteEffect = Array.from({ length: resolved.sites }, () => 0.35 * world.normal());
  const siteIds = Array.from({ length: resolved.sites }, (_, s) => `site_${pad(s + 1, 4)}`);
  const siteCdf = zipf(resolved.sites, 1, world);
  const positionCdf = cumulative(POSITION_SHARE);

  const logit = (user: number, ad: number, site: number, position: number): number => {
    const u = users[user]!;
    const a = catalogue[ad]!;
    return (
      a.effect +
      categoryEffect[a.categoryIndex]! +
      interaction[a.categoryIndex]![u.segment]! +
      DEVICE_EFFECT[u.device]! +
      locationEffect[u.location]! +
      siteEffect[site]! +
      POSITION_EFFECT[position - 1]!
    );
  };
  const drawLikeSimulator = (rng: Random) => ({
    user: rng.int(users.length),
    ad: sample(adCdf, rng.next()),
    site: sample(siteCdf, rng.next()),
    position: sample(positionCdf, rng.next()) + 1,
  });

  // simulate.ts's calibration: the base that makes the mean true probability `ctr` on 20 000
  // requests of its own stream.
  const calibrationRng = createRandom(seed, 3);
  const sampleLogits = Float64Array.from({ length: 20_000 }, () => {
    const d = drawLikeSimulator(calibrationRng);
    return logit(d.user, d.ad, d.site, d.position);
  });
  const meanProbability = (b: number): number => {
    let sum = 0;
    for (const l of sampleLogits) sum += sigmoid(b + l);
    return sum / sampleLogits.length;
  };
  let lo = -20;
  let hi = 5;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (meanProbability(mid) < resolved.ctr) lo = mid;
    else hi = mid;
  }
  const base = (lo + hi) / 2;

  return {
    options: resolved,
    users,
    catalogue,
    siteIds,
    adCdf,
    siteCdf,
    base,
    logit,
    probability: (user, ad, site, position, shift = 0) => sigmoid(base + logit(user, ad, site, position) + shift),
    drawLikeSimulator,
  };
}

export { CATEGORIES, DEVICE_TYPES, LOCATIONS };
