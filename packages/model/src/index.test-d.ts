import type { Logger, MoeStep } from '@switchyard/core';
import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';
import type * as internal from './internal.js';

// The public surface of @switchyard/model: entry points and their option, result and error types.
// Adding or removing an export is a decision: change this list in the same commit
// (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/model exports exactly its entry points', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'ModelError'
    | 'buildExpertGraph'
    | 'buildSwigluGraph'
    | 'compareModels'
    | 'createExpertRunner'
    | 'createInProcessMoeStep'
    | 'evaluateLikelihood'
    | 'exportGguf'
    | 'loadCheckpoint'
    | 'loadModel'
    | 'recordTrace'
    | 'sampleToken'
    | 'summarizeCheckpoint'
    | 'verifyModel'
    | 'writeGgufFile'
  >();
  // Options are what users pass (zod input); runtime objects sit beside the schema's fields.
  expectTypeOf<api.LoadModelOptions>().toHaveProperty('logger').toEqualTypeOf<Logger | undefined>();
  expectTypeOf<api.GenerateOptions>().toHaveProperty('moeStep').toEqualTypeOf<MoeStep | undefined>();
  expectTypeOf<api.RecordTraceOptions>().toHaveProperty('chunk').toEqualTypeOf<number | undefined>();
  expectTypeOf<typeof api.loadModel>().returns.toEqualTypeOf<Promise<api.MoeModel>>();
  expectTypeOf<api.MoeModel['forward']>().returns.toEqualTypeOf<Promise<api.ForwardResult>>();
  expectTypeOf<api.ModelErrorOptions['code']>().toEqualTypeOf<api.ModelErrorCode>();
});

// What sibling packages, tools and benchmarks may use (`@switchyard/model/internal`).
test('@switchyard/model/internal exports exactly its building blocks', () => {
  expectTypeOf<keyof typeof internal>().toEqualTypeOf<
    | 'argmax'
    | 'buildSharedExpertGraph'
    | 'compareModelsOptionsSchema'
    | 'defaultVerifyTolerances'
    | 'encodeGgufHeader'
    | 'encodeOnnxModel'
    | 'evaluateOptionsSchema'
    | 'expertGraphInput'
    | 'expertGraphOutput'
    | 'expertRunnerOptionsSchema'
    | 'expertWeightBytes'
    | 'exportGgufOptionsSchema'
    | 'expertWeights'
    | 'generateOptionsSchema'
    | 'llamaCppArchitectures'
    | 'loadModelOptionsSchema'
    | 'parseModelConfig'
    | 'recordTraceOptionsSchema'
    | 'route'
    | 'routerScores'
    | 'runnableArchitectures'
  >();
  expectTypeOf<internal.ResolvedLoadModelOptions['threads']>().toEqualTypeOf<number>();
  expectTypeOf<internal.ResolvedExportGgufOptions['tensorType']>().toEqualTypeOf<'F32' | 'F16' | 'BF16'>();
});
