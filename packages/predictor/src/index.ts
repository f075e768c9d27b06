export {
  PredictorError,
  type PredictorErrorCode,
  type PredictorErrorOptions,
} from './errors.js';
export { predictorFromExpertLoad } from './expert-load-predictor.js';
export type { TokenBatch } from './features.js';
export { fitPredictor } from './fit.js';
export { type EvaluationResult, evaluatePredictor } from './metrics.js';
export {
  type EvaluateOptions,
  type ExpertLoadOptions,
  type FitOptions,
  type PredictorStrategy,
  predictorStrategies,
  type SerializeOptions,
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
  readPredictorFile,
  serializePredictor,
  writePredictorFile,
} from './serialization.js';
