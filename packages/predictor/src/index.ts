export { normalQuantile } from '@switchyard/core';
export { calibrateDispersion, neededDispersion } from './dispersion.js';
export { inputError, predictorError } from './errors.js';
export { predictorFromExpertLoad } from './expert-load-predictor.js';
export { computeLevelKeys, type LevelKind, levelKinds, type TokenBatch, validateBatch } from './features.js';
export { fitPredictor } from './fit.js';
export { LayerModel } from './layer-model.js';
export { LoadAccumulator, UnseenContexts } from './load-accumulator.js';
export {
  type EvaluationResult,
  evaluatePredictor,
  type ProbabilitySource,
  scoreProbabilities,
  topKIndices,
} from './metrics.js';
export {
  type EvaluateOptions,
  evaluateOptionsSchema,
  type FitOptions,
  fitOptionsSchema,
  type PredictorStrategy,
  predictorStrategies,
  type SerializeOptions,
  serializeOptionsSchema,
} from './options.js';
export {
  type DriftStatus,
  type LoadPrediction,
  type ObserveResult,
  Predictor,
  type PredictorState,
} from './predictor.js';
export {
  deserializePredictor,
  type PredictorFile,
  type PruneReport,
  predictorFileSchema,
  predictorFileVersion,
  predictorFormat,
  readPredictorFile,
  serializePredictor,
  writePredictorFile,
} from './serialization.js';
