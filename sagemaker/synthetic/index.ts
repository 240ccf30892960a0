/**
 * The model benchmark's synthetic CTR data: a seeded world with main effects and pairwise
 * interactions, known true click probabilities, time-ordered train and test rows and
 * cold-start flags. See sagemaker/synthetic/README.md.
 */
export {
  CSV_HEADER,
  FEATURE_COLUMNS,
  type FeatureColumn,
  featuresOf,
  INTERACTION_PAIRS,
  LABEL_COLUMN,
  NUMERIC_COLUMNS,
  type SyntheticFeatures,
} from './columns.js';
export {
  type SplitSummary,
  SYNTHETIC_FILES,
  SYNTHETIC_FORMAT,
  type SyntheticExample,
  type SyntheticSummary,
  syntheticExamples,
  type WriteOptions,
  writeSyntheticDataset,
} from './dataset.js';
export { type ResolvedSyntheticOptions, resolveSyntheticOptions, type SyntheticOptions } from './options.js';
export { COLD_AD, COLD_USER, createTraffic, type Traffic, type TrafficRow } from './traffic.js';
export { buildWorld, type World } from './world.js';
