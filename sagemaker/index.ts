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
export {
  ALGORITHM,
  FORMAT_VERSION,
  InvalidModelError,
  type LoadedModel,
  loadModel,
  MANIFEST_FILE,
  type Model,
  type ModelManifest,
  ModelManifestSchema,
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
  createScorer,
  type Explanation,
  loadScorer,
  type Score,
  type ScoreOptions,
  type Scorer,
  sigmoid,
} from './model/scorer.js';
export {
  DEFAULT_FTRL,
  type Example,
  type ExampleSource,
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
