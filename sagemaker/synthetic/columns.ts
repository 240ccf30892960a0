/**
 * What the data shows of an impression: the columns of the synthetic CSV (the project's csv
 * contract: a header, the label `click`, an empty cell for a missing value), as a feature map
 * or as one CSV line. Hidden parts of the world (true segment of a user whose segment is not
 * observed, latent affinities, effects) never reach a column.
 */
import {
  CATEGORIES,
  DEVICE_TYPES,
  GENDERS,
  type Impression,
  LOCATIONS,
  OBSERVED_AGE,
  OBSERVED_GENDER,
  OBSERVED_SEGMENT,
  SEGMENTS,
  SITE_CATEGORIES,
  WEEKDAYS,
  type World,
} from './world.js';

export const LABEL_COLUMN = 'click';

/** Feature columns, in file order. */
export const FEATURE_COLUMNS = [
  'hour',
  'weekday',
  'user_id',
  'user_segment',
  'gender',
  'age',
  'user_activity',
  'user_prior_impressions',
  'device_type',
  'location',
  'site_id',
  'site_category',
  'position',
  'session_depth',
  'ad_id',
  'campaign_id',
  'advertiser_id',
  'ad_category',
  'ad_price',
  'ad_age_days',
] as const;

export type FeatureColumn = (typeof FEATURE_COLUMNS)[number];

/** Columns whose every non-empty cell is a number (the rest are categorical: ids and names). */
export const NUMERIC_COLUMNS: readonly FeatureColumn[] = [
  'age',
  'user_activity',
  'user_prior_impressions',
  'position',
  'session_depth',
  'ad_price',
  'ad_age_days',
];

/**
 * The pairs of columns whose interaction is in the true logit (see world.ts), for reference
 * models that are given the crosses explicitly. The age × price and user × ad (latent) terms
 * are left out: they are not crosses of two categories.
 */
export const INTERACTION_PAIRS: readonly (readonly [FeatureColumn, FeatureColumn])[] = [
  ['user_segment', 'ad_category'],
  ['device_type', 'site_id'],
  ['hour', 'ad_category'],
  ['site_category', 'ad_category'],
  ['gender', 'ad_category'],
  ['age', 'ad_category'],
  ['position', 'device_type'],
];

export const CSV_HEADER = `${[LABEL_COLUMN, ...FEATURE_COLUMNS].join(',')}\n`;

export type SyntheticFeatures = { readonly [K in FeatureColumn]: string | number | null };

// Values are letters, digits and `_` only (never a comma, quote or newline), so no cell needs quoting.
const HOURS = Array.from({ length: 24 }, (_, h) => `h${String(h).padStart(2, '0')}`);

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** The impression as the feature map a model sees (null = missing). */
export function featuresOf(world: World, m: Impression): SyntheticFeatures {
  const u = world.users;
  const ad = world.ads[m.ad]!;
  const site = world.sites[m.site]!;
  const observed = u.observed[m.user]!;
  return {
    hour: HOURS[m.hour]!,
    weekday: WEEKDAYS[m.weekday]!,
    user_id: `u${m.user + 1}`,
    user_segment: observed & OBSERVED_SEGMENT ? SEGMENTS[u.segment[m.user]!]! : null,
    gender: observed & OBSERVED_GENDER ? GENDERS[u.gender[m.user]!]! : null,
    age: observed & OBSERVED_AGE ? u.age[m.user]! : null,
    user_activity: round(u.activity[m.user]!, 2),
    user_prior_impressions: m.priorImpressions,
    device_type: DEVICE_TYPES[u.device[m.user]!]!,
    location: LOCATIONS[u.location[m.user]!]!,
    site_id: site.id,
    site_category: SITE_CATEGORIES[site.category]!,
    position: m.position,
    session_depth: m.sessionDepth,
    ad_id: ad.id,
    campaign_id: ad.campaignId,
    advertiser_id: ad.advertiserId,
    ad_category: CATEGORIES[ad.category]!,
    ad_price: ad.price,
    ad_age_days: round(m.adAgeDays, 1),
  };
}

/** The impression as one CSV line (label first, then FEATURE_COLUMNS), newline included. */
export function csvLine(world: World, m: Impression, label: 0 | 1): string {
  const f = featuresOf(world, m);
  let line = label === 1 ? '1' : '0';
  for (const column of FEATURE_COLUMNS) {
    const v = f[column];
    line += v === null ? ',' : `,${v}`;
  }
  return `${line}\n`;
}
