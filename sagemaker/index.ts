/**
 * The learning algorithm's public API: feature encoding, the artifact, the scorer, the trainer,
 * metrics, packing, and the traffic simulator with the bootstrap model.
 */

export {
  type BootstrapMetrics,
  type BootstrapOptions,
  type BootstrapResult,
  trainBootstrapModel,
} from './bootstrap.js';
export * from './data/index.js';
export {
  HYPERPARAMETERS,
  type Hyperparameter,
  HyperparameterError,
  parseHyperparameter,
} from './hyperparameters.js';
export {
  ALGORITHM,
  COUNTS_FILE,
  FACTORS_FILE,
  FORMAT_VERSION,
  InvalidModelError,
  LEGACY_ALGORITHM,
  LEGACY_FORMAT_VERSION,
  type LoadedModel,
  loadModel,
  MANIFEST_FILE,
  MAX_COUNT,
  MAX_FACTOR_DIM,
  type Model,
  type ModelHeader,
  type ModelManifest,
  ModelManifestSchema,
  type ModelManifestV1,
  ModelManifestV1Schema,
  type ModelManifestV2,
  manifestOf,
  readManifest,
  saveModel,
  WEIGHTS_FILE,
  type WeightsDescriptor,
} from './model/artifact.js';
export {
  DEFAULT_BITS,
  DEFAULT_HASH_SEED,
  type EncodedFeatures,
  FeatureEncoder,
  type FeatureMap,
  type FeatureValue,
  fnv1a32,
  HASH_NAME,
  type HashingConfig,
  hashToken,
  MISSING,
  numericBucket,
  RARE,
  tokenOf,
} from './model/encoding.js';
export {
  auc,
  binaryEntropy,
  calibration,
  type Evaluation,
  evaluate,
  logLoss,
  normalizedEntropy,
  type ReliabilityBin,
  reliabilityDiagram,
} from './model/metrics.js';
export {
  DEFAULT_MAX_UNPACKED_BYTES,
  packModel,
  type UnpackOptions,
  type UnpackResult,
  unpackModel,
} from './model/pack.js';
export { createRandom, type Random } from './model/prng.js';
export {
  type CandidateBatch,
  createScorer,
  type Explanation,
  loadScorer,
  type Score,
  type ScoreOptions,
  type Scorer,
  sigmoid,
  type Uncertainty,
} from './model/scorer.js';
export {
  type CrossEvent,
  DEFAULT_FACTORS,
  DEFAULT_FTRL,
  DEFAULT_MAX_PASSES,
  DEFAULT_MIN_COUNT,
  DEFAULT_VALIDATION_FRACTION,
  type Example,
  type ExampleSource,
  type FactorHyperparameters,
  type FtrlHyperparameters,
  type PassReport,
  type TrainOptions,
  trainModel,
} from './model/train.js';
export {
  CATEGORIES,
  type CatalogueAd,
  createSimulator,
  DEVICE_TYPES,
  LOCATIONS,
  type RequestFeatures,
  type SimulatedExample,
  type SimulatedRequest,
  type Simulator,
  type SimulatorOptions,
  simulatedExamples,
  type TrainingRow,
} from './simulate.js';
