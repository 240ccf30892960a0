/**
 * The synthetic world of the model benchmark: users, ads (advertisers, campaigns, categories,
 * prices, launch days), sites, and the true click probability of an impression.
 *
 * The true logit is `base + main effects + interactions × scale`:
 *
 *   main effects   user propensity; advertiser + campaign + ad; ad category; site; site
 *                  category; device; location; weekday; hour; position; age (a curve);
 *                  price (log); the user's activity (heavy users click less); the user's prior
 *                  impressions (newcomers click more); the ad's age (new ads click more); the
 *                  session depth (fatigue)
 *   interactions   user segment × ad category; device × site; hour × ad category; site
 *                  category × ad category; gender × ad category; age × ad category (a
 *                  preferred age per category); age × price; device × position; and a rank-4
 *                  user × ad affinity (latent vectors)
 *
 * Every interaction is between fields that are in the data (the segment, gender and age are
 * observed for most users only, as with a real data-management platform), so a model with
 * pairwise terms can learn what a linear one cannot. The base is solved so that the mean true
 * probability over the train traffic is `ctr`.
 *
 * Popularity is Zipf-like (users, ads, sites, locations); traffic follows a daily curve; test
 * rows come later than train rows, and a share of them come from users who arrive in the test
 * period and ads launched at its start (cold start).
 */
import { createRandom, type Random } from '../model/prng.js';
import { CATEGORIES, DEVICE_TYPES, LOCATIONS, SEGMENTS } from '../simulate.js';
import type { ResolvedSyntheticOptions } from './options.js';
import { cumulative, sample, shares, zipfWeights } from './sampling.js';

export { CATEGORIES, DEVICE_TYPES, LOCATIONS, SEGMENTS };

export const SITE_CATEGORIES = [
  'news',
  'sports',
  'entertainment',
  'tech',
  'lifestyle',
  'finance',
  'games',
  'travel',
  'food',
  'social',
] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const GENDERS = ['f', 'm'] as const;
/** Rank of the latent user × ad affinity. */
const LATENT = 4;

const DEVICE_SHARE = [0.62, 0.3, 0.08];
const DEVICE_EFFECT = [0.15, -0.1, 0.05];
const POSITION_SHARE = [0.32, 0.26, 0.19, 0.14, 0.09];
const POSITION_EFFECT = [0, -0.35, -0.6, -0.8, -0.95];
/** Extra slope of the position bias per device: steeper on small screens. */
const POSITION_SLOPE_BY_DEVICE = [-0.12, 0.05, -0.04];
/** Relative traffic of each hour of the day (UTC): quiet nights, a lunch bump, busy evenings. */
const HOUR_TRAFFIC = [
  0.45, 0.3, 0.22, 0.18, 0.18, 0.25, 0.45, 0.75, 0.95, 1.0, 1.0, 1.05, 1.2, 1.15, 1.0, 0.95, 1.0, 1.1, 1.3, 1.5, 1.65,
  1.6, 1.3, 0.85,
];
const SEGMENT_OBSERVED = 0.85;
const GENDER_OBSERVED = 0.8;
const AGE_OBSERVED = 0.75;
/** Median ad price (currency units); prices are log-normal around it. */
const PRICE_MEDIAN = 30;

export const OBSERVED_SEGMENT = 1;
export const OBSERVED_GENDER = 2;
export const OBSERVED_AGE = 4;

/** Column-wise user attributes: the populations run to millions. Established users first, then newcomers. */
export interface Users {
  readonly count: number;
  /** Users [0, established) exist from the start; [established, count) arrive in the test period. */
  readonly established: number;
  readonly segment: Uint8Array;
  readonly gender: Uint8Array;
  readonly age: Uint8Array;
  /** Bit set of OBSERVED_SEGMENT, OBSERVED_GENDER, OBSERVED_AGE: what the data shows of the user. */
  readonly observed: Uint8Array;
  readonly device: Uint8Array;
  readonly location: Uint8Array;
  readonly propensity: Float32Array;
  readonly latent: Float32Array;
  /** The user's share of its pool's traffic. */
  readonly share: Float64Array;
  /** Expected impressions a day (the `user_activity` feature: known to the platform, noisy). */
  readonly activity: Float32Array;
}

export interface Ad {
  readonly id: string;
  readonly campaignId: string;
  readonly advertiserId: string;
  readonly category: number;
  readonly price: number;
  /** Day of launch relative to the start of the data (negative: before it). */
  readonly launchDay: number;
  readonly effect: number;
  readonly latent: Float32Array;
}

export interface Site {
  readonly id: string;
  readonly category: number;
  readonly effect: number;
  /** Device × site interaction, one per device type. */
  readonly deviceEffect: readonly number[];
}

/** One drawn impression. Reused between draws: copy what must outlive the next draw. */
export interface Impression {
  user: number;
  ad: number;
  site: number;
  day: number;
  hour: number;
  weekday: number;
  position: number;
  sessionDepth: number;
  priorImpressions: number;
  adAgeDays: number;
  /** The true logit, base included. */
  logit: number;
}

export function emptyImpression(): Impression {
  return {
    user: 0,
    ad: 0,
    site: 0,
    day: 0,
    hour: 0,
    weekday: 0,
    position: 1,
    sessionDepth: 1,
    priorImpressions: 0,
    adAgeDays: 0,
    logit: 0,
  };
}

export interface World {
  readonly options: ResolvedSyntheticOptions;
  readonly users: Users;
  /** Ads [0, establishedAds) run from the start; the rest launch at the start of the test period. */
  readonly ads: readonly Ad[];
  readonly establishedAds: number;
  readonly sites: readonly Site[];
  /** Solved so that the mean true probability over the train traffic is `ctr`. */
  readonly base: number;
  /** The (fractional) day the test period starts. */
  readonly testStartDay: number;
  /**
   * Draws impression number `index` (0-based over train then test rows) into `out`.
   * `priorImpressions` gives the user's impressions so far; null estimates it from the user's share.
   */
  draw(rng: Random, index: number, out: Impression, priorImpressions: Uint32Array | null): void;
  /** The true logit of an impression, base included (what `draw` puts in `logit`). */
  logit(m: Impression): number;
}

function normals(rng: Random, n: number, sd: number): number[] {
  return Array.from({ length: n }, () => sd * rng.normal());
}

function matrix(rng: Random, rows: number, cols: number, sd: number): number[][] {
  return Array.from({ length: rows }, () => normals(rng, cols, sd));
}

function buildUsers(o: ResolvedSyntheticOptions, rng: Random): Users {
  const established = o.users;
  const newcomers = o.coldUsers > 0 ? Math.max(1, Math.round((o.coldUsers * o.testRows) / 4)) : 0;
  const count = established + newcomers;
  const deviceCdf = cumulative(DEVICE_SHARE);
  const locationCdf = cumulative(zipfWeights(LOCATIONS.length, 0.7, rng));
  const u = {
    count,
    established,
    segment: new Uint8Array(count),
    gender: new Uint8Array(count),
    age: new Uint8Array(count),
    observed: new Uint8Array(count),
    device: new Uint8Array(count),
    location: new Uint8Array(count),
    propensity: new Float32Array(count),
    latent: new Float32Array(count * LATENT),
    share: new Float64Array(count),
    activity: new Float32Array(count),
  };
  for (let i = 0; i < count; i++) {
    u.segment[i] = rng.int(SEGMENTS.length);
    u.gender[i] = rng.int(2);
    u.age[i] = Math.min(80, Math.max(18, Math.round(33 + 10 * rng.normal() + 6 * Math.abs(rng.normal()))));
    u.observed[i] =
      (rng.next() < SEGMENT_OBSERVED ? OBSERVED_SEGMENT : 0) |
      (rng.next() < GENDER_OBSERVED ? OBSERVED_GENDER : 0) |
      (rng.next() < AGE_OBSERVED ? OBSERVED_AGE : 0);
    u.device[i] = sample(deviceCdf, rng.next());
    u.location[i] = sample(locationCdf, rng.next());
    u.propensity[i] = 0.45 * rng.normal();
    for (let k = 0; k < LATENT; k++) u.latent[i * LATENT + k] = 0.4 * rng.normal();
  }
  // Each pool's traffic is Zipf-like over its users; activity is the expected impressions a day
  // in the pool's period, with a platform's measurement noise.
  const days = o.days;
  const trainDays = (days * o.trainRows) / (o.trainRows + o.testRows);
  const pools = [
    { from: 0, to: established, rowsPerDay: (o.trainRows + o.testRows * (1 - o.coldUsers)) / days },
    { from: established, to: count, rowsPerDay: (o.coldUsers * o.testRows) / Math.max(days - trainDays, 1e-9) },
  ];
  for (const pool of pools) {
    if (pool.to <= pool.from) continue;
    const poolShares = shares(zipfWeights(pool.to - pool.from, 0.6, rng));
    for (let i = pool.from; i < pool.to; i++) {
      const s = poolShares[i - pool.from]!;
      u.share[i] = s;
      u.activity[i] = s * pool.rowsPerDay * Math.exp(0.3 * rng.normal());
    }
  }
  return u;
}

function buildAds(o: ResolvedSyntheticOptions, rng: Random, testStartDay: number): { ads: Ad[]; established: number } {
  const established = o.ads;
  const fresh = o.coldAds > 0 ? Math.max(1, Math.round(established / 10)) : 0;
  const advertisers = Math.max(1, Math.round(established / 15));
  const advertiserEffect = normals(rng, advertisers, 0.25);
  const categoryPrice = normals(rng, CATEGORIES.length, 0.5);
  const campaign = (index: number) => ({
    id: `cmp${index + 1}`,
    advertiser: rng.int(advertisers),
    category: rng.int(CATEGORIES.length),
    effect: 0.3 * rng.normal(),
  });
  const campaignCount = Math.max(1, Math.round(established / 4));
  const campaigns = Array.from({ length: campaignCount }, (_, c) => campaign(c));
  // Some new ads come with new campaigns (of known advertisers), the rest extend running ones.
  const newCampaigns =
    fresh > 0 ? Array.from({ length: Math.max(1, Math.round(fresh / 4)) }, (_, c) => campaign(campaignCount + c)) : [];
  const ads: Ad[] = [];
  for (let a = 0; a < established + fresh; a++) {
    const isNew = a >= established;
    const c =
      isNew && rng.next() < 0.4
        ? newCampaigns[rng.int(newCampaigns.length)]!
        : campaigns[a < campaignCount ? a : rng.int(campaignCount)]!;
    const price = Math.min(
      5000,
      Math.max(0.5, PRICE_MEDIAN * Math.exp(categoryPrice[c.category]! + 1.1 * rng.normal())),
    );
    const latent = new Float32Array(LATENT);
    for (let k = 0; k < LATENT; k++) latent[k] = 0.4 * rng.normal();
    ads.push({
      id: `ad${a + 1}`,
      campaignId: c.id,
      advertiserId: `adv${c.advertiser + 1}`,
      category: c.category,
      price: Math.round(price * 100) / 100,
      launchDay: isNew ? testStartDay : -(1 + 59 * rng.next()),
      effect: advertiserEffect[c.advertiser]! + c.effect + 0.25 * rng.normal(),
      latent,
    });
  }
  return { ads, established };
}

/** Builds the world of these options: a deterministic function of them. */
export function buildWorld(o: ResolvedSyntheticOptions): World {
  const rng = createRandom(o.seed, 10);
  const total = o.trainRows + o.testRows;
  const testStartDay = (o.days * o.trainRows) / total;
  const s = o.interactions;

  const users = buildUsers(o, rng);
  const { ads, established: establishedAds } = buildAds(o, rng, testStartDay);
  const sites: Site[] = Array.from({ length: o.sites }, (_, i) => ({
    id: `site${i + 1}`,
    category: rng.int(SITE_CATEGORIES.length),
    effect: 0.35 * rng.normal(),
    deviceEffect: normals(rng, DEVICE_TYPES.length, 0.35),
  }));

  const categoryEffect = normals(rng, CATEGORIES.length, 0.2);
  const siteCategoryEffect = normals(rng, SITE_CATEGORIES.length, 0.15);
  const locationEffect = normals(rng, LOCATIONS.length, 0.1);
  const weekdayEffect = normals(rng, WEEKDAYS.length, 0.05);
  const genderEffect = [0.05, -0.05];
  const segmentByCategory = matrix(rng, SEGMENTS.length, CATEGORIES.length, 0.6);
  const siteCategoryByCategory = matrix(rng, SITE_CATEGORIES.length, CATEGORIES.length, 0.3);
  const genderByCategory = matrix(rng, GENDERS.length, CATEGORIES.length, 0.25);
  const preferredAge = CATEGORIES.map(() => 22 + 38 * rng.next());
  // Hour effects, main and per category, tabulated: hour × category is a daily cycle whose
  // peak hour differs by category (food at lunch and dinner, gaming late, ...).
  const hourEffect = Float64Array.from({ length: 24 }, (_, h) => 0.15 * Math.cos((2 * Math.PI * (h - 20)) / 24));
  const hourByCategory = CATEGORIES.map(() => {
    const amplitude = 0.35 * (0.5 + rng.next());
    const peak = 24 * rng.next();
    return Float64Array.from({ length: 24 }, (_, h) => amplitude * Math.cos((2 * Math.PI * (h - peak)) / 24));
  });

  const hourCdf = cumulative(HOUR_TRAFFIC);
  const positionCdf = cumulative(POSITION_SHARE);
  const siteCdf = cumulative(zipfWeights(o.sites, 1, rng));
  const establishedUserCdf = cumulative(users.share.subarray(0, users.established));
  const newUserCdf = users.count > users.established ? cumulative(users.share.subarray(users.established)) : null;
  const establishedAdCdf = cumulative(zipfWeights(establishedAds, 0.9, rng));
  const newAdCdf = ads.length > establishedAds ? cumulative(zipfWeights(ads.length - establishedAds, 0.9, rng)) : null;
  const logFatigue = Math.log(1 - 0.35);

  const logitWithoutBase = (m: Impression): number => {
    const u = m.user;
    const ad = ads[m.ad]!;
    const site = sites[m.site]!;
    const c = ad.category;
    const device = users.device[u]!;
    const age = users.age[u]!;
    const gender = users.gender[u]!;
    const logPrice = Math.log(ad.price / PRICE_MEDIAN);
    const ageFromPreferred = (age - preferredAge[c]!) / 15;
    let affinity = 0;
    for (let k = 0; k < LATENT; k++) affinity += users.latent[u * LATENT + k]! * ad.latent[k]!;
    const main =
      users.propensity[u]! +
      ad.effect +
      categoryEffect[c]! +
      site.effect +
      siteCategoryEffect[site.category]! +
      DEVICE_EFFECT[device]! +
      locationEffect[users.location[u]!]! +
      weekdayEffect[m.weekday]! +
      hourEffect[m.hour]! +
      POSITION_EFFECT[m.position - 1]! +
      genderEffect[gender]! -
      0.15 * ((age - 35) / 20) ** 2 -
      0.15 * logPrice -
      0.12 * Math.log1p(users.activity[u]!) +
      0.25 * Math.exp(-m.priorImpressions / 5) +
      0.3 * Math.exp(-m.adAgeDays / 4) -
      0.06 * (m.sessionDepth - 1);
    const pairwise =
      segmentByCategory[users.segment[u]!]![c]! +
      site.deviceEffect[device]! +
      hourByCategory[c]![m.hour]! +
      siteCategoryByCategory[site.category]![c]! +
      genderByCategory[gender]![c]! -
      0.3 * (ageFromPreferred * ageFromPreferred - 1) +
      0.12 * ((age - 40) / 15) * logPrice +
      POSITION_SLOPE_BY_DEVICE[device]! * (m.position - 1) +
      affinity;
    return main + s * pairwise;
  };

  const draw = (r: Random, index: number, m: Impression, priorImpressions: Uint32Array | null, base: number): void => {
    const test = index >= o.trainRows;
    // Time: rows are spread evenly over the days, and within a day along the traffic curve, so
    // the file order is the time order.
    const t = (index / total) * o.days;
    const day = Math.floor(t);
    m.day = day;
    m.hour = sample(hourCdf, t - day);
    m.weekday = day % 7;
    if (test && newUserCdf && r.next() < o.coldUsers) m.user = users.established + sample(newUserCdf, r.next());
    else m.user = sample(establishedUserCdf, r.next());
    if (test && newAdCdf && r.next() < o.coldAds) m.ad = establishedAds + sample(newAdCdf, r.next());
    else m.ad = sample(establishedAdCdf, r.next());
    m.site = sample(siteCdf, r.next());
    m.position = 1 + sample(positionCdf, r.next());
    // Geometric session depth: the n-th ad the user sees in this visit.
    m.sessionDepth = Math.min(30, 1 + Math.floor(Math.log(1 - r.next()) / logFatigue));
    m.priorImpressions = priorImpressions
      ? priorImpressions[m.user]!
      : Math.floor(users.share[m.user]! * (test ? index - o.trainRows : index));
    m.adAgeDays = Math.max(0, day + (m.hour + 0.5) / 24 - ads[m.ad]!.launchDay);
    m.logit = base + logitWithoutBase(m);
  };

  // Solve the base by bisection on a fixed sample of the train traffic, drawn from its own stream.
  const calibration = createRandom(o.seed, 13);
  const n = Math.min(20_000, Math.max(2_000, o.trainRows));
  const logits = new Float64Array(n);
  const scratch = emptyImpression();
  for (let i = 0; i < n; i++) {
    draw(calibration, Math.floor((i * o.trainRows) / n), scratch, null, 0);
    logits[i] = scratch.logit;
  }
  const meanProbability = (b: number): number => {
    let sum = 0;
    for (const l of logits) sum += 1 / (1 + Math.exp(-(b + l)));
    return sum / n;
  };
  let lo = -30;
  let hi = 10;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (meanProbability(mid) < o.ctr) lo = mid;
    else hi = mid;
  }
  const base = (lo + hi) / 2;

  return {
    options: o,
    users,
    ads,
    establishedAds,
    sites,
    base,
    testStartDay,
    draw: (r, index, out, prior) => draw(r, index, out, prior, base),
    logit: (m) => base + logitWithoutBase(m),
  };
}
