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
    | 'azureTraceFileNames'
    | 'batchTraffic'
    | 'billFromReports'
    | 'breakEven'
    | 'checkComputeProfile'
    | 'combineProcessPoints'
    | 'computeTimeAtThreadsMs'
    | 'computeTimeMs'
    | 'costProfileSchema'
    | 'cpuBaselines'
    | 'cpuClusterBaseline'
    | 'cpuTrafficOptionsSchema'
    | 'defaultPriceTable'
    | 'diurnalTraffic'
    | 'ec2Instance'
    | 'fitComputeProfile'
    | 'fitInvocationOverhead'
    | 'lambdaCost'
    | 'lambdaCostOptionsSchema'
    | 'lambdaMlBaseline'
    | 'linearSummary'
    | 'loadAzureTrace'
    | 'loadComputeProfile'
    | 'loadPriceTable'
    | 'measureComputePoints'
    | 'mergePriceTable'
    | 'mergeTraffic'
    | 'mmppTraffic'
    | 'onOffStates'
    | 'paperTokensPerBatch'
    | 'parseAzureTrace'
    | 'parseComputeProfile'
    | 'planCost'
    | 'poissonTraffic'
    | 'powerTuningBaseline'
    | 'provisionedConcurrencyUsdPerHour'
    | 'provisionedReplicaCost'
    | 'replayTraffic'
    | 'requestSizes'
    | 'resolveRates'
    | 'savingCurve'
    | 'serverlessBill'
    | 'summarizeTraffic'
    | 'trafficScenarioParameters'
    | 'trafficScenarios'
  >();
  expectTypeOf<api.LambdaCostOptions>().toEqualTypeOf<z.input<typeof api.lambdaCostOptionsSchema>>();
  expectTypeOf<api.ResolvedLambdaCostOptions>().toEqualTypeOf<z.output<typeof api.lambdaCostOptionsSchema>>();
  expectTypeOf<api.CostProfileInput>().toEqualTypeOf<z.input<typeof api.costProfileSchema>>();
  expectTypeOf<ConstructorParameters<typeof api.CostModelError>[0]>().toEqualTypeOf<SwitchyardErrorOptions>();
  expectTypeOf<ReturnType<typeof api.planCost>>().toEqualTypeOf<api.PlanCostReport>();
  expectTypeOf<api.CpuTrafficOptions>().toEqualTypeOf<z.input<typeof api.cpuTrafficOptionsSchema>>();
  expectTypeOf<api.ResolvedCpuTrafficOptions>().toEqualTypeOf<z.output<typeof api.cpuTrafficOptionsSchema>>();
});
