export { createDefaultPlan, type DefaultPlanOptionsInput, defaultPlanOptionsSchema } from './default-plan.js';
export {
  type DispatchLayerInput,
  type DispatchLayerResult,
  dispatchLayer,
} from './dispatch-layer.js';
export { ScatterGatherError } from './errors.js';
export type {
  ExpertStats,
  HedgeEvent,
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
  type FaultInjectionOptionsInput,
  faultInjectionOptionsSchema,
} from './fault-injection.js';
export {
  lambdaPayloadLimitBytes,
  type ScatterGatherOptions,
  type ScatterGatherOptionsInput,
  scatterGatherOptionsSchema,
} from './options.js';
export { type MiniBatch, partitionLayer, type Segment, splitProportionally } from './partition.js';
export {
  createRemoteMoeStep,
  type RemoteMoeStep,
  type RemoteMoeStepOptions,
} from './remote-moe-step.js';
export { createS3Transport, type S3TransportClient } from './s3-transport.js';
export { base64Bytes, createDirectTransport, maxDirectTokens, type Transport } from './transport.js';
