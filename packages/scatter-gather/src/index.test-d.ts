import type { MoeStep } from '@switchyard/core';
import { expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import type * as api from './index.js';

// The public surface of @switchyard/scatter-gather. Adding or removing an export is a decision: change
// this list in the same commit (tooling/scripts/api-surface.ts prints the current one).
test('@switchyard/scatter-gather exports its entry points and their option, result and error types', () => {
  expectTypeOf<keyof typeof api>().toEqualTypeOf<
    | 'ScatterGatherError'
    | 'createDefaultPlan'
    | 'createFaultInjectingExecutor'
    | 'createRemoteMoeStep'
    | 'defaultPlanOptionsSchema'
    | 'faultInjectionOptionsSchema'
    | 'scatterGatherOptionsSchema'
  >();
  // Options: what callers pass is the schema's input, the resolved form its output.
  expectTypeOf<api.ScatterGatherOptions>().toEqualTypeOf<z.input<typeof api.scatterGatherOptionsSchema>>();
  expectTypeOf<api.ResolvedScatterGatherOptions>().toEqualTypeOf<
    z.output<typeof api.scatterGatherOptionsSchema>
  >();
  expectTypeOf<api.DefaultPlanOptions>().toEqualTypeOf<z.input<typeof api.defaultPlanOptionsSchema>>();
  expectTypeOf<api.FaultInjectionOptions>().toEqualTypeOf<z.input<typeof api.faultInjectionOptionsSchema>>();
  expectTypeOf<api.RemoteMoeStep>().toMatchTypeOf<MoeStep>();
  expectTypeOf<api.RemoteMoeStepOptions>().toMatchTypeOf<api.ScatterGatherOptions>();
});
