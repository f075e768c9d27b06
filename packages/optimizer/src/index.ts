export { normalQuantile } from '@switchyard/core';
export { expectedImprovement, normalCdf, normalPdf, upperConfidenceBound } from './acquisition.js';
export { fixedConfiguration, odsConfiguration } from './baseline-strategies.js';
export {
  type BatchEvaluation,
  type Configuration,
  DeploymentSolver,
  type FunctionChoice,
  type FunctionGroup,
  type FunctionOption,
  type LayerChoice,
  type PlannerKnobs,
  type SolverContext,
} from './deployment-solver.js';
export {
  EpsilonGreedyBayesOpt,
  type OptimizationResult,
  type RunOptions,
  type Suggestion,
  type Trial,
  type TrialResult,
} from './epsilon-greedy-bayes-opt.js';
export { OptimizerError, SloInfeasibleError } from './errors.js';
export {
  type ForecastFromPredictionOptions,
  forecastFromPrediction,
  type LoadPredictionInput,
} from './forecast-from-prediction.js';
export {
  GaussianProcess,
  type GaussianProcessOptions,
  type KernelHyperparameters,
  matern,
} from './gaussian-process.js';
export {
  cholesky,
  choleskyInverse,
  choleskySolve,
  solveLower,
  solveUpperTransposed,
} from './linear-algebra.js';
export {
  type ExpertLoad,
  expertLoads,
  forecastFromPopularity,
  forecastFromTrace,
  type LoadForecast,
  type LoadForecastInput,
  loadAtQuantile,
  loadForecastSchema,
  sampleBatchLoads,
  summedLoadAtQuantile,
} from './load-forecast.js';
export { nominalComputeProfile } from './nominal-profile.js';
export {
  epsilonScheduleSchema,
  type KnobGrid,
  knobGridSchema,
  type OptimizerOptions,
  type OptimizerStrategy,
  optimizerOptionsSchema,
  optimizerStrategies,
  type PlannerStrategy,
  plannerStrategies,
  type ResolvedOptimizerOptions,
} from './options.js';
export {
  type PaperBenchmarkModelInput,
  type PaperBenchmarkModelResult,
  type PaperBenchmarkRow,
  paperBenchmarkMarkdown,
  paperTargets,
  runPaperBenchmarkModel,
} from './paper-benchmark.js';
export {
  type PaperShapeName,
  type PlannerModel,
  paperShape,
  paperShapes,
  plannerModelFromSummary,
  popularityFromCounts,
} from './paper-shapes.js';
export {
  type MeasuredEvaluation,
  type PlanDeploymentInput,
  PlanningProblem,
  type PlanningTrialData,
  planDeployment,
  planDeploymentInputSchema,
} from './plan-deployment.js';
export {
  type CategoricalDimension,
  cardinality,
  type Dimension,
  type IntegerDimension,
  type OrdinalDimension,
  type Point,
  type RealDimension,
  SearchSpace,
} from './search-space.js';
