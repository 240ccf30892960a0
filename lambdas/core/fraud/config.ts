/**
 * The thresholds and memory bounds of the click-fraud rules, in one place. Each default is chosen
 * from what a human reviewer would call invalid traffic, not fitted to a benchmark; docs/fraud.md
 * gives the reasoning and the memory each bound implies.
 */
export interface FraudRulesConfig {
  /** Length of the sliding window of the click-rate rules: clicks in (t − window, t] count. */
  readonly rateWindowMs: number;
  /**
   * A user with more clicks than this inside one window is flagged. A person who clicks an ad
   * leaves for its landing page; more than 5 ad clicks in a minute is not browsing.
   */
  readonly maxUserClicksPerWindow: number;
  /**
   * The same for an IP. An IP can carry a household or a carrier NAT, so the bar is higher: 30
   * clicks a minute is ~3 000 impressions a minute at a 1 % CTR from one address.
   */
  readonly maxIpClicksPerWindow: number;
  /**
   * A click sooner than this after its impression is flagged as too fast: a person has to see the
   * ad, decide and move before clicking, which takes more than a second; scripts do not.
   */
  readonly minClickDelayMs: number;
  /** Impressions remembered (the most recent ones) to match clicks against: ~48 bytes each. */
  readonly recentImpressions: number;
  /**
   * Users (and, separately, IPs) whose click windows are kept, per generation of `rateWindowMs`;
   * at most twice this many are held. A flood of new keys starts a new generation early, which
   * forgets the windows of the previous one (docs/fraud.md).
   */
  readonly maxTrackedKeys: number;
  /** How long a click whose impression has not arrived waits for it (event time). */
  readonly pendingClickTtlMs: number;
  /** Impressions with waiting clicks, per generation of `pendingClickTtlMs` (at most twice this). */
  readonly maxPendingImpressions: number;
  /** Clicks kept waiting on one unknown impression; more are not kept. */
  readonly maxPendingClicksPerImpression: number;
  /** The site rule counts impressions and clicks per site in `siteBuckets` buckets of this length. */
  readonly siteBucketMs: number;
  readonly siteBuckets: number;
  /** Sites tracked at once; a site with no traffic in the window frees its place. */
  readonly maxSites: number;
  /** Evidence a site needs before it is judged (impressions and clicks in the window). */
  readonly siteMinImpressions: number;
  readonly siteMinClicks: number;
  /** Other sites with at least `siteMinImpressions` needed to say what is normal. */
  readonly siteMinPeers: number;
  /**
   * Chance, at one evaluation, that any honest site is flagged: the critical z is Bonferroni
   * corrected for the number of sites judged (z ≈ 4.15 for 60 sites, 5.2 for 10 000).
   */
  readonly siteFamilyAlpha: number;
  /**
   * The most recent clicks (all sites together) are remembered, so that when a site crosses the
   * threshold its earlier clicks still in the window are flagged too. ~0.4 KB a click at most.
   */
  readonly recentClicks: number;
  /** Events between two re-estimations of the peers' centre and spread. */
  readonly siteRefreshEvents: number;
  /** Seed of the id hashes (any 32-bit integer). */
  readonly hashSeed: number;
}

export const DEFAULT_FRAUD_RULES: FraudRulesConfig = {
  rateWindowMs: 60_000,
  maxUserClicksPerWindow: 5,
  maxIpClicksPerWindow: 30,
  minClickDelayMs: 1_000,
  recentImpressions: 1 << 19,
  maxTrackedKeys: 100_000,
  pendingClickTtlMs: 5 * 60_000,
  maxPendingImpressions: 50_000,
  maxPendingClicksPerImpression: 16,
  siteBucketMs: 5 * 60_000,
  siteBuckets: 12,
  maxSites: 10_000,
  siteMinImpressions: 1_000,
  siteMinClicks: 10,
  siteMinPeers: 10,
  siteFamilyAlpha: 0.001,
  recentClicks: 32_768,
  siteRefreshEvents: 5_000,
  hashSeed: 0x2545f491,
};

const INTEGER_BOUNDS: Readonly<Record<Exclude<keyof FraudRulesConfig, 'siteFamilyAlpha'>, [number, number]>> = {
  rateWindowMs: [1_000, 3_600_000],
  maxUserClicksPerWindow: [1, 1_000],
  maxIpClicksPerWindow: [1, 100_000],
  minClickDelayMs: [0, 600_000],
  recentImpressions: [16, 1 << 26],
  maxTrackedKeys: [1, 10_000_000],
  pendingClickTtlMs: [1_000, 86_400_000],
  maxPendingImpressions: [1, 10_000_000],
  maxPendingClicksPerImpression: [1, 1_000],
  siteBucketMs: [1_000, 86_400_000],
  siteBuckets: [1, 1_000],
  maxSites: [1, 1_000_000],
  siteMinImpressions: [1, 1_000_000_000],
  siteMinClicks: [0, 1_000_000_000],
  siteMinPeers: [1, 100_000],
  recentClicks: [0, 10_000_000],
  siteRefreshEvents: [1, 100_000_000],
  hashSeed: [-(2 ** 31), 2 ** 32 - 1],
};

/** The defaults with `overrides` applied; a value out of its documented range is a RangeError. */
export function resolveFraudRules(overrides: Partial<FraudRulesConfig> = {}): FraudRulesConfig {
  const config: FraudRulesConfig = { ...DEFAULT_FRAUD_RULES, ...overrides };
  for (const [name, [min, max]] of Object.entries(INTEGER_BOUNDS)) {
    const value = config[name as keyof FraudRulesConfig];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`fraud rule ${name} must be an integer in [${min}, ${max}], got ${value}`);
    }
  }
  if (!(config.siteFamilyAlpha > 0 && config.siteFamilyAlpha < 1)) {
    throw new RangeError(`fraud rule siteFamilyAlpha must be in (0, 1), got ${config.siteFamilyAlpha}`);
  }
  return config;
}
