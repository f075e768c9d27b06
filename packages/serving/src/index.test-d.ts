import { expectTypeOf, test } from 'vitest';
import type * as api from './index.js';

// The public surface of @switchyard/serving. Adding or removing an export is a decision: change this
// list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/serving exports its entry points, their options and its error', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    'ServingError' | 'connectRemoteExperts' | 'servingOptionsSchema' | 'startServing'
  >();
  expectTypeOf<typeof api.startServing>().returns.resolves.toEqualTypeOf<api.ServingStack>();
  expectTypeOf<api.ServingOptions>().toHaveProperty('modelDir');
  expectTypeOf<api.ResolvedServingOptions['batching']>().toEqualTypeOf<'continuous' | 'sequential'>();
  expectTypeOf<typeof api.connectRemoteExperts>().returns.resolves.toEqualTypeOf<api.RemoteExperts>();
});
