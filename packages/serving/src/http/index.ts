export {
  type BatchLineError,
  type BatchOutputLine,
  type BatchRequestLine,
  batchRequestLineSchema,
  type LineCost,
} from '../batch/batch-line.js';
export { type BatchJobState, readJobState, statePathFor } from '../batch/batch-state.js';
export {
  type BatchJobDependencies,
  type BatchJobOptions,
  type BatchProgress,
  type BatchSummary,
  runBatchJob,
} from '../batch/run-batch.js';
export { HttpError, type HttpErrorOptions } from '../errors.js';
export { withRequestTag } from '../request-tag.js';
export { type RunningServer, type ServerDependencies, startServer } from './http-server.js';
export {
  createLineDispatcher,
  type LineDispatcher,
  type LineDispatcherDependencies,
  type LineResponse,
} from './line-dispatch.js';
export { type HttpServingStack, serve } from './serve.js';
export type { ServerMetrics } from './server-metrics.js';
export { type ResolvedServerOptions, type ServerOptions, serverOptionsSchema } from './server-options.js';
export {
  parseServingEnv,
  type ServingEnv,
  type ServingSettings,
  servingConfiguration,
  servingEnvSchema,
  settingsFromEnv,
} from './serving-settings.js';
