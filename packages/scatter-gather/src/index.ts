export {
  createDefaultPlan,
  type DefaultPlanOptions,
  defaultPlanOptionsSchema,
  type ResolvedDefaultPlanOptions,
} from './default-plan.js';
export { ScatterGatherError } from './errors.js';
export type {
  ExpertStats,
  HedgeEvent,
  InvocationCounters,
  InvokeEvent,
  LayerEvent,
  LayerStats,
  RetryEvent,
  ScatterGatherEvent,
  ScatterGatherSummary,
} from './events.js';
export {
  createFaultInjectingExecutor,
  type FaultCounts,
  type FaultInjectingExecutor,
  type FaultInjectionOptions,
  faultInjectionOptionsSchema,
  type ResolvedFaultInjectionOptions,
} from './fault-injection.js';
export {
  type ResolvedScatterGatherOptions,
  type ScatterGatherOptions,
  scatterGatherOptionsSchema,
} from './options.js';
export {
  createRemoteMoeStep,
  type RemoteMoeStep,
  type RemoteMoeStepOptions,
} from './remote-moe-step.js';
export type { S3TransportClient } from './s3-transport.js';
