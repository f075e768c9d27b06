// @switchyard/predictor/internal: the building blocks sibling packages, tools and benchmarks may
// use. No stability promise beyond the monorepo; applications use the package's main entry point.
export { calibrateDispersion, neededDispersion } from './dispersion.js';
export { computeLevelKeys, type LevelKind, levelKinds, validateBatch } from './features.js';
export { LayerModel } from './layer-model.js';
export { LoadAccumulator, UnseenContexts } from './load-accumulator.js';
export { type ProbabilitySource, scoreProbabilities } from './metrics.js';
export {
  evaluateOptionsSchema,
  expertLoadOptionsSchema,
  fitOptionsSchema,
  type ResolvedEvaluateOptions,
  type ResolvedExpertLoadOptions,
  type ResolvedFitOptions,
  type ResolvedSerializeOptions,
  serializeOptionsSchema,
} from './options.js';
export { predictorFileSchema, predictorFileVersion, predictorFormat } from './serialization.js';
