/**
 * A realistic, seeded ad-traffic simulator whose true click probability is known.
 *
 * The world: users (an interest segment the model never sees, a device, a location), ads grouped
 * into campaigns and advertisers with a category, sites, and slots (position 1..5). The true logit
 * of a (user, ad, site, position) request is a sum of effects:
 *
 *   base + ad effect (advertiser + campaign + ad) + category effect
 *        + category × segment interaction + device + location + site + position bias
 *
 * with the base solved so that the mean true probability over the traffic is `ctr` (2 % by
 * default). Popularity is skewed (a few sites and ads get most of the traffic, Zipf-like), slots
 * nearer the top are served more often, and position bias decreases with the position, so a
 * model has to learn it rather than have it baked in. Everything is a deterministic function of
 * the seed: two simulators with the same options produce the same catalogue, requests and clicks.
 */
import { createRandom, cumulative, type Random, sample } from './model/prng.js';
import { sigmoid } from './model/scorer.js';

export const DEVICE_TYPES = ['mobile', 'desktop', 'tablet'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];
export const LOCATIONS = [
  'US-CA',
  'US-NY',
  'US-TX',
  'US-FL',
  'US-IL',
  'CA',
  'MX',
  'BR',
  'GB',
  'IE',
  'FR',
  'DE',
  'ES',
  'IT',
  'NL',
  'SE',
  'PL',
  'IN',
  'JP',
  'AU',
] as const;
export const SEGMENTS = ['sports', 'tech', 'fashion', 'travel', 'finance', 'family', 'gaming', 'food'] as const;
export const CATEGORIES = [
  'retail',
  'travel',
  'finance',
  'auto',
  'gaming',
  'food',
  'electronics',
  'health',
  'entertainment',
  'education',
] as const;
export const POSITIONS = [1, 2, 3, 4, 5] as const;

const DEVICE_SHARE = [0.62, 0.3, 0.08];
const DEVICE_EFFECT = [0.15, -0.1, 0.05];
const POSITION_SHARE = [0.32, 0.26, 0.19, 0.14, 0.09];
const POSITION_EFFECT = [0, -0.35, -0.6, -0.8, -0.95];

export interface SimulatorOptions {
  readonly seed?: number;
  /** Number of users (default 20 000). */
  readonly users?: number;
  /** Number of ads in the catalogue (default 300). */
  readonly ads?: number;
  /** Number of sites (default 60). */
  readonly sites?: number;
  /** Mean true click probability over the traffic (default 0.02). */
  readonly ctr?: number;
}

// Type aliases (not interfaces), so that a row is assignable to the encoder's FeatureMap.
export type CatalogueAd = {
  readonly ad_id: string;
  readonly campaign_id: string;
  readonly advertiser_id: string;
  readonly category: string;
};

export type RequestFeatures = {
  readonly device_type: DeviceType;
  readonly location: string;
  readonly site_id: string;
  readonly position: number;
};

export interface SimulatedRequest {
  readonly user_id: string;
  readonly ad_id: string;
  readonly features: RequestFeatures;
  /** The true click probability of this request. */
  readonly trueProbability: number;
}

/** The flat feature map the model sees: request features plus the ad's catalogue fields. */
export type TrainingRow = RequestFeatures & CatalogueAd;

export interface Simulator {
  readonly options: Required<SimulatorOptions>;
  /** The logit offset solved so that the mean true probability is `ctr`. */
  readonly base: number;
  ads(): CatalogueAd[];
  nextRequest(): SimulatedRequest;
  /** Draws whether a request with this true probability is clicked. */
  clicks(trueProbability: number): boolean;
  toTrainingRow(request: SimulatedRequest): TrainingRow;
}

interface User {
  readonly id: string;
  readonly segment: number;
  readonly device: number;
  readonly location: number;
}

interface Ad extends CatalogueAd {
  readonly effect: number;
  readonly categoryIndex: number;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Zipf-like popularity over n items (rank r gets weight 1 / r^s), in a shuffled order. */
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

function resolve(options: SimulatorOptions): Required<SimulatorOptions> {
  const resolved: Required<SimulatorOptions> = {
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

interface Draw {
  user: User;
  ad: Ad;
  site: number;
  position: number;
  /** The true logit without the base. */
  logit: number;
}

/** Everything that is a function of the options alone (the traffic streams are per simulator). */
interface World {
  readonly catalogue: readonly Ad[];
  readonly byId: ReadonlyMap<string, Ad>;
  readonly siteIds: readonly string[];
  readonly base: number;
  draw(rng: Random): Draw;
}

function buildWorld(resolved: Required<SimulatorOptions>): World {
  const { seed } = resolved;
  // The world has its own stream, so it does not depend on how much traffic is drawn.
  const world = createRandom(seed, 0);
  const deviceCdf = cumulative(DEVICE_SHARE);
  const locationCdf = zipf(LOCATIONS.length, 0.7, world);
  const locationEffect = LOCATIONS.map(() => 0.1 * world.normal());
  const users: User[] = Array.from({ length: resolved.users }, (_, i) => ({
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
  const catalogue: Ad[] = Array.from({ length: resolved.ads }, (_, a) => {
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

  const draw = (rng: Random): Draw => {
    const user = users[rng.int(users.length)]!;
    const ad = catalogue[sample(adCdf, rng.next())]!;
    const site = sample(siteCdf, rng.next());
    const position = sample(positionCdf, rng.next());
    const logit =
      ad.effect +
      categoryEffect[ad.categoryIndex]! +
      interaction[ad.categoryIndex]![user.segment]! +
      DEVICE_EFFECT[user.device]! +
      locationEffect[user.location]! +
      siteEffect[site]! +
      POSITION_EFFECT[position]!;
    return { user, ad, site, position, logit };
  };

  // Solve the base so that the mean true probability over the traffic is `ctr`: bisection on a
  // fixed sample of the traffic drawn from its own stream.
  const calibrationRng = createRandom(seed, 3);
  const sampleLogits = Float64Array.from({ length: 20_000 }, () => draw(calibrationRng).logit);
  const meanProbability = (base: number): number => {
    let sum = 0;
    for (const l of sampleLogits) sum += sigmoid(base + l);
    return sum / sampleLogits.length;
  };
  let lo = -20;
  let hi = 5;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (meanProbability(mid) < resolved.ctr) lo = mid;
    else hi = mid;
  }
  return { catalogue, byId: new Map(catalogue.map((ad) => [ad.ad_id, ad])), siteIds, base: (lo + hi) / 2, draw };
}

/** Worlds are deterministic and read-only, so simulators with the same options share one. */
const worlds = new Map<string, World>();
const MAX_CACHED_WORLDS = 8;

function worldOf(resolved: Required<SimulatorOptions>): World {
  const key = JSON.stringify([resolved.seed, resolved.users, resolved.ads, resolved.sites, resolved.ctr]);
  let world = worlds.get(key);
  if (!world) {
    world = buildWorld(resolved);
    if (worlds.size >= MAX_CACHED_WORLDS) worlds.delete(worlds.keys().next().value!);
    worlds.set(key, world);
  }
  return world;
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const resolved = resolve(options);
  const { catalogue, byId, siteIds, base, draw } = worldOf(resolved);
  const requests = createRandom(resolved.seed, 1);
  const outcomes = createRandom(resolved.seed, 2);

  return {
    options: resolved,
    base,
    ads: () =>
      catalogue.map(({ ad_id, campaign_id, advertiser_id, category }) => ({
        ad_id,
        campaign_id,
        advertiser_id,
        category,
      })),
    nextRequest(): SimulatedRequest {
      const d = draw(requests);
      return {
        user_id: d.user.id,
        ad_id: d.ad.ad_id,
        features: {
          device_type: DEVICE_TYPES[d.user.device]!,
          location: LOCATIONS[d.user.location]!,
          site_id: siteIds[d.site]!,
          position: POSITIONS[d.position]!,
        },
        trueProbability: sigmoid(base + d.logit),
      };
    },
    clicks(trueProbability: number): boolean {
      return outcomes.next() < trueProbability;
    },
    toTrainingRow(request: SimulatedRequest): TrainingRow {
      const ad = byId.get(request.ad_id);
      if (!ad) throw new RangeError(`ad ${request.ad_id} is not in the simulator's catalogue`);
      const f = request.features;
      // An explicit literal (not a spread): one stable object shape, fast to build and to read.
      return {
        device_type: f.device_type,
        location: f.location,
        site_id: f.site_id,
        position: f.position,
        ad_id: ad.ad_id,
        campaign_id: ad.campaign_id,
        advertiser_id: ad.advertiser_id,
        category: ad.category,
      };
    },
  };
}

export interface SimulatedExample {
  readonly features: TrainingRow;
  readonly label: 0 | 1;
  readonly trueProbability: number;
}

/**
 * Rows `from` (inclusive) to `to` (exclusive) of the traffic of a simulator with these options,
 * as training examples. A fresh simulator is made per call, so each call replays the same rows:
 * this is an ExampleSource for the trainer when wrapped in `() => simulatedExamples(...)`.
 */
export function* simulatedExamples(options: SimulatorOptions, from: number, to: number): Generator<SimulatedExample> {
  const simulator = createSimulator(options);
  for (let i = 0; i < to; i++) {
    const request = simulator.nextRequest();
    const clicked = simulator.clicks(request.trueProbability);
    if (i < from) continue;
    yield {
      features: simulator.toTrainingRow(request),
      label: clicked ? 1 : 0,
      trueProbability: request.trueProbability,
    };
  }
}
