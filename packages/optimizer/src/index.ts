export { expectedImprovement, normalCdf, normalPdf, upperConfidenceBound } from './acquisition.js';
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
  epsilonScheduleSchema,
  type OptimizerOptions,
  type OptimizerStrategy,
  optimizerOptionsSchema,
  optimizerStrategies,
  type ResolvedOptimizerOptions,
} from './options.js';
export { createRandom, type RandomSource } from './random.js';
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
