import { expectTypeOf, test } from 'vitest';
import type * as http from './index.js';

// The public surface of @switchyard/serving/http: what the two apps wire. Change this list in the
// same commit as the exports (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/serving/http exports the server, serve, their options and settings', () => {
  expectTypeOf<keyof typeof http>().toEqualTypeOf<
    | 'HttpError'
    | 'batchRequestLineSchema'
    | 'createLineDispatcher'
    | 'parseServingEnv'
    | 'readJobState'
    | 'runBatchJob'
    | 'serve'
    | 'serverOptionsSchema'
    | 'servingConfiguration'
    | 'servingEnvSchema'
    | 'settingsFromEnv'
    | 'startServer'
    | 'statePathFor'
    | 'withRequestTag'
  >();
  expectTypeOf<typeof http.serve>().returns.resolves.toEqualTypeOf<http.HttpServingStack>();
  expectTypeOf<typeof http.startServer>().returns.resolves.toEqualTypeOf<http.RunningServer>();
  expectTypeOf<http.ServerOptions>().toHaveProperty('port');
});
