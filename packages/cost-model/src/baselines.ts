import type { DeploymentPlan, TransportMethod } from '@switchyard/core';
import { computeTimeAtThreadsMs } from './compute-curve.js';
import { invalidField } from './errors.js';
import { wireBytesPerElement } from './evaluator.js';
import { powerTuningCostUsd } from './lambda-cost.js';
import { fitsMemory, fitsPayload } from './latency.js';
import { lambdaMlMemoryMB, paperMemoryOptionsMB } from './memory.js';
import { type CostProfileInput, parseCostProfile } from './options.js';
import { type CostWorkload, evaluatorForPlan, type PlanCostReport, planCost } from './plan-cost.js';
import { defaultPriceTable, ec2Instance, type PriceTable, resolveRates } from './price-table.js';

/** A baseline's cost on the same workload; the first five fields match the plan's `baselines` entries. */
export interface BaselineResult {
  name: string;
  costUsdPerBatch: number;
  latencyMs: number;
  gbSecondsPerBatch?: number;
  costUsdPerMillionTokens: number;
  throughputTokensPerS: number;
  /** Cost-model evaluations the baseline needed (Power Tuning's sweep size). */
  evaluations?: number;
  description: string;
  /** Full per-layer report for the serverless baselines. */
  report?: PlanCostReport;
}

/** Tokens per expert per layer: observed ones from the workload, else the plan's predictions. */
function loads(plan: DeploymentPlan, workload: CostWorkload): Array<{ layer: number; tokens: number[] }> {
  return plan.layers.map((layer) => {
    const observed = workload.expertTokens?.[layer.layer];
    const tokens = new Array<number>(plan.model.numExperts).fill(0);
    for (const expert of layer.experts) tokens[expert.expert] = expert.predictedTokens;
    if (observed) for (let e = 0; e < plan.model.numExperts; e++) tokens[e] = observed[e] ?? 0;
    return { layer: layer.layer, tokens: tokens.map((t) => Math.ceil(t)) };
  });
}

/**
 * The paper's transport rule for baselines without a planner: direct payload when the largest
 * expert's input fits 6 MB, else non-pipelined S3.
 */
function defaultMethod(
  maxTokens: number,
  plan: DeploymentPlan,
  transport: ReturnType<typeof parseCostProfile>['transport'],
): TransportMethod {
  const bytes = plan.model.hiddenSize * wireBytesPerElement[plan.workload.wireDtype];
  return fitsPayload(maxTokens, bytes, bytes, transport) ? 'direct' : 's3';
}

/** A one-function-per-expert, one-replica plan with the given memory per (layer, expert). */
function onePerExpertPlan(
  plan: DeploymentPlan,
  perLayer: Array<{ layer: number; tokens: number[]; method: TransportMethod; memoryMB: number[] }>,
  strategy: DeploymentPlan['strategy'],
): DeploymentPlan {
  return {
    ...plan,
    strategy,
    layers: perLayer.map(({ layer, tokens, method, memoryMB }) => ({
      layer,
      method,
      beta: Math.max(1, ...tokens),
      functions: tokens.map((_, expert) => ({
        name: `${strategy}-l${layer}-e${expert}`,
        experts: [expert],
        memoryMB: memoryMB[expert]!,
        replicas: 1,
        functionNames: [`${strategy}-l${layer}-e${expert}`],
      })),
      experts: tokens.map((count, expert) => ({
        expert,
        functionIndex: expert,
        predictedTokens: count,
        predictedTokensLow: count,
        predictedTokensHigh: count,
      })),
    })),
  };
}

function fromReport(
  name: string,
  description: string,
  report: PlanCostReport,
  evaluations?: number,
): BaselineResult {
  return {
    name,
    costUsdPerBatch: report.costUsdPerBatch,
    latencyMs: report.latencyMs,
    gbSecondsPerBatch: report.gbSecondsPerBatch,
    costUsdPerMillionTokens: report.costUsdPerMillionTokens,
    throughputTokensPerS: report.throughputTokensPerS,
    evaluations,
    description,
    report,
  };
}

/**
 * LambdaML-style deployment (the paper's serverless baseline): one function per expert, every
 * function at 3,008 MB, no replicas, no prediction; direct payload when it fits, else S3.
 */
export function lambdaMlBaseline(
  plan: DeploymentPlan,
  workload: CostWorkload,
  profileInput: CostProfileInput,
  prices: PriceTable = defaultPriceTable,
): BaselineResult {
  const profile = parseCostProfile(profileInput);
  const perLayer = loads(plan, workload).map(({ layer, tokens }) => ({
    layer,
    tokens,
    method: defaultMethod(Math.max(...tokens), plan, profile.transport),
    memoryMB: tokens.map(() => lambdaMlMemoryMB),
  }));
  const baselinePlan = onePerExpertPlan(plan, perLayer, 'lambdaml');
  return fromReport(
    'lambdaml',
    'every expert its own function at 3,008 MB, 1 replica, no prediction',
    planCost(baselinePlan, { ...workload, expertTokens: undefined }, profile, prices),
  );
}

export interface PowerTuningOptions {
  /** Memory sizes swept per function (default: the paper's 14 options). */
  memoryOptionsMB?: readonly number[];
  /** Power Tuning's strategies: cheapest by its formula, fastest, or its weighted balance. */
  strategy?: 'cost' | 'speed' | 'balanced';
  /** Weight of cost in `balanced` (0–1, Power Tuning's default 0.5). */
  balancedWeight?: number;
}

/**
 * AWS Lambda Power Tuning-style sweep: each expert function (1 replica, no prediction beyond the
 * loads given) is "run" at every memory option and sized by Power Tuning's cost formula (billed ms ×
 * price per ms at 128 MB × memory/128, no request charge). The result is then priced in full.
 */
export function powerTuningBaseline(
  plan: DeploymentPlan,
  workload: CostWorkload,
  profileInput: CostProfileInput,
  prices: PriceTable = defaultPriceTable,
  options: PowerTuningOptions = {},
): BaselineResult {
  const profile = parseCostProfile(profileInput);
  const memoryOptions = options.memoryOptionsMB ?? paperMemoryOptionsMB;
  if (memoryOptions.length === 0) throw invalidField('memoryOptionsMB', 'must list at least one size');
  const strategy = options.strategy ?? 'cost';
  const weight = options.balancedWeight ?? 0.5;
  const rates = resolveRates({ region: plan.region, arch: plan.arch }, prices);
  const evaluator = evaluatorForPlan(plan, profile, prices);
  let evaluations = 0;
  const perLayer = loads(plan, workload).map(({ layer, tokens }) => {
    const method = defaultMethod(Math.max(...tokens), plan, profile.transport);
    const memoryMB = tokens.map((count) => {
      const feasible = memoryOptions.filter((m) =>
        fitsMemory(m, count, {
          ...evaluator.footprint,
          parameterBytes: evaluator.residentBytes(plan.model.bytesPerExpert),
        }),
      );
      const candidates = feasible.length > 0 ? feasible : [memoryOptions[memoryOptions.length - 1]!];
      const measured = candidates.map((m) => {
        evaluations++;
        const ms = evaluator.replicaMs(method, count, m, count, plan.model.bytesPerExpert);
        return { memoryMB: m, ms, usd: powerTuningCostUsd(m, ms, rates) };
      });
      if (count === 0) return candidates[0]!;
      const maxMs = Math.max(...measured.map((x) => x.ms)) || 1;
      const maxUsd = Math.max(...measured.map((x) => x.usd)) || 1;
      const score = (x: { ms: number; usd: number }): number =>
        strategy === 'cost'
          ? x.usd
          : strategy === 'speed'
            ? x.ms
            : weight * (x.usd / maxUsd) + (1 - weight) * (x.ms / maxMs);
      return measured.reduce((best, x) => (score(x) < score(best) ? x : best)).memoryMB;
    });
    return { layer, tokens, method, memoryMB };
  });
  const baselinePlan = onePerExpertPlan(plan, perLayer, 'power-tuning');
  return fromReport(
    'power-tuning',
    `per-function memory sweep over ${memoryOptions.length} sizes (${strategy}), 1 replica`,
    planCost(baselinePlan, { ...workload, expertTokens: undefined }, profile, prices),
    evaluations,
  );
}

export interface CpuClusterOptions {
  /** EC2 instance type priced from the table (default m6a.32xlarge: 128 vCPU, 512 GiB, AMD EPYC). */
  instanceType?: string;
  /** Override the table's $/hour (e.g. a reserved price). */
  usdPerHour?: number;
  /** Override the instance's vCPU count. */
  vcpus?: number;
  instances?: number;
  /** Share of the cluster's paid time that does useful work (1 = always busy; the kindest case). */
  utilization?: number;
  region?: string;
}

/**
 * CPU-cluster baseline: the experts of each layer run in parallel on an always-on cluster billed
 * by the hour; each active expert gets ⌊vCPUs / active experts⌋ threads (waves when there are more
 * experts than vCPUs), its time from the compute profile's thread model; no network transfer.
 * Cost per batch = $/hour × instances × batch time / utilization.
 */
export function cpuClusterBaseline(
  plan: DeploymentPlan,
  workload: CostWorkload,
  profileInput: CostProfileInput,
  prices: PriceTable = defaultPriceTable,
  options: CpuClusterOptions = {},
): BaselineResult {
  const profile = parseCostProfile(profileInput);
  const instanceType = options.instanceType ?? 'm6a.32xlarge';
  const instance =
    options.usdPerHour !== undefined && options.vcpus !== undefined
      ? undefined
      : ec2Instance(instanceType, options.region ?? plan.region, prices);
  const usdPerHour = options.usdPerHour ?? instance!.usdPerHour.value;
  const instances = options.instances ?? 1;
  const vcpus = (options.vcpus ?? instance!.vcpus) * instances;
  const utilization = options.utilization ?? 1;
  if (!(usdPerHour >= 0)) throw invalidField('usdPerHour', 'must be a non-negative number');
  if (!Number.isInteger(instances) || instances < 1)
    throw invalidField('instances', 'must be a positive integer');
  if (!(utilization > 0 && utilization <= 1)) throw invalidField('utilization', 'must be in (0, 1]');

  let latencyMs = 0;
  for (const { tokens } of loads(plan, workload)) {
    const active = tokens.filter((t) => t > 0);
    if (active.length === 0) continue;
    const threads = Math.max(1, Math.floor(vcpus / active.length));
    const waves = Math.ceil(active.length / vcpus);
    const slowest = Math.max(...active.map((t) => computeTimeAtThreadsMs(profile.compute, t, threads)));
    latencyMs += waves * slowest;
  }
  const tokensPerBatch = workload.tokensPerBatch ?? plan.workload.tokensPerBatch;
  const costUsdPerBatch = (usdPerHour * instances * (latencyMs / 3_600_000)) / utilization;
  return {
    name: 'cpu-cluster',
    costUsdPerBatch,
    latencyMs,
    costUsdPerMillionTokens: (costUsdPerBatch / tokensPerBatch) * 1e6,
    throughputTokensPerS: latencyMs > 0 ? tokensPerBatch / (latencyMs / 1000) : 0,
    description: `${instances} × ${instanceType} (${vcpus} vCPU) at $${usdPerHour}/h on-demand, utilization ${utilization}`,
  };
}
