import type { DeploymentPlan, TransportMethod } from '@switchyard/core';
import { invalidField } from './errors.js';
import { type CostEvaluator, createCostEvaluator, emptyFunctionEstimate } from './evaluator.js';
import { type CostProfile, type CostProfileInput, parseCostProfile } from './options.js';
import { defaultPriceTable, type PriceTable, resolveRates } from './price-table.js';

/**
 * The traffic a plan is costed on. Without `expertTokens` the plan's own predicted loads are used;
 * pass observed loads (e.g. from a routing trace) to cost the plan on what really happened.
 */
export interface CostWorkload {
  /** Tokens per batch (default: the plan's). Used for $/M tokens and throughput. */
  tokensPerBatch?: number;
  /** Latency SLO (default: the plan's). */
  sloMs?: number;
  /** Per decoder layer index, token count routed to each expert id (index = expert id). */
  expertTokens?: Readonly<Record<number, ArrayLike<number>>>;
}

export interface FunctionCost {
  name: string;
  experts: number[];
  memoryMB: number;
  replicas: number;
  tokens: number;
  maxReplicaTokens: number;
  latencyMs: number;
  invocations: number;
  gbSeconds: number;
  computeUsd: number;
  requestUsd: number;
  storageUsd: number;
  s3Usd: number;
  totalUsd: number;
  fitsMemory: boolean;
  fitsPayload: boolean;
}

export interface ExpertCost {
  expert: number;
  tokens: number;
  /** The expert's share of its function's GB-s and $ (by tokens). */
  gbSeconds: number;
  totalUsd: number;
}

export interface LayerCost {
  layer: number;
  method: TransportMethod;
  beta: number;
  latencyMs: number;
  gbSeconds: number;
  computeUsd: number;
  requestUsd: number;
  storageUsd: number;
  s3Usd: number;
  totalUsd: number;
  functions: FunctionCost[];
  experts: ExpertCost[];
}

export interface PlanCostReport {
  priceTable: { version: string; date: string };
  region: string;
  arch: string;
  layers: LayerCost[];
  gbSecondsPerBatch: number;
  computeUsd: number;
  requestUsd: number;
  storageUsd: number;
  s3Usd: number;
  costUsdPerBatch: number;
  costUsdPerMillionTokens: number;
  /** Sum of the MoE layers' latencies (the expert part of a forward pass). */
  latencyMs: number;
  throughputTokensPerS: number;
  sloMs: number;
  sloMet: boolean;
  memoryViolations: number;
  payloadViolations: number;
}

function tokensFor(
  workload: CostWorkload,
  layer: DeploymentPlan['layers'][number],
  expert: number,
  predicted: number,
): number {
  const observed = workload.expertTokens?.[layer.layer];
  if (!observed) return predicted;
  const value = observed[expert];
  if (value === undefined || !(value >= 0))
    throw invalidField(`expertTokens.${layer.layer}.${expert}`, 'missing or negative');
  return value;
}

/** The CostEvaluator for a plan's model shape, region, architecture and wire dtype under a profile. */
export function evaluatorForPlan(
  plan: DeploymentPlan,
  profile: CostProfile,
  prices: PriceTable,
): CostEvaluator {
  return createCostEvaluator({
    rates: resolveRates({ region: plan.region, arch: plan.arch }, prices),
    profile,
    hiddenSize: plan.model.hiddenSize,
    expertIntermediateSize: plan.model.expertIntermediateSize,
    wireDtype: plan.workload.wireDtype,
  });
}

/**
 * Cost of a deployment plan on a workload: per layer, per function and per expert GB-s, compute,
 * request, ephemeral-storage and S3 dollars, the paper's latency per layer, totals, $ per million
 * tokens and throughput, at marginal (first-tier, no free tier) prices from `prices`.
 */
export function planCost(
  plan: DeploymentPlan,
  workload: CostWorkload,
  profileInput: CostProfileInput,
  prices: PriceTable = defaultPriceTable,
): PlanCostReport {
  const profile = parseCostProfile(profileInput);
  const rates = resolveRates({ region: plan.region, arch: plan.arch }, prices);
  const evaluator = evaluatorForPlan(plan, profile, prices);
  const tokensPerBatch = workload.tokensPerBatch ?? plan.workload.tokensPerBatch;
  const sloMs = workload.sloMs ?? plan.workload.sloMs;
  const estimate = emptyFunctionEstimate();
  let memoryViolations = 0;
  let payloadViolations = 0;

  const layers: LayerCost[] = plan.layers.map((layer) => {
    const expertTokens = new Map<number, number>();
    for (const expert of layer.experts)
      expertTokens.set(expert.expert, tokensFor(workload, layer, expert.expert, expert.predictedTokens));
    let latencyMs = profile.transport.nextLayerLoadMs;
    const functions: FunctionCost[] = layer.functions.map((fn) => {
      let tokens = 0;
      for (const expert of fn.experts) tokens += expertTokens.get(expert) ?? 0;
      tokens = Math.ceil(tokens);
      const parameterBytes = plan.model.bytesPerExpert * fn.experts.length;
      evaluator.evaluateFunction(
        layer.method,
        tokens,
        fn.replicas,
        fn.memoryMB,
        layer.beta,
        parameterBytes,
        estimate,
      );
      if (estimate.layerLatencyMs > latencyMs) latencyMs = estimate.layerLatencyMs;
      if (!estimate.fitsMemory) memoryViolations++;
      if (!estimate.fitsPayload) payloadViolations++;
      return {
        name: fn.name,
        experts: [...fn.experts],
        memoryMB: fn.memoryMB,
        replicas: fn.replicas,
        tokens,
        maxReplicaTokens: estimate.maxReplicaTokens,
        latencyMs: estimate.latencyMs,
        invocations: estimate.invocations,
        gbSeconds: estimate.gbSeconds,
        computeUsd: estimate.computeUsd,
        requestUsd: estimate.requestUsd,
        storageUsd: estimate.storageUsd,
        s3Usd: estimate.s3Usd,
        totalUsd: estimate.totalUsd,
        fitsMemory: estimate.fitsMemory,
        fitsPayload: estimate.fitsPayload,
      };
    });
    const experts: ExpertCost[] = layer.experts.map((expert) => {
      const fn = functions[expert.functionIndex]!;
      const tokens = expertTokens.get(expert.expert) ?? 0;
      const share = fn.tokens > 0 ? tokens / fn.tokens : 1 / fn.experts.length;
      return {
        expert: expert.expert,
        tokens,
        gbSeconds: fn.gbSeconds * share,
        totalUsd: fn.totalUsd * share,
      };
    });
    const sum = (key: keyof FunctionCost): number =>
      functions.reduce((total, fn) => total + (fn[key] as number), 0);
    return {
      layer: layer.layer,
      method: layer.method,
      beta: layer.beta,
      latencyMs,
      gbSeconds: sum('gbSeconds'),
      computeUsd: sum('computeUsd'),
      requestUsd: sum('requestUsd'),
      storageUsd: sum('storageUsd'),
      s3Usd: sum('s3Usd'),
      totalUsd: sum('totalUsd'),
      functions,
      experts,
    };
  });

  const total = (
    key: 'gbSeconds' | 'computeUsd' | 'requestUsd' | 'storageUsd' | 's3Usd' | 'totalUsd' | 'latencyMs',
  ): number => layers.reduce((sum, layer) => sum + layer[key], 0);
  const latencyMs = total('latencyMs');
  const costUsdPerBatch = total('totalUsd');
  return {
    priceTable: { version: prices.version, date: prices.date },
    region: rates.region,
    arch: rates.arch,
    layers,
    gbSecondsPerBatch: total('gbSeconds'),
    computeUsd: total('computeUsd'),
    requestUsd: total('requestUsd'),
    storageUsd: total('storageUsd'),
    s3Usd: total('s3Usd'),
    costUsdPerBatch,
    costUsdPerMillionTokens: (costUsdPerBatch / tokensPerBatch) * 1e6,
    latencyMs,
    throughputTokensPerS: latencyMs > 0 ? tokensPerBatch / (latencyMs / 1000) : 0,
    sloMs,
    sloMet: latencyMs <= sloMs,
    memoryViolations,
    payloadViolations,
  };
}
