export { delay } from './delay.js';
export {
  type DeploymentPlan,
  type DeploymentPlanInput,
  deploymentPlanSchema,
  type PlanFunction,
  type PlanLayer,
  planExpertSchema,
  planFunctionSchema,
  planLayerSchema,
  planStrategies,
  type TransportMethod,
  transportMethods,
} from './deployment-plan.js';
export {
  bfloat16BitsToNumber,
  type Dtype,
  dtypeSizes,
  float16BitsToNumber,
  isDtype,
  numberToBfloat16Bits,
  numberToFloat16Bits,
  toFloat32Array,
  toInt32Array,
} from './dtype.js';
export {
  describeError,
  errorCodes,
  SwitchyardError,
  type SwitchyardErrorCode,
  type SwitchyardErrorOptions,
} from './errors.js';
export {
  type BillingReport,
  type Executor,
  formatReportLine,
  type InvokeRequest,
  type InvokeResult,
  parseReportLine,
} from './executor.js';
export { expertProcessEnvironment, onnxSessionSettings } from './expert-process.js';
export {
  type ExpertQuantization,
  type ExpertQuantizationFormat,
  expertQuantizationFormats,
  expertQuantizationSchema,
  type Int4BlockSize,
  int4BlockSizes,
  weightMatrixBytes,
} from './expert-quantization.js';
export { type LambdaLimits, lambdaLimits, vcpusForMemory } from './lambda-limits.js';
export { type Logger, noopLogger } from './logger.js';
export {
  hubCacheDirectories,
  type ModelReferenceEnv,
  type ResolvedModelReference,
  resolveModelReference,
} from './model-reference.js';
export {
  type Architecture,
  type ModelSummary,
  modelSummarySchema,
  supportedArchitectures,
} from './model-summary.js';
export {
  combineExpertOutputs,
  type ExpertBatchOutput,
  type ExpertGroups,
  gatherRows,
  groupTokensByExpert,
  type MoeStep,
  type MoeStepRequest,
} from './moe-step.js';
export { type PlanModel, planModelSchema, toPlanModel } from './plan-model.js';
export { createRandom, type RandomSource, randomInteger, randomNormal, shuffleInPlace } from './random.js';
export {
  expertLoad,
  parseRoutingTrace,
  type RoutingTrace,
  type RoutingTraceMeta,
  readRoutingTrace,
  routingTraceMetaSchema,
  serializeRoutingTrace,
  traceMetaPath,
  validateRoutingTrace,
} from './routing-trace.js';
export {
  decodeS3Reference,
  encodeS3Reference,
  isS3Reference,
  type S3Reference,
  s3ReferenceMarker,
  s3ReferenceSchema,
} from './s3-reference.js';
export {
  type ParseSafetensorsOptions,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensorsFile,
  type SafetensorsEntry,
  type SafetensorsFile,
  type SafetensorsHeader,
  safetensorsHeaderLength,
  serializeSafetensors,
  type TensorInput,
  type TensorView,
} from './safetensors.js';
export { median, normalQuantile, quantile } from './statistics.js';
export { topKIndices, topKRows } from './top-k.js';
export { parseJson, parseWithSchema } from './validation.js';
export {
  crc32,
  crc32Table,
  type DecodeOptions,
  decodeExpertMessage,
  draftExpertMessage,
  type EncodeOptions,
  type ExpertMessage,
  type ExpertMessageDraft,
  type ExpertMessageHeader,
  encodeExpertMessage,
  type WireDtype,
  type WireKind,
  wireDtypes,
  wireHeaderBytes,
  wireMagic,
  wireMessageBytes,
  wireVersion,
} from './wire.js';
