import type { Logger } from '@switchyard/core';
import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';
import type * as internal from './internal.js';

// The public surface of @switchyard/predictor: entry points and their option, result and error types.
// Adding or removing an export is a decision: change this list in the same commit
// (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/predictor exports exactly its entry points', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'Predictor'
    | 'PredictorError'
    | 'deserializePredictor'
    | 'evaluatePredictor'
    | 'fitPredictor'
    | 'predictorFromExpertLoad'
    | 'predictorStrategies'
    | 'readPredictorFile'
    | 'serializePredictor'
    | 'writePredictorFile'
  >();
  // Options are what users pass (zod input); the logger sits beside the schema's fields.
  expectTypeOf<api.FitOptions>().toHaveProperty('logger').toEqualTypeOf<Logger | undefined>();
  expectTypeOf<api.FitOptions['strategy']>().toEqualTypeOf<api.PredictorStrategy | undefined>();
  expectTypeOf<typeof api.fitPredictor>().returns.toEqualTypeOf<api.Predictor>();
  expectTypeOf<typeof api.evaluatePredictor>().returns.toEqualTypeOf<api.EvaluationResult>();
  expectTypeOf<api.Predictor['predictLoad']>().returns.toEqualTypeOf<api.LoadPrediction>();
  expectTypeOf<api.PredictorErrorOptions['code']>().toEqualTypeOf<api.PredictorErrorCode>();
});

// What sibling packages, tools and benchmarks may use (`@switchyard/predictor/internal`).
test('@switchyard/predictor/internal exports exactly its building blocks', () => {
  expectTypeOf<keyof typeof internal>().toEqualTypeOf<
    | 'LayerModel'
    | 'LoadAccumulator'
    | 'UnseenContexts'
    | 'calibrateDispersion'
    | 'computeLevelKeys'
    | 'evaluateOptionsSchema'
    | 'expertLoadOptionsSchema'
    | 'fitOptionsSchema'
    | 'levelKinds'
    | 'neededDispersion'
    | 'predictorFileSchema'
    | 'predictorFileVersion'
    | 'predictorFormat'
    | 'scoreProbabilities'
    | 'serializeOptionsSchema'
    | 'validateBatch'
  >();
  expectTypeOf<internal.ResolvedFitOptions['batchTokens']>().toEqualTypeOf<number>();
});
