export { type Checkpoint, loadCheckpoint, summarizeCheckpoint } from './checkpoint.js';
export { type ModelConfig, parseModelConfig, runnableArchitectures } from './config.js';
export { ModelError } from './errors.js';
export {
  buildExpertGraph,
  buildSharedExpertGraph,
  buildSwigluGraph,
  type CheckpointHolder,
  expertGraphInput,
  expertGraphOutput,
  expertWeights,
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
export { loadModel, type MoeModel } from './model.js';
export { createInProcessMoeStep, type ExpertExecutor } from './moe-step.js';
export {
  encodeOnnxModel,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto-writer.js';
export {
  type GenerateOptions,
  generateOptionsSchema,
  type LoadModelOptions,
  loadModelOptionsSchema,
} from './options.js';
export { type Routing, route, topKRows } from './routing.js';
export { argmax, sampleToken } from './sampling.js';
export type { Sequence } from './sequence-state.js';
export type { TensorNames } from './tensor-names.js';
export { type RecordTraceOptions, recordTrace } from './trace.js';
export { defaultVerifyTolerances, type VerifyReport, type VerifyTolerances, verifyModel } from './verify.js';
