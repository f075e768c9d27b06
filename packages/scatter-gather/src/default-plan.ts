import {
  type DeploymentPlan,
  deploymentPlanSchema,
  lambdaLimits,
  type ModelSummary,
  parseWithSchema,
  type TransportMethod,
  toPlanModel,
  transportMethods,
} from '@switchyard/core';
import { z } from 'zod';

export const defaultPlanOptionsSchema = z.object({
  /** Memory per expert function; default one full vCPU on Lambda (1,769 MB). */
  memoryMB: z
    .number()
    .int()
    .min(lambdaLimits.minMemoryMB)
    .max(lambdaLimits.maxMemoryMB)
    .default(lambdaLimits.memoryMBPerVcpu),
  replicas: z.number().int().min(1).max(64).default(1),
  /** Experts packed into one function (consecutive ids); 1 = one function per expert. */
  expertsPerFunction: z.number().int().min(1).default(1),
  method: z.enum(transportMethods).default('direct'),
  beta: z.number().int().positive().default(512),
  tokensPerBatch: z.number().int().positive().default(1024),
  sloMs: z.number().positive().default(10_000),
  /** Function name prefix (Lambda names are ≤ 64 of A–Z a–z 0–9 _ -). */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('switchyard'),
});

/** What callers pass (defaults may be left out). */
export type DefaultPlanOptions = z.input<typeof defaultPlanOptionsSchema>;
/** The options with every default applied. */
export type ResolvedDefaultPlanOptions = z.output<typeof defaultPlanOptionsSchema>;

/**
 * The plan used when none is given: one function per routed expert of every MoE layer, equal
 * memory and replicas, one transport for all layers. Names: `<prefix>-<fingerprint8>-l<L>-e<E>-r<R>`.
 * No prediction or cost figures: `strategy: 'manual'`, predicted cost 0.
 */
export function createDefaultPlan(summary: ModelSummary, options: DefaultPlanOptions = {}): DeploymentPlan {
  const resolved = parseWithSchema(defaultPlanOptionsSchema, options, 'default plan options');
  const tag =
    (summary.fingerprint.split(':').pop() ?? '').replace(/[^A-Za-z0-9]/g, '').slice(0, 8) || 'model';
  const method: TransportMethod = resolved.method;
  return parseWithSchema(
    deploymentPlanSchema,
    {
      kind: 'switchyard.deployment-plan',
      version: 1,
      createdAt: new Date(0).toISOString(),
      strategy: 'manual',
      model: toPlanModel(summary),
      workload: { tokensPerBatch: resolved.tokensPerBatch, sloMs: resolved.sloMs },
      priceTable: { version: 'none', date: '1970-01-01' },
      layers: summary.moeLayers.map((layer) => ({
        layer,
        method,
        beta: resolved.beta,
        functions: Array.from(
          { length: Math.ceil(summary.numExperts / resolved.expertsPerFunction) },
          (_, index) => {
            const first = index * resolved.expertsPerFunction;
            const experts = Array.from(
              { length: Math.min(resolved.expertsPerFunction, summary.numExperts - first) },
              (_, i) => first + i,
            );
            const name =
              resolved.expertsPerFunction === 1
                ? `${resolved.prefix}-${tag}-l${layer}-e${first}`
                : `${resolved.prefix}-${tag}-l${layer}-f${index}`;
            return {
              name,
              experts,
              memoryMB: resolved.memoryMB,
              replicas: resolved.replicas,
              functionNames: Array.from({ length: resolved.replicas }, (_, r) => `${name}-r${r}`),
            };
          },
        ),
        experts: Array.from({ length: summary.numExperts }, (_, expert) => ({
          expert,
          functionIndex: Math.floor(expert / resolved.expertsPerFunction),
          predictedTokens: (resolved.tokensPerBatch * summary.topK) / summary.numExperts,
          predictedTokensLow: 0,
          predictedTokensHigh: resolved.tokensPerBatch,
        })),
      })),
      predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
    },
    'default deployment plan',
    'PLAN_INVALID',
  );
}
