/**
 * The stream of impressions of a synthetic data set: train rows, then test rows, each with its
 * true click probability, its drawn click and, for test rows, whether its user or its ad never
 * appeared in train (tracked exactly, not assumed from how the row was drawn: an established
 * user may by chance have no train row).
 */
import { createRandom } from '../model/prng.js';
import { resolveSyntheticOptions, type SyntheticOptions } from './options.js';
import { buildWorld, emptyImpression, type Impression, type World } from './world.js';

/** Cold-start flags of a test row (a bit set; 0 = user and ad both seen in train). */
export const COLD_USER = 1;
export const COLD_AD = 2;

/** The current row of a traffic stream. Overwritten by the next step: copy what must outlive it. */
export interface TrafficRow {
  /** 0-based over train then test rows. */
  index: number;
  test: boolean;
  readonly impression: Impression;
  trueProbability: number;
  label: 0 | 1;
  /** COLD_USER | COLD_AD for test rows; always 0 for train rows. */
  cold: number;
}

export interface Traffic {
  readonly world: World;
  /** Total rows (train + test). */
  readonly rows: number;
  /** Advances to the next row; false after the last. */
  step(): boolean;
  readonly row: TrafficRow;
}

export function createTraffic(options: SyntheticOptions = {}): Traffic {
  const o = resolveSyntheticOptions(options);
  const world = buildWorld(o);
  const rows = o.trainRows + o.testRows;
  const requests = createRandom(o.seed, 11);
  const outcomes = createRandom(o.seed, 12);
  const priorImpressions = new Uint32Array(world.users.count);
  const userInTrain = new Uint8Array(world.users.count);
  const adInTrain = new Uint8Array(world.ads.length);
  const row: TrafficRow = {
    index: -1,
    test: false,
    impression: emptyImpression(),
    trueProbability: 0,
    label: 0,
    cold: 0,
  };
  return {
    world,
    rows,
    row,
    step(): boolean {
      const index = row.index + 1;
      if (index >= rows) return false;
      row.index = index;
      const m = row.impression;
      world.draw(requests, index, m, priorImpressions);
      priorImpressions[m.user]! += 1;
      row.trueProbability = 1 / (1 + Math.exp(-m.logit));
      row.label = outcomes.next() < row.trueProbability ? 1 : 0;
      row.test = index >= o.trainRows;
      if (row.test) {
        row.cold = (userInTrain[m.user] ? 0 : COLD_USER) | (adInTrain[m.ad] ? 0 : COLD_AD);
      } else {
        userInTrain[m.user] = 1;
        adInTrain[m.ad] = 1;
        row.cold = 0;
      }
      return true;
    },
  };
}
