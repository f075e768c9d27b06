import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { SwitchyardError } from '@switchyard/core';
import type { InvocationOverhead } from '@switchyard/cost-model';
import { z } from 'zod';
import { InvocationCalibration } from './invocation-calibration.js';
import { planSignature, type ValidationSetup, validationModel } from './validation-setup.js';

/**
 * The calibration's own memory sizes: none of the validation's (256, 1,024, 1,769, 3,008 MB), one
 * below and one above 1,769 MB so the fit sees both sides of the memory→vCPU rule's one-vCPU point.
 */
export const calibrationMemorySizesMB = [512, 2048] as const;
/**
 * The calibration's own per-invocation token counts (synthetic activations), spanning the range a
 * validation batch gives one function. The validation batches are chosen so that no invocation of
 * theirs carries one of these counts.
 */
export const calibrationTokenCounts = [37, 211, 587] as const;
/** The calibration plans' BO seed (the validation plans use another). */
export const calibrationPlanSeed = 101;

export const validationCalibrationSchema = z.object({
  kind: z.literal('switchyard.validation-calibration'),
  createdAt: z.string(),
  command: z.string(),
  quick: z.boolean(),
  model: z.string(),
  machine: z.string(),
  loadAverage1m: z.object({ start: z.number(), end: z.number() }),
  memorySizesMB: z.array(z.number().int().positive()).min(1),
  tokenCounts: z.array(z.number().int().positive()).min(1),
  rounds: z.number().int().positive(),
  invocations: z.number().int().nonnegative(),
  plans: z.array(z.object({ memoryMB: z.number(), signature: z.string(), functions: z.number().int() })),
  invocationOverhead: z.object({
    kind: z.literal('switchyard.invocation-overhead'),
    fixedMs: z.number(),
    perByteMs: z.number(),
    measuredOn: z.string().optional(),
    points: z.array(z.record(z.string(), z.unknown())),
  }),
});
export type ValidationCalibration = z.infer<typeof validationCalibrationSchema>;

/** Reads and checks a calibration file (INVALID_INPUT naming the file and the field). */
export function readValidationCalibration(path: string): ValidationCalibration {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `validation calibration ${path}: cannot read it as JSON (${(cause as Error).message})`,
      cause,
    });
  }
  const parsed = validationCalibrationSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `validation calibration ${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    });
  }
  return parsed.data;
}

/**
 * Calibrates the simulator's per-invocation overhead once, on the calibration's own plans (BO seed
 * 101 at 512 and 2,048 MB), functions and synthetic token counts: `rounds` rounds per plan, every
 * token count on every function, functions in turn. The result is what the validation simulates
 * with; it never sees a validation batch.
 */
export async function runValidationCalibration(
  setup: ValidationSetup,
  options: { rounds: number; quick: boolean; command: string; onProgress?: (message: string) => void },
): Promise<ValidationCalibration> {
  const progress = options.onProgress ?? (() => {});
  const start = loadavg()[0] ?? 0;
  const calibration = new InvocationCalibration({
    executor: setup.executor,
    hiddenSize: setup.summary.hiddenSize,
    compute: setup.compute,
    tokenCounts: [...calibrationTokenCounts],
  });
  const plans: ValidationCalibration['plans'] = [];
  for (const memoryMB of calibrationMemorySizesMB) {
    progress(`calibration: ${memoryMB} MB plan, ${options.rounds} rounds`);
    const plan = await setup.plan(memoryMB, { compute: setup.compute }, calibrationPlanSeed);
    const functions = await setup.deploy(plan);
    // Warm-up on a throw-away calibration: cold starts and first calls are not part of the fit.
    await new InvocationCalibration({
      executor: setup.executor,
      hiddenSize: setup.summary.hiddenSize,
      compute: setup.compute,
      tokenCounts: [calibrationTokenCounts[0]],
    }).round(functions);
    for (let round = 0; round < options.rounds; round++) await calibration.round(functions);
    plans.push({ memoryMB, signature: planSignature(plan), functions: functions.length });
    await setup.undeploy(plan);
  }
  const overhead: InvocationOverhead = calibration.fit(setup.machine);
  return {
    kind: 'switchyard.validation-calibration',
    createdAt: new Date().toISOString(),
    command: options.command,
    quick: options.quick,
    model: validationModel,
    machine: setup.machine,
    loadAverage1m: { start, end: loadavg()[0] ?? 0 },
    memorySizesMB: [...calibrationMemorySizesMB],
    tokenCounts: [...calibrationTokenCounts],
    rounds: options.rounds,
    invocations: calibration.invocations,
    plans,
    invocationOverhead: overhead as ValidationCalibration['invocationOverhead'],
  };
}
