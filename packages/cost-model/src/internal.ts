// What sibling Switchyard packages need beyond the public entry points (`@switchyard/cost-model/internal`):
// the planner's inner loop and the paper's memory options for the optimizer, and per-invocation
// billing for the apps. Not a stable API: it changes with its users.
export {
  CostEvaluator,
  type CostEvaluatorOptions,
  createCostEvaluator,
  emptyFunctionEstimate,
  type FunctionEstimate,
} from './evaluator.js';
export { gbSecondsOf, invocationUsd } from './lambda-cost.js';
export { lambdaMlMemoryMB, paperMemoryOptionsMB } from './memory.js';
export { bestProvisionedConcurrency, erlangB } from './provisioned-concurrency.js';
export { withThreadSpeedup } from './speedup-profile.js';
