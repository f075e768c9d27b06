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
  type ComputeMemory,
  type ComputePoint,
  type ComputeProfile,
  type ComputeProfileInput,
  loadComputeProfile,
  parseComputeProfile,
} from './compute-profile.js';
export { type CpuBaselines, cpuBaselines } from './cpu-baselines.js';
export {
  type CpuPricing,
  type CpuTrafficCost,
  type CpuTrafficOptions,
  cpuTrafficOptionsSchema,
  type ResolvedCpuTrafficOptions,
} from './cpu-baselines-options.js';
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
export {
  type BreakEven,
  type BreakEvenPoint,
  breakEven,
  type SavingCurve,
  type SavingCurveOptions,
  type SavingPoint,
  type ServerlessBill,
  type ServerlessPricing,
  savingCurve,
  serverlessBill,
} from './saving-curve.js';
export {
  mergeTraffic,
  paperTokensPerBatch,
  type RequestSize,
  requestSizes,
  summarizeTraffic,
  type Traffic,
  type TrafficSummary,
} from './traffic.js';
export { azureTraceFileNames, loadAzureTrace, parseAzureTrace } from './traffic-azure-trace.js';
export {
  type BatchingOptions,
  batchTraffic,
  type TrafficBatches,
  type WaitSummary,
} from './traffic-batches.js';
export { type MmppState, type MmppTrafficOptions, mmppTraffic, onOffStates } from './traffic-bursty.js';
export { type DiurnalTrafficOptions, diurnalTraffic } from './traffic-diurnal.js';
export { type PoissonTrafficOptions, poissonTraffic } from './traffic-poisson.js';
export { type ReplayOptions, replayTraffic } from './traffic-replay.js';
export {
  type TrafficScenario,
  type TrafficScenarioName,
  trafficScenarioParameters,
  trafficScenarios,
} from './traffic-scenarios.js';
