import { z } from 'zod';
import { lambdaLimits } from './lambda-limits.js';
import { planModelSchema } from './plan-model.js';

/** Scatter-gather transport per MoE layer (paper §III: methods 1–3). */
export const transportMethods = ['s3-pipelined', 's3', 'direct'] as const;
export type TransportMethod = (typeof transportMethods)[number];

export const planStrategies = ['bo', 'ods', 'lambdaml', 'power-tuning', 'random', 'manual'] as const;

const costSchema = z.object({
  costUsdPerBatch: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  gbSecondsPerBatch: z.number().nonnegative().optional(),
  costUsdPerMillionTokens: z.number().nonnegative().optional(),
  throughputTokensPerS: z.number().nonnegative().optional(),
});

/** One deployed function: a group of experts of one layer sharing memory size and replicas. */
export const planFunctionSchema = z.object({
  /** Base function name; replica r is deployed as `${name}-r${r}` (see functionNames). */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Lambda function names are 1–64 of A–Z a–z 0–9 _ -'),
  experts: z.array(z.number().int().nonnegative()).min(1),
  memoryMB: z.number().int().min(lambdaLimits.minMemoryMB).max(lambdaLimits.maxMemoryMB),
  /**
   * Provisioned concurrency per replica (on its `live` alias): instances kept initialised, billed
   * whether busy or not, with a lower duration price. Omitted = on demand only.
   */
  provisionedConcurrency: z.number().int().positive().optional(),
  replicas: z.number().int().min(1).max(64),
  /** Deployed names, one per replica. */
  functionNames: z.array(z.string()).min(1),
  /** Reserved concurrency per replica; omitted = unreserved. */
  reservedConcurrency: z.number().int().positive().optional(),
  /** Instruction set of this function's replicas; omitted = the plan's `arch`. */
  arch: z.enum(['x86_64', 'arm64']).optional(),
});

export const planExpertSchema = z.object({
  expert: z.number().int().nonnegative(),
  /** Index into the layer's `functions`. */
  functionIndex: z.number().int().nonnegative(),
  predictedTokens: z.number().nonnegative(),
  /** Lower and upper ends of the predictive interval (see `loadQuantile`). */
  predictedTokensLow: z.number().nonnegative(),
  predictedTokensHigh: z.number().nonnegative(),
});

export const planLayerSchema = z.object({
  /** Decoder layer index in the model. */
  layer: z.number().int().nonnegative(),
  method: z.enum(transportMethods),
  /** Pipeline degree β: the largest mini-batch in tokens. */
  beta: z.number().int().positive(),
  latencyBudgetMs: z.number().nonnegative().optional(),
  predictedLatencyMs: z.number().nonnegative().optional(),
  predictedCostUsd: z.number().nonnegative().optional(),
  functions: z.array(planFunctionSchema).min(1),
  experts: z.array(planExpertSchema).min(1),
});

export const deploymentPlanSchema = z
  .object({
    kind: z.literal('switchyard.deployment-plan'),
    version: z.literal(1),
    createdAt: z.string(),
    strategy: z.enum(planStrategies),
    model: planModelSchema,
    workload: z.object({
      tokensPerBatch: z.number().int().positive(),
      sloMs: z.number().positive(),
      arrivalRatePerS: z.number().nonnegative().optional(),
      wireDtype: z.enum(['f32', 'f16', 'bf16']).default('f32'),
      /** Quantile of predicted load that replicas are sized for. */
      loadQuantile: z.number().min(0.5).max(0.999).default(0.9),
    }),
    arch: z.enum(['x86_64', 'arm64']).default('x86_64'),
    region: z.string().default('us-east-1'),
    priceTable: z.object({ version: z.string(), date: z.string() }),
    layers: z.array(planLayerSchema).min(1),
    predicted: costSchema.extend({
      computeUsd: z.number().nonnegative(),
      requestUsd: z.number().nonnegative(),
      storageUsd: z.number().nonnegative().default(0),
      s3Usd: z.number().nonnegative().default(0),
      /** Provisioned concurrency's standing charges per batch (included in `costUsdPerBatch`). */
      provisionedUsd: z.number().nonnegative().default(0),
      sloMet: z.boolean(),
    }),
    baselines: z.record(z.string(), costSchema).default({}),
    search: z
      .object({
        evaluations: z.number().int().nonnegative(),
        seed: z.number().int().optional(),
        elapsedMs: z.number().nonnegative().optional(),
        /** Best cost after each evaluation, for convergence plots. */
        bestCostHistory: z.array(z.number()).optional(),
      })
      .optional(),
  })
  .superRefine((plan, context) => {
    plan.layers.forEach((layer, layerIndex) => {
      const seen = new Set<number>();
      for (const expert of layer.experts) {
        if (expert.expert >= plan.model.numExperts) {
          context.addIssue({
            code: 'custom',
            message: `expert ${expert.expert} is outside 0..${plan.model.numExperts - 1}`,
            path: ['layers', layerIndex, 'experts'],
          });
        }
        if (seen.has(expert.expert)) {
          context.addIssue({
            code: 'custom',
            message: `expert ${expert.expert} is listed twice`,
            path: ['layers', layerIndex, 'experts'],
          });
        }
        seen.add(expert.expert);
        const fn = layer.functions[expert.functionIndex];
        if (!fn?.experts.includes(expert.expert)) {
          context.addIssue({
            code: 'custom',
            message: `expert ${expert.expert} points at function ${expert.functionIndex}, which does not hold it`,
            path: ['layers', layerIndex, 'experts'],
          });
        }
      }
      layer.functions.forEach((fn, fnIndex) => {
        if (
          fn.provisionedConcurrency !== undefined &&
          fn.reservedConcurrency !== undefined &&
          fn.provisionedConcurrency > fn.reservedConcurrency
        ) {
          context.addIssue({
            code: 'custom',
            message: `function ${fn.name} provisions ${fn.provisionedConcurrency} instances but reserves only ${fn.reservedConcurrency} (Lambda requires provisioned ≤ reserved)`,
            path: ['layers', layerIndex, 'functions', fnIndex, 'provisionedConcurrency'],
          });
        }
        if (fn.functionNames.length !== fn.replicas) {
          context.addIssue({
            code: 'custom',
            message: `function ${fn.name} has ${fn.replicas} replicas but ${fn.functionNames.length} function names`,
            path: ['layers', layerIndex, 'functions', fnIndex],
          });
        }
      });
    });
  });

export type DeploymentPlan = z.output<typeof deploymentPlanSchema>;
export type DeploymentPlanInput = z.input<typeof deploymentPlanSchema>;
export type PlanLayer = z.output<typeof planLayerSchema>;
export type PlanFunction = z.output<typeof planFunctionSchema>;
