export { type Checkpoint, loadCheckpoint, summarizeCheckpoint } from './checkpoint.js';
export { compareModels, type ModelComparison } from './compare-models.js';
export type { ModelConfig } from './config.js';
export { ModelError, type ModelErrorCode, type ModelErrorOptions } from './errors.js';
export { type EvaluateResult, evaluateLikelihood } from './evaluate.js';
export {
  buildExpertGraph,
  buildSwigluGraph,
  type CheckpointHolder,
  type ExpertGraphOptions,
  type SwigluWeights,
} from './expert-graph.js';
export { createExpertRunner, type ExpertRunner } from './expert-runner.js';
export type {
  ForwardInput,
  ForwardObserver,
  ForwardOptions,
  ForwardResult,
  MoeLayerEvent,
} from './forward.js';
export type { GenerateResult } from './generate.js';
export { type ExportGgufResult, exportGguf } from './gguf/export-gguf.js';
export type { GgufTensorType, GgufValue } from './gguf/gguf-format.js';
export {
  type GgufContents,
  type GgufTensor,
  type GgufWriteResult,
  writeGgufFile,
} from './gguf/gguf-writer.js';
export { loadModel, type MoeModel } from './model.js';
export { createInProcessMoeStep, type ExpertExecutor } from './moe-step.js';
export type {
  CompareModelsOptions,
  EvaluateOptions,
  ExpertRunnerOptions,
  ExportGgufOptions,
  GenerateOptions,
  LoadModelOptions,
  RecordTraceOptions,
} from './options.js';
export type { Routing } from './routing.js';
export { sampleToken } from './sampling.js';
export type { Sequence } from './sequence-state.js';
export { recordTrace } from './trace.js';
export { type VerifyReport, type VerifyTolerances, verifyModel } from './verify.js';
