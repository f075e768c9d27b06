import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';
import type * as internal from './internal.js';

// The public surface of @switchyard/lambda-local. Adding or removing an export is a decision: change this
// list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/lambda-local exports the runtime, its options and its error', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'LambdaLocalError'
    | 'localCodeBucket'
    | 'localRuntimeOptionsSchema'
    | 'nodeRuntimes'
    | 'startLocalRuntime'
  >();
  expectTypeOf<api.FunctionRunner>().toEqualTypeOf<'ric' | 'own'>();
  expectTypeOf<api.NodeRuntime>().toEqualTypeOf<'nodejs22.x' | 'nodejs24.x'>();
  expectTypeOf<api.LocalRuntime['s3']>().toEqualTypeOf<api.LocalS3Store | undefined>();
  expectTypeOf<typeof api.startLocalRuntime>()
    .parameter(0)
    .toEqualTypeOf<api.LocalRuntimeOptions | undefined>();
});

test('@switchyard/lambda-local/internal is what lambda-executor packages zips with', () => {
  expectTypeOf<keyof typeof internal>().toEqualTypeOf<'writeZip'>();
});
