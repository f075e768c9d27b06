import { expectTypeOf, test } from 'vitest';
import type * as internal from './internal.js';

// @switchyard/cost-model/internal: what sibling packages use beyond the public entry points (the
// planner's inner loop and the paper's memory sizes for the optimizer, per-invocation billing for the
// apps). Each name here has a user outside this package; change the list in the same commit as them.
test('@switchyard/cost-model/internal exports exactly what its sibling users import', () => {
  expectTypeOf<keyof typeof internal>().toEqualTypeOf<
    | 'CostEvaluator'
    | 'bestProvisionedConcurrency'
    | 'createCostEvaluator'
    | 'emptyFunctionEstimate'
    | 'erlangB'
    | 'gbSecondsOf'
    | 'invocationUsd'
    | 'lambdaMlMemoryMB'
    | 'paperMemoryOptionsMB'
    | 'withThreadSpeedup'
  >();
  expectTypeOf<ReturnType<typeof internal.createCostEvaluator>>().toEqualTypeOf<internal.CostEvaluator>();
});
