/**
 * Traffic for `adclick simulate`: page views of the bootstrap model's simulated world, with
 * known true click probabilities, drift and labelled fraud. No I/O: the CLI sends them.
 */
export {
  BOT_PAGES_PER_MINUTE,
  type Candidate,
  createPageGenerator,
  type FraudClick,
  type FraudKind,
  type Page,
  type PageGenerator,
  type PageOptions,
  type TrafficTruth,
  USER_SKEW,
} from './pages.js';
export { createTimeline, HOUR_TRAFFIC, type Timeline } from './timeline.js';
export {
  buildTrafficWorld,
  MAX_SLOTS,
  POSITION_EFFECT,
  resolveWorldOptions,
  type TrafficWorld,
  type WorldAd,
  type WorldOptions,
  type WorldUser,
} from './world.js';
