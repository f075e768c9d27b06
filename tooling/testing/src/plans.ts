import type { DeploymentPlanInput, TransportMethod } from '@switchyard/core';

/** A load prediction for one expert: tokens, and the ends of its interval. */
export interface ExpertPrediction {
  predictedTokens: number;
  predictedTokensLow: number;
  predictedTokensHigh: number;
}

/** `tokens` predicted, with the interval [`low`, `high`] (default: exactly `tokens`). */
export function prediction(tokens: number, low = tokens, high = tokens): ExpertPrediction {
  return { predictedTokens: tokens, predictedTokensLow: low, predictedTokensHigh: high };
}

/** One function group of a layer. */
export interface PlanFunctionSpec {
  /** Base name; replica r is `${name}-r${r}` unless `functionNames` are given. */
  name: string;
  experts: number[];
  memoryMB: number;
  /** Default: the number of `functionNames`, else 1. */
  replicas?: number;
  functionNames?: string[];
  reservedConcurrency?: number;
}

/** One MoE layer: its function groups; each expert's `functionIndex` follows from the group holding it. */
export interface PlanLayerSpec {
  layer: number;
  functions: PlanFunctionSpec[];
  /** Default `direct`. */
  method?: TransportMethod;
  /** Pipeline degree; default the workload's tokens per batch. */
  beta?: number;
  /** Each expert's predicted load; default `prediction(1, 0, 2)`. */
  predict?: (expert: number) => ExpertPrediction;
}

/** A plan as tests write it: the layers, and whatever differs from the defaults of `buildPlan`. */
export type PlanSpec = Omit<Partial<DeploymentPlanInput>, 'model' | 'workload' | 'layers'> & {
  model?: Partial<DeploymentPlanInput['model']>;
  workload?: Partial<DeploymentPlanInput['workload']>;
  layers: PlanLayerSpec[];
};

/**
 * A deployment plan (core's schema, version 1) from a short description: function names, replicas
 * and the layer's expert list are derived; everything not given gets a small valid default (a
 * `manual` plan of a mixtral-shaped model with hidden size 8, as many experts as the layers name,
 * 8 tokens per batch, nothing predicted to cost anything).
 */
export function buildPlan(spec: PlanSpec): DeploymentPlanInput {
  const { model, workload, layers, ...rest } = spec;
  const tokensPerBatch = workload?.tokensPerBatch ?? 8;
  const highestExpert = Math.max(...layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.experts)));
  return {
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: '2026-11-28T00:00:00Z',
    strategy: 'manual',
    priceTable: { version: 'test', date: '2026-11-28' },
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
    ...rest,
    model: {
      name: 'test-model',
      fingerprint: 'test',
      architecture: 'mixtral',
      hiddenSize: 8,
      expertIntermediateSize: 16,
      numExperts: highestExpert + 1,
      topK: 1,
      bytesPerExpert: 0,
      ...model,
    },
    workload: { sloMs: 10_000, ...workload, tokensPerBatch },
    layers: layers.map(({ layer, functions, method = 'direct', beta = tokensPerBatch, predict }) => ({
      layer,
      method,
      beta,
      functions: functions.map(
        ({ name, experts, memoryMB, replicas, functionNames, reservedConcurrency }) => {
          const count = replicas ?? functionNames?.length ?? 1;
          return {
            name,
            experts,
            memoryMB,
            replicas: count,
            functionNames:
              functionNames ?? Array.from({ length: count }, (_, replica) => `${name}-r${replica}`),
            reservedConcurrency,
          };
        },
      ),
      experts: functions.flatMap((fn, functionIndex) =>
        fn.experts.map((expert) => ({
          expert,
          functionIndex,
          ...(predict ? predict(expert) : prediction(1, 0, 2)),
        })),
      ),
    })),
  };
}
