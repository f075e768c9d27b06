export { EpsilonGreedyBayesOpt } from './epsilon-greedy-bayes-opt.js';
export { OptimizerError, SloInfeasibleError } from './errors.js';
export {
  type ForecastFromPredictionOptions,
  forecastFromPrediction,
  type LoadPredictionInput,
} from './forecast-from-prediction.js';
export {
  forecastFromPopularity,
  forecastFromTrace,
  type LoadForecast,
  type LoadForecastInput,
  loadForecastSchema,
} from './load-forecast.js';
export { nominalComputeProfile } from './nominal-profile.js';
export {
  type MeasuredEvaluation,
  type OptimizerOptions,
  type OptimizerStrategy,
  optimizerOptionsSchema,
  optimizerStrategies,
  type PlanDeploymentOptions,
  type PlannerModel,
  type PlannerStrategy,
  planDeploymentOptionsSchema,
  plannerStrategies,
  type ResolvedOptimizerOptions,
  type ResolvedPlanDeploymentOptions,
} from './options.js';
export {
  type PaperBenchmarkModelInput,
  type PaperBenchmarkModelResult,
  type PaperBenchmarkRow,
  type PaperRowKey,
  type PaperSloPoint,
  type PaperTargets,
  paperHeadlineSloFactor,
  paperRowKeys,
  paperSloFactors,
  paperTargets,
  runPaperBenchmarkModel,
  throughputLoss,
} from './paper-benchmark.js';
export { paperBenchmarkMarkdown } from './paper-benchmark-table.js';
export type { RoutingDomain } from './paper-routing.js';
export {
  type PaperShapeName,
  paperShape,
  plannerModelFromSummary,
  popularityFromCounts,
} from './paper-shapes.js';
export type {
  PaperCpuEngine,
  PaperSavingCurve,
  PaperTrafficOptions,
  PaperTrafficResult,
} from './paper-traffic.js';
export { planDeployment } from './plan-deployment.js';
export {
  type QuantizedPaperRow,
  type QuantizedPaperRowsInput,
  quantizedPaperRows,
} from './quantized-paper-rows.js';
export type { RealisedBill } from './realised-bill.js';
export type {
  CategoricalDimension,
  Dimension,
  IntegerDimension,
  OrdinalDimension,
  Point,
  RealDimension,
} from './search-space.js';
export type { OptimizationResult, RunOptions, Suggestion, Trial, TrialResult } from './trial.js';
