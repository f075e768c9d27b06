import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';
import type * as internal from './internal.js';

// The public surface of @switchyard/expert-function. Adding or removing an export is a decision: change
// this list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/expert-function exports the function, its manifest, options and error', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'ExpertFunctionError'
    | 'createExpertFunction'
    | 'expertFunctionOptionsSchema'
    | 'expertManifestFile'
    | 'expertManifestSchema'
  >();
  expectTypeOf<api.ExpertFunction['handler']>().returns.toEqualTypeOf<Promise<api.BinaryEnvelope>>();
  expectTypeOf<typeof api.createExpertFunction>()
    .parameter(0)
    .toEqualTypeOf<api.ExpertFunctionOptions | undefined>();
});

test('@switchyard/expert-function/internal is what lambda-executor invokes and packages with', () => {
  expectTypeOf<keyof typeof internal>().toEqualTypeOf<
    | 'decodeEnvelope'
    | 'encodeEnvelope'
    | 'envelopeBytes'
    | 'lambdaHandlerBundlePath'
    | 'lambdaHandlerModuleUrl'
  >();
});
