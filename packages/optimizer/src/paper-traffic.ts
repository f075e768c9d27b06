import {
  type BreakEven,
  type ComputeProfile,
  type CpuTrafficCost,
  type CpuTrafficOptions,
  computeTimeAtThreadsMs,
  cpuBaselines,
  type PriceTable,
  type SavingPoint,
  type ServerlessBill,
  savingCurve,
  serverlessBill,
  summarizeTraffic,
  type TrafficScenario,
  type TrafficScenarioName,
  type TrafficSummary,
} from '@switchyard/cost-model';
import type { Configuration } from './configuration.js';
import type { DeploymentSolver } from './deployment-solver.js';
import { OptimizerError } from './errors.js';
import type { RoutedBatch } from './paper-routing.js';

/** A CPU engine's measured throughput on one shape's MoE layers. */
export interface PaperCpuEngine {
  /** e.g. `switchyard in-process (onnxruntime)` or `llama.cpp`. */
  engine: string;
  tokensPerVcpuSecond: number;
  /** Where the figure comes from (profile, benchmark file, threads and batch size). */
  source: string;
}

export interface PaperTrafficOptions {
  /** The traffic families (cost-model `trafficScenarios`, over the Azure trace). */
  scenarios: readonly TrafficScenario[];
  /** Rate scales of the sweep (× the base trace's mean rate), increasing. */
  rateScales: readonly number[];
  /** The stream the headline is read at (default the trace replayed at its own rate). */
  headline?: { scenario: TrafficScenarioName; rateScale: number };
  /** Longest a serverless batch waits to fill before it goes out partial. */
  maxBatchWaitS: number;
  /** Instance type, size and autoscaling of the CPU baselines (their throughput comes from the engines). */
  cpu: Omit<CpuTrafficOptions, 'tokensPerVcpuSecond' | 'outputTokensPerVcpuSecond' | 'engine'>;
  /**
   * Engines measured elsewhere for this shape (e.g. llama.cpp), or a function of the in-process
   * engine's figure (a measured ratio applied to it); the in-process engine is always included.
   */
  engines?: readonly PaperCpuEngine[] | ((inProcess: PaperCpuEngine) => readonly PaperCpuEngine[]);
  prices?: PriceTable;
}

/** One scenario's saving curve, slimmed for the report. */
export interface PaperSavingCurve {
  scenario: TrafficScenarioName;
  description: string;
  parameters: Readonly<Record<string, unknown>>;
  points: Array<{
    rateScale: number;
    traffic: TrafficSummary & { name: string };
    serverlessUsd: number;
    serverlessBatches: number;
    partialBatches: number;
    cpu: Record<
      'static' | 'rightSized' | 'autoscaled',
      { usd: number; utilization: number; maxInstances: number }
    >;
    saving: Record<'static' | 'rightSized' | 'autoscaled', number>;
  }>;
  breakEven: Record<'static' | 'rightSized' | 'autoscaled', BreakEven>;
}

export interface PaperTrafficResult {
  engines: PaperCpuEngine[];
  /** The faster engine, which every CPU row uses, and how much faster it is than the slower one. */
  cpuEngine: PaperCpuEngine;
  engineSpeedRatio: number;
  cpuPricing: string;
  maxBatchWaitS: number;
  /** The serverless deployment billed on the streams (Switchyard at the main SLO). */
  serverlessLabel: string;
  headline: {
    scenario: TrafficScenarioName;
    rateScale: number;
    traffic: TrafficSummary & { name: string };
    serverless: ServerlessBill;
    cpu: Record<'static' | 'rightSized' | 'autoscaled', CpuTrafficCost>;
    saving: Record<'static' | 'rightSized' | 'autoscaled', number>;
  };
  curves: PaperSavingCurve[];
}

/**
 * Switchyard's CPU-side work per token: each held-out batch's expert calls at one thread (the most
 * work per vCPU the profile shows), summed over layers and experts, as forward tokens per vCPU-second.
 */
export function inProcessThroughput(
  compute: ComputeProfile,
  batches: readonly RoutedBatch[],
  tokensPerBatch: number,
): number {
  let vcpuMs = 0;
  for (const batch of batches)
    for (const layer of batch.loads)
      for (const tokens of layer) vcpuMs += computeTimeAtThreadsMs(compute, tokens, 1);
  const perBatchS = vcpuMs / batches.length / 1000;
  return perBatchS > 0 ? tokensPerBatch / perBatchS : Number.POSITIVE_INFINITY;
}

/**
 * The cost of a batch of `tokens` tokens through `configuration`: the held-out batches scaled to
 * that many tokens, billed with the run-time repair, averaged — evaluated on a geometric grid of
 * token counts and interpolated linearly between grid points (a partial batch still invokes every
 * function that gets a token, so cost is not proportional to tokens).
 */
export function batchCostFunction(
  solver: DeploymentSolver,
  configuration: Configuration,
  batches: readonly RoutedBatch[],
  tokensPerBatch: number,
): (tokens: number) => number {
  const grid: number[] = [];
  for (let t = 1; t < tokensPerBatch; t = Math.ceil(t * 1.25)) grid.push(t);
  grid.push(tokensPerBatch);
  const costs = grid.map((tokens) => {
    const scale = tokens / tokensPerBatch;
    const scaled = batches.map((batch) =>
      batch.loads.map((layer) => layer.map((count) => Math.round(count * scale))),
    );
    return solver.evaluateOnBatches(configuration, scaled).meanCostUsd;
  });
  return (tokens: number) => {
    if (!(tokens > 0)) return 0;
    if (tokens >= tokensPerBatch) return costs.at(-1)! * (tokens / tokensPerBatch);
    let i = 0;
    while (grid[i + 1]! < tokens) i++;
    if (tokens <= grid[0]!) return costs[0]!;
    const fraction = (tokens - grid[i]!) / (grid[i + 1]! - grid[i]!);
    return costs[i]! + fraction * (costs[i + 1]! - costs[i]!);
  };
}

/**
 * The CPU side of one shape: the faster CPU engine, the three CPU baselines against Switchyard's
 * serverless bill on the headline stream, and a saving curve with its break-even points per traffic
 * scenario (architecture/paper-benchmark.md).
 */
export function paperTrafficComparison(
  options: PaperTrafficOptions,
  serverless: { usdForBatch: (tokens: number) => number; tokensPerBatch: number; label: string },
  inProcess: PaperCpuEngine,
): PaperTrafficResult {
  const others = typeof options.engines === 'function' ? options.engines(inProcess) : (options.engines ?? []);
  const engines = [inProcess, ...others];
  const cpuEngine = engines.reduce((a, b) => (b.tokensPerVcpuSecond > a.tokensPerVcpuSecond ? b : a));
  const slowest = engines.reduce((a, b) => (b.tokensPerVcpuSecond < a.tokensPerVcpuSecond ? b : a));
  const cpu: CpuTrafficOptions = {
    ...options.cpu,
    tokensPerVcpuSecond: cpuEngine.tokensPerVcpuSecond,
    engine: cpuEngine.engine,
  };
  const pricing = {
    usdForBatch: serverless.usdForBatch,
    tokensPerBatch: serverless.tokensPerBatch,
    maxWaitS: options.maxBatchWaitS,
    label: serverless.label,
  };
  const headlineAt = options.headline ?? { scenario: 'trace', rateScale: 1 };
  const headlineScenario = options.scenarios.find((s) => s.name === headlineAt.scenario);
  if (!headlineScenario)
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `the headline scenario "${headlineAt.scenario}" is not among ${options.scenarios.map((s) => s.name).join(', ')}`,
      location: 'headline.scenario',
    });
  const headlineTraffic = headlineScenario.at(headlineAt.rateScale);
  const headlineBill = serverlessBill(headlineTraffic, pricing);
  const baselines = cpuBaselines(headlineTraffic, cpu, options.prices);
  const pick = <T>(f: (key: 'static' | 'rightSized' | 'autoscaled') => T) => ({
    static: f('static'),
    rightSized: f('rightSized'),
    autoscaled: f('autoscaled'),
  });
  const curves = options.scenarios.map((scenario): PaperSavingCurve => {
    const curve = savingCurve({
      xs: options.rateScales,
      trafficAt: (x) => scenario.at(x),
      serverless: pricing,
      cpu,
      ...(options.prices ? { prices: options.prices } : {}),
    });
    return {
      scenario: scenario.name,
      description: scenario.description,
      parameters: scenario.parameters,
      points: curve.points.map((point: SavingPoint) => ({
        rateScale: point.x,
        traffic: point.traffic,
        serverlessUsd: point.serverless.usd,
        serverlessBatches: point.serverless.batches,
        partialBatches: point.serverless.partialBatches,
        cpu: pick((key) => ({
          usd: point.cpu[key].usd,
          utilization: point.cpu[key].utilization,
          maxInstances: point.cpu[key].maxInstances,
        })),
        saving: point.saving,
      })),
      breakEven: curve.breakEven,
    };
  });
  const saving = (cost: CpuTrafficCost) => (cost.usd > 0 ? 1 - headlineBill.usd / cost.usd : 0);
  return {
    engines,
    cpuEngine,
    engineSpeedRatio: cpuEngine.tokensPerVcpuSecond / slowest.tokensPerVcpuSecond,
    cpuPricing: baselines.pricing.description,
    maxBatchWaitS: options.maxBatchWaitS,
    serverlessLabel: serverless.label,
    headline: {
      scenario: headlineAt.scenario,
      rateScale: headlineAt.rateScale,
      traffic: {
        name: headlineTraffic.name,
        ...summarizeTraffic(headlineTraffic, serverless.tokensPerBatch),
      },
      serverless: headlineBill,
      cpu: pick((key) => baselines[key]),
      saving: pick((key) => saving(baselines[key])),
    },
    curves,
  };
}
