export {
  type DeployAction,
  type DeployActionKind,
  type DeployOptions,
  type DeployResult,
  deploymentEnvVar,
  deployPlan,
  expertFunctionEnvironment,
  expertFunctionHandler,
  undeployPlan,
} from './deploy/deploy.js';
export {
  containerDockerfile,
  type ExpertGraphSource,
  expertFunctionBundle,
  type FunctionPackage,
  graphPath,
  maxDirectZipBytes,
  maxUnzippedBytes,
  onnxruntimeEntries,
  packageExpertFunction,
  zipPackage,
} from './deploy/packaging.js';
export { samTemplate, writeSamProject } from './deploy/sam.js';
export { apiErrors, LambdaApiError, LambdaExecutorError } from './errors.js';
export {
  type BinaryEnvelope,
  decodeEnvelope,
  decodeEnvelopeObject,
  encodeEnvelope,
  envelopeBytes,
} from './executor/envelope.js';
export { LambdaExecutor } from './executor/lambda-executor.js';
export { Semaphore } from './executor/semaphore.js';
export {
  createExpertFunction,
  type ExpertFunction,
  type ExpertHandlerOptions,
} from './handler/expert-handler.js';
export {
  type ExpertManifest,
  expertKey,
  expertManifestFile,
  expertManifestSchema,
} from './handler/manifest.js';
export {
  type LambdaExecutorOptions,
  type LocalRuntimeOptions,
  lambdaExecutorOptionsSchema,
  localRuntimeOptionsSchema,
  type ResolvedLocalRuntimeOptions,
} from './options.js';
export type { FunctionRunner } from './runtime/function-instance.js';
export { type LocalRuntime, localCodeBucket, startLocalRuntime } from './runtime/local-runtime.js';
export { functionEnv } from './runtime/protocol.js';
export { locateRic, type RicLocation } from './runtime/ric.js';
export {
  newTraceId,
  type RuntimeApiEvents,
  RuntimeApiServer,
  type RuntimeInvocation,
  runtimeApiVersion,
} from './runtime/runtime-api.js';
export { LocalS3Store } from './runtime/s3-server.js';
export {
  emulatedDurationMs,
  maxLambdaVcpus,
  megabytesPerVcpu,
  vcpuShare,
  vcpuThreads,
} from './runtime/vcpu.js';
export { readZip, writeZip, type ZipEntry } from './runtime/zip.js';
