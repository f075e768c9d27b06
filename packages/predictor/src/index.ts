export { normalQuantile } from '@switchyard/core';
export { inputError, predictorError } from './errors.js';
export { computeLevelKeys, type LevelKind, levelKinds, type TokenBatch, validateBatch } from './features.js';
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
  calibrateDispersion,
  type DriftStatus,
  fitPredictor,
  type LoadPrediction,
  neededDispersion,
  type ObserveResult,
  Predictor,
  type PredictorState,
  predictorFromExpertLoad,
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
