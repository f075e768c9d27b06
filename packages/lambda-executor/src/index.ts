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
  type LambdaExecutorOptions,
  type LocalRuntimeOptions,
  lambdaExecutorOptionsSchema,
  localRuntimeOptionsSchema,
  type ResolvedLocalRuntimeOptions,
} from './options.js';
export { type LocalRuntime, localCodeBucket, startLocalRuntime } from './runtime/local-runtime.js';
export { functionEnv } from './runtime/protocol.js';
export { LocalS3Store } from './runtime/s3-server.js';
export {
  emulatedDurationMs,
  maxLambdaVcpus,
  megabytesPerVcpu,
  vcpuShare,
  vcpuThreads,
} from './runtime/vcpu.js';
export { readZip, writeZip, type ZipEntry } from './runtime/zip.js';
