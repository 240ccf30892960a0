/**
 * Options of the synthetic CTR data set, their defaults and their validation. Population sizes
 * scale with the row count by default, so that a 10 M-row set is not ten 1 M-row sets of the
 * same few users.
 */

export interface SyntheticOptions {
  /** Seed of everything: the world, the traffic and the clicks (default 1). */
  readonly seed?: number;
  /** Rows in train.csv, the earlier part of the time span (default 200 000). */
  readonly trainRows?: number;
  /** Rows in test.csv, the later part (default 50 000). */
  readonly testRows?: number;
  /** Users present from the start (default: a quarter of all rows, at least 1 000). */
  readonly users?: number;
  /** Ads running from the start (default: all rows / 250, within [100, 50 000]). */
  readonly ads?: number;
  /** Sites (default: all rows / 2 500, within [30, 5 000]). */
  readonly sites?: number;
  /** Mean true click probability over the train traffic (default 0.02). */
  readonly ctr?: number;
  /** Days the data spans, train then test (default 14). */
  readonly days?: number;
  /** Share of test rows whose user first appears in the test period (default 0.1). */
  readonly coldUsers?: number;
  /** Share of test rows whose ad is launched at the start of the test period (default 0.05). */
  readonly coldAds?: number;
  /**
   * Scale of every pairwise interaction in the true logit (default 1). 0 makes the world
   * additive, where a linear model on the same fields is as good as any.
   */
  readonly interactions?: number;
}

export type ResolvedSyntheticOptions = Required<SyntheticOptions>;

const MAX_ROWS = 1_000_000_000;
const MAX_POPULATION = 50_000_000;

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

function share(name: string, value: number, maxExclusive: number): number {
  if (!(Number.isFinite(value) && value >= 0 && value < maxExclusive)) {
    throw new RangeError(`${name} must be a number in [0, ${maxExclusive}), got ${value}`);
  }
  return value;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** Fills in the defaults and checks every option; throws a RangeError naming the bad one. */
export function resolveSyntheticOptions(options: SyntheticOptions = {}): ResolvedSyntheticOptions {
  const trainRows = integer('trainRows', options.trainRows ?? 200_000, 1, MAX_ROWS);
  const testRows = integer('testRows', options.testRows ?? 50_000, 1, MAX_ROWS);
  const total = trainRows + testRows;
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const ctr = options.ctr ?? 0.02;
  if (!(ctr > 0 && ctr < 0.5)) throw new RangeError(`ctr must be in (0, 0.5), got ${ctr}`);
  const days = options.days ?? 14;
  if (!(Number.isFinite(days) && days >= 1 && days <= 3650)) {
    throw new RangeError(`days must be a number in [1, 3650], got ${days}`);
  }
  const interactions = options.interactions ?? 1;
  if (!(Number.isFinite(interactions) && interactions >= 0 && interactions <= 10)) {
    throw new RangeError(`interactions must be a number in [0, 10], got ${interactions}`);
  }
  return {
    seed,
    trainRows,
    testRows,
    users: integer('users', options.users ?? Math.max(1_000, Math.round(total / 4)), 1, MAX_POPULATION),
    ads: integer('ads', options.ads ?? Math.round(clamp(total / 250, 100, 50_000)), 1, MAX_POPULATION),
    sites: integer('sites', options.sites ?? Math.round(clamp(total / 2_500, 30, 5_000)), 1, MAX_POPULATION),
    ctr,
    days,
    coldUsers: share('coldUsers', options.coldUsers ?? 0.1, 1),
    coldAds: share('coldAds', options.coldAds ?? 0.05, 1),
    interactions,
  };
}
