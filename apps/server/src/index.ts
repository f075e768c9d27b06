export {
  type AdaptationOptions,
  type AdaptationOptionsInput,
  type AdaptationStatus,
  adaptationOptionsSchema,
  PlanAdapter,
  renameFunctions,
} from './adaptation.js';
export {
  type BatchEntry,
  type BatchSchedulerOptions,
  type BatchStepResult,
  createBatchScheduler,
  type DecodeBackend,
} from './batch-scheduler.js';
export type {
  CompletionEvent,
  CompletionJob,
  Engine,
  EngineInfo,
  EngineStats,
  FinishReason,
  LayerRouting,
  StepEvent,
} from './engine.js';
export { readServerEnv, type ServerEnv, serverEnvSchema, serverOptionsFromEnv } from './env.js';
export { httpStatusFor, ServerError, toErrorResponse } from './errors.js';
export { type RunningServer, type ServerDependencies, startServer } from './http-server.js';
export { Counter, Gauge, Histogram, MetricsRegistry } from './metrics.js';
export { createModelBackend, type ModelBackend, type ModelBackendOptions } from './model-backend.js';
export { OnlinePredictor } from './online-predictor.js';
export {
  isLoopbackHost,
  type ServerOptions,
  type ServerOptionsInput,
  serverOptionsSchema,
} from './options.js';
export { RateLimiter } from './rate-limit.js';
export { connectRemoteExperts, type RemoteExperts, type RemoteExpertsOptions } from './remote-experts.js';
export {
  type CompletionRequest,
  type CompletionResponse,
  completionChoiceSchema,
  completionRequestSchema,
  completionResponseSchema,
  type ErrorBody,
  errorBodySchema,
  usageSchema,
} from './schemas.js';
export {
  bundledModelDir,
  type ServeOptions,
  type ServeOptionsInput,
  type ServingStack,
  serve,
  serveOptionsSchema,
} from './serve.js';
export type {
  AdaptationTotals,
  BillingTotals,
  HistorySample,
  PredictorStatus,
  StatusProviders,
} from './server-metrics.js';
export { ServerMetrics } from './server-metrics.js';
export { encodeBytes, TextAssembler } from './text-stream.js';
