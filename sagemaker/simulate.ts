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
import { createRandom, type Random } from './model/prng.js';
import { sigmoid } from './model/scorer.js';
import {
  type CatalogueAd,
  DEVICE_TYPES,
  type DeviceType,
  LOCATIONS,
  POSITIONS,
  type SimulatorOptions,
} from './traffic/vocabulary.js';
import { buildTrafficWorld, resolveWorldOptions, type WorldAd, type WorldUser } from './traffic/world.js';

export {
  CATEGORIES,
  type CatalogueAd,
  DEVICE_TYPES,
  type DeviceType,
  LOCATIONS,
  POSITIONS,
  SEGMENTS,
  type SimulatorOptions,
} from './traffic/vocabulary.js';

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

interface Draw {
  user: WorldUser;
  ad: WorldAd;
  site: number;
  /** Index into POSITIONS (0 = slot 1). */
  position: number;
  /** The true logit without the base. */
  logit: number;
}

/** Everything that is a function of the options alone (the traffic streams are per simulator). */
interface World {
  readonly catalogue: readonly WorldAd[];
  readonly byId: ReadonlyMap<string, WorldAd>;
  readonly siteIds: readonly string[];
  readonly base: number;
  draw(rng: Random): Draw;
}

/** The world of traffic/world.ts (one definition), drawn a whole request at a time. */
function buildWorld(resolved: Required<SimulatorOptions>): World {
  const w = buildTrafficWorld(resolved);
  return {
    catalogue: w.catalogue,
    byId: new Map(w.catalogue.map((ad) => [ad.ad_id, ad])),
    siteIds: w.siteIds,
    base: w.base,
    draw: (rng) => {
      const d = w.drawLikeSimulator(rng);
      return {
        user: w.users[d.user]!,
        ad: w.catalogue[d.ad]!,
        site: d.site,
        position: d.position - 1,
        logit: w.logit(d.user, d.ad, d.site, d.position),
      };
    },
  };
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
  const resolved = resolveWorldOptions(options);
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
