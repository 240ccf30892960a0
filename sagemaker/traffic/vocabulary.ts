/**
 * The vocabularies and options of the simulated world (devices, locations, interest segments,
 * ad categories, slots), shared by the bootstrap simulator (sagemaker/simulate.ts) and the
 * traffic driver's world (world.ts), which builds the world both use.
 */
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
