import { expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import type * as api from './index.js';

// The public surface of @switchyard/optimizer. Adding or removing an export is a decision: change this
// list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/optimizer exports its entry points and their option, result and error types', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'EpsilonGreedyBayesOpt'
    | 'OptimizerError'
    | 'SloInfeasibleError'
    | 'forecastFromPopularity'
    | 'forecastFromPrediction'
    | 'forecastFromTrace'
    | 'loadForecastSchema'
    | 'nominalComputeProfile'
    | 'optimizerOptionsSchema'
    | 'optimizerStrategies'
    | 'paperBenchmarkMarkdown'
    | 'paperHeadlineSloFactor'
    | 'paperRowKeys'
    | 'paperShape'
    | 'paperSloFactors'
    | 'paperTargets'
    | 'planDeployment'
    | 'planDeploymentOptionsSchema'
    | 'plannerModelFromSummary'
    | 'plannerStrategies'
    | 'popularityFromCounts'
    | 'quantizedPaperRows'
    | 'runPaperBenchmarkModel'
    | 'throughputLoss'
  >();
  expectTypeOf<api.OptimizerOptions>().toEqualTypeOf<z.input<typeof api.optimizerOptionsSchema>>();
  expectTypeOf<api.ResolvedOptimizerOptions>().toEqualTypeOf<z.output<typeof api.optimizerOptionsSchema>>();
  expectTypeOf<api.PlanDeploymentOptions>().toEqualTypeOf<z.input<typeof api.planDeploymentOptionsSchema>>();
  expectTypeOf<api.ResolvedPlanDeploymentOptions>().toEqualTypeOf<
    z.output<typeof api.planDeploymentOptionsSchema>
  >();
  // The logger is passed beside the options, never inside the schema.
  expectTypeOf<api.ResolvedPlanDeploymentOptions>().not.toHaveProperty('logger');
  expectTypeOf<api.ResolvedOptimizerOptions>().not.toHaveProperty('logger');
  expectTypeOf<InstanceType<typeof api.SloInfeasibleError>>().toHaveProperty('bestAchievableLatencyMs');
});
