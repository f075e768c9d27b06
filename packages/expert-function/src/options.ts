import type { Logger } from '@switchyard/core';
import { z } from 'zod';

/** Options of `createExpertFunction`. Unset ones come from the environment (environment.ts) and the manifest. */
export const expertFunctionOptionsSchema = z.object({
  /** Path of the manifest; default `$SWITCHYARD_EXPERT_MANIFEST` or `$LAMBDA_TASK_ROOT/switchyard-experts.json`. */
  manifestPath: z.string().min(1).optional(),
  /** onnxruntime threads; default the manifest's `threads`, `$SWITCHYARD_VCPU_THREADS`, or the memory's vCPU share. */
  threads: z.number().int().positive().optional(),
  /** The environment to read; default `process.env`. */
  env: z.record(z.string(), z.string().optional()).optional(),
});

/** What `createExpertFunction` takes: the schema's input, plus a logger (never part of the schema). */
export type ExpertFunctionOptions = z.input<typeof expertFunctionOptionsSchema> & { logger?: Logger };
/** The options after parsing. */
export type ResolvedExpertFunctionOptions = z.output<typeof expertFunctionOptionsSchema>;
