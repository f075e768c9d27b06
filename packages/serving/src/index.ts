export type { PlanAdapter } from './adaptation.js';
export type {
  CompletionEvent,
  CompletionJob,
  Engine,
  EngineInfo,
  EngineStats,
  FinishReason,
  LayerRouting,
  StepEvent,
  TokenLogprob,
  TokenLogprobs,
} from './engine.js';
export { ServingError } from './errors.js';
export type { JobPriority } from './job-priority.js';
export type { OnlinePredictor } from './online-predictor.js';
export {
  type AdaptationOptions,
  type ExpertTarget,
  type RemoteExpertsOptions,
  type ResolvedAdaptationOptions,
  type ResolvedRemoteExpertsOptions,
  type ResolvedServingOptions,
  type ServingOptions,
  servingOptionsSchema,
} from './options.js';
export {
  connectRemoteExperts,
  type RemoteExperts,
  type RemoteExpertsDependencies,
  type StagedPlan,
} from './remote-experts.js';
export { type ServingDependencies, type ServingStack, startServing } from './start-serving.js';
export type {
  AdaptationStatus,
  BillingTotals,
  PredictorStatus,
  StatusProviders,
} from './status.js';
