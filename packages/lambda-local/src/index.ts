export { localCodeBucket } from './code-store.js';
export { LambdaLocalError } from './errors.js';
export type { FunctionRunner } from './instance-environment.js';
export { type LocalRuntime, startLocalRuntime } from './local-runtime.js';
export {
  type LocalRuntimeOptions,
  localRuntimeOptionsSchema,
  type ResolvedLocalRuntimeOptions,
} from './options.js';
export { type NodeRuntime, nodeRuntimes } from './runtimes.js';
export type { LocalS3Store } from './s3-server.js';
