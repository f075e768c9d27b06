import type { DeploymentPlan, TransportMethod } from '@switchyard/core';
import { invalidField } from './errors.js';
import { type CostEvaluator, createCostEvaluator, emptyFunctionEstimate } from './evaluator.js';
import { type CostProfile, type CostProfileInput, parseCostProfile } from './options.js';
import { defaultPriceTable, type LambdaRates, type PriceTable, resolveRates } from './price-table.js';
import { provisionedReplicaCost } from './provisioned-concurrency.js';

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
  /**
   * Batches per second (default: the plan's). Prices provisioned concurrency per batch; a plan with
   * provisioned concurrency cannot be priced without it.
   */
  arrivalRatePerS?: number;
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
  /** Provisioned concurrency per replica (0: on demand only). */
  provisionedConcurrency: number;
  /** Its standing charge's share of one batch, all replicas (included in `totalUsd`). */
  provisionedUsd: number;
  /** Its standing charge per hour, all replicas, busy or idle. */
  provisionedUsdPerHour: number;
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
  provisionedUsd: number;
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
  /** Provisioned concurrency's standing charges per batch (in `costUsdPerBatch`) and per hour. */
  provisionedUsd: number;
  provisionedUsdPerHour: number;
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

/**
 * A function's duration and request charges with provisioned concurrency: its invocations (each
 * replica at most once per batch, the function's average billed GB-s) at the provisioned prices for
 * the share provisioned instances serve and on demand for the spill-over, plus the standing charge
 * of every replica's configured concurrency over the batches per second.
 */
function provisionedCharges(
  fn: { name: string; memoryMB: number; replicas: number; provisionedConcurrency: number },
  estimate: { invocations: number; gbSeconds: number },
  rates: LambdaRates,
  arrivalRatePerS: number | undefined,
): { computeUsd: number; requestUsd: number; provisionedUsd: number; provisionedUsdPerHour: number } {
  if (!rates.provisioned) {
    throw invalidField(
      'priceTable',
      `function ${fn.name} has provisioned concurrency but the price table has no provisioned-concurrency prices for ${rates.region}`,
    );
  }
  if (arrivalRatePerS === undefined || !(arrivalRatePerS > 0)) {
    throw invalidField(
      'workload.arrivalRatePerS',
      `function ${fn.name} has provisioned concurrency, whose standing charge is priced per batch at an arrival rate; set one`,
    );
  }
  const cost = provisionedReplicaCost(
    {
      memoryMB: fn.memoryMB,
      gbSecondsPerInvocation: estimate.invocations > 0 ? estimate.gbSeconds / estimate.invocations : 0,
      arrivalRatePerS,
      invocationsPerBatch: estimate.invocations / fn.replicas,
      provisioned: fn.provisionedConcurrency,
    },
    { ...rates, provisioned: rates.provisioned },
  );
  return {
    computeUsd: estimate.invocations * cost.durationUsdPerInvocation,
    requestUsd: estimate.invocations * cost.requestUsdPerInvocation,
    provisionedUsd: fn.replicas * cost.standingUsdPerBatch,
    provisionedUsdPerHour: fn.replicas * cost.standingUsdPerHour,
  };
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
 * tokens and throughput, at marginal (first-tier, no free tier) prices from `prices`. Functions with
 * provisioned concurrency are priced with its charges at the workload's arrival rate.
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
  const arrivalRatePerS = workload.arrivalRatePerS ?? plan.workload.arrivalRatePerS;
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
      const provisionedConcurrency = fn.provisionedConcurrency ?? 0;
      const charges =
        provisionedConcurrency > 0
          ? provisionedCharges({ ...fn, provisionedConcurrency }, estimate, rates, arrivalRatePerS)
          : {
              computeUsd: estimate.computeUsd,
              requestUsd: estimate.requestUsd,
              provisionedUsd: 0,
              provisionedUsdPerHour: 0,
            };
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
        computeUsd: charges.computeUsd,
        requestUsd: charges.requestUsd,
        storageUsd: estimate.storageUsd,
        s3Usd: estimate.s3Usd,
        provisionedConcurrency,
        provisionedUsd: charges.provisionedUsd,
        provisionedUsdPerHour: charges.provisionedUsdPerHour,
        totalUsd:
          estimate.totalUsd -
          estimate.computeUsd -
          estimate.requestUsd +
          charges.computeUsd +
          charges.requestUsd +
          charges.provisionedUsd,
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
      provisionedUsd: sum('provisionedUsd'),
      totalUsd: sum('totalUsd'),
      functions,
      experts,
    };
  });

  const total = (
    key:
      | 'gbSeconds'
      | 'computeUsd'
      | 'requestUsd'
      | 'storageUsd'
      | 's3Usd'
      | 'provisionedUsd'
      | 'totalUsd'
      | 'latencyMs',
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
    provisionedUsd: total('provisionedUsd'),
    provisionedUsdPerHour: layers.reduce(
      (sum, layer) => sum + layer.functions.reduce((inner, fn) => inner + fn.provisionedUsdPerHour, 0),
      0,
    ),
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
