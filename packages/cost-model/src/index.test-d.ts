import type { SwitchyardErrorOptions } from '@switchyard/core';
import { expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import type * as api from './index.js';

// The public surface of @switchyard/cost-model. Adding or removing an export is a decision: change this
// list in the same commit (tooling/scripts/api-surface.ts prints the current one). What sibling packages
// need beyond it is in ./internal (internal.test-d.ts).
test('@switchyard/cost-model exports its entry points and their option, result and error types', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'CostModelError'
    | 'RunningBill'
    | 'billFromReports'
    | 'checkComputeProfile'
    | 'combineProcessPoints'
    | 'computeTimeAtThreadsMs'
    | 'computeTimeMs'
    | 'costProfileSchema'
    | 'cpuClusterBaseline'
    | 'defaultPriceTable'
    | 'ec2Instance'
    | 'fitComputeProfile'
    | 'fitInvocationOverhead'
    | 'lambdaCost'
    | 'lambdaCostOptionsSchema'
    | 'lambdaMlBaseline'
    | 'linearSummary'
    | 'loadComputeProfile'
    | 'loadPriceTable'
    | 'measureComputePoints'
    | 'mergePriceTable'
    | 'parseComputeProfile'
    | 'planCost'
    | 'powerTuningBaseline'
    | 'provisionedConcurrencyUsdPerHour'
    | 'provisionedReplicaCost'
    | 'resolveRates'
  >();
  expectTypeOf<api.LambdaCostOptions>().toEqualTypeOf<z.input<typeof api.lambdaCostOptionsSchema>>();
  expectTypeOf<api.ResolvedLambdaCostOptions>().toEqualTypeOf<z.output<typeof api.lambdaCostOptionsSchema>>();
  expectTypeOf<api.CostProfileInput>().toEqualTypeOf<z.input<typeof api.costProfileSchema>>();
  expectTypeOf<ConstructorParameters<typeof api.CostModelError>[0]>().toEqualTypeOf<SwitchyardErrorOptions>();
  expectTypeOf<ReturnType<typeof api.planCost>>().toEqualTypeOf<api.PlanCostReport>();
});
