export {
  type BaselineResult,
  type CpuClusterOptions,
  cpuClusterBaseline,
  lambdaMlBaseline,
  type PowerTuningOptions,
  powerTuningBaseline,
} from './baselines.js';
export {
  type Bill,
  type BillableReport,
  billFromReports,
  type MemoryBill,
  RunningBill,
} from './bill-from-reports.js';
export { checkComputeProfile, type ProfileCheckRow } from './check-compute-profile.js';
export { computeTimeAtThreadsMs, computeTimeMs } from './compute-curve.js';
export {
  type ComputePoint,
  type ComputeProfile,
  type ComputeProfileInput,
  loadComputeProfile,
  parseComputeProfile,
} from './compute-profile.js';
export { CostModelError } from './errors.js';
export { type FitComputeProfileOptions, fitComputeProfile, linearSummary } from './fit-compute-profile.js';
export {
  fitInvocationOverhead,
  type InvocationOverhead,
  type InvocationOverheadInput,
  type InvocationOverheadPoint,
} from './invocation-overhead.js';
export { type LambdaCostInput, type LambdaCostResult, lambdaCost } from './lambda-cost.js';
export type { TransportParameters, TransportParametersInput } from './latency.js';
export {
  combineProcessPoints,
  measureComputePoints,
  type ProfileComputeOptions,
  type RunExpert,
} from './measure-compute-points.js';
export {
  type CostProfile,
  type CostProfileInput,
  costProfileSchema,
  type LambdaCostOptions,
  lambdaCostOptionsSchema,
  type ResolvedLambdaCostOptions,
} from './options.js';
export {
  type CostWorkload,
  type ExpertCost,
  type FunctionCost,
  type LayerCost,
  type PlanCostReport,
  planCost,
} from './plan-cost.js';
export {
  defaultPriceTable,
  ec2Instance,
  type LambdaArchitecture,
  type LambdaRates,
  loadPriceTable,
  mergePriceTable,
  type PriceTable,
  type PriceTableOverride,
  type ProvisionedRates,
  resolveRates,
} from './price-table.js';
export {
  type ProvisionedReplica,
  type ProvisionedReplicaCost,
  provisionedConcurrencyUsdPerHour,
  provisionedReplicaCost,
} from './provisioned-concurrency.js';
