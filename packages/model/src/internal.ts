// @switchyard/model/internal: the building blocks sibling packages, tools and benchmarks may use (graph
// contracts, routing, the ONNX writer, option schemas). No stability promise beyond the monorepo;
// applications use the package's main entry point.
export { parseModelConfig, runnableArchitectures } from './config.js';
export {
  buildSharedExpertGraph,
  expertGraphInput,
  expertGraphOutput,
  expertWeights,
} from './expert-graph.js';
export { expertWeightBytes } from './expert-quantization.js';
export { encodeGgufHeader, type GgufLayout } from './gguf/gguf-writer.js';
export { llamaCppArchitectures } from './gguf/llama-cpp-layout.js';
export type { GraphQuantization } from './graph-builder.js';
export {
  encodeOnnxModel,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto-writer.js';
export {
  compareModelsOptionsSchema,
  evaluateOptionsSchema,
  expertRunnerOptionsSchema,
  exportGgufOptionsSchema,
  generateOptionsSchema,
  loadModelOptionsSchema,
  type ResolvedEvaluateOptions,
  type ResolvedExpertRunnerOptions,
  type ResolvedExportGgufOptions,
  type ResolvedGenerateOptions,
  type ResolvedLoadModelOptions,
  type ResolvedRecordTraceOptions,
  recordTraceOptionsSchema,
} from './options.js';
export { route, routerScores } from './routing.js';
export { argmax } from './sampling.js';
export type { TensorNames } from './tensor-names.js';
export { defaultVerifyTolerances } from './verify.js';
