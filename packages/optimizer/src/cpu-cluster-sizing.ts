import type { DeploymentPlan } from '@switchyard/core';
import {
  type ComputeProfile,
  cpuClusterBaseline,
  ec2Instance,
  type PriceTable,
} from '@switchyard/cost-model';
import { OptimizerError } from './errors.js';
import type { PaperBenchmarkRow } from './paper-benchmark.js';
import { responseQuantileMs, slotsForSlo } from './queueing.js';

/** A CPU cluster sized for the benchmark's arrival stream, and what it says about the comparison. */
export interface CpuClusterSizing {
  /** Whole machines of the instance class, billed for wall time. */
  cluster: PaperBenchmarkRow;
  /** The same slots priced per vCPU, without rounding to whole machines (a sensitivity row). */
  rightSized: PaperBenchmarkRow;
  /**
   * Busy vCPU cost per batch of the most efficient configuration that meets the SLO on its own (the
   * kindest to the cluster): its cost per batch at utilisation u is this ÷ u.
   */
  busyUsdPerBatch: number;
  instanceType: string;
  usdPerHour: number;
  sloQuantile: number;
}

/**
 * Sizes the paper's CPU cluster for a Poisson stream of batches (M/D/c, `queueing.ts`): per thread
 * count, the fewest batch slots whose `sloQuantile` response time meets the SLO, on whole machines
 * of `instanceType` (on demand); the cheapest wins, at equal cost the one keeping the fewest vCPUs busy.
 */
export function sizeCpuCluster(options: {
  /** Any plan of the model (its region and predicted loads time the experts). */
  plan: DeploymentPlan;
  compute: ComputeProfile;
  prices: PriceTable;
  numExperts: number;
  tokensPerBatch: number;
  sloMs: number;
  arrivalRatePerS: number;
  instanceType?: string | undefined;
  usdPerHour?: number | undefined;
  vcpusPerThread?: number | undefined;
  sloQuantile?: number | undefined;
}): CpuClusterSizing {
  const { plan, prices, tokensPerBatch, sloMs, arrivalRatePerS } = options;
  // CPU cluster: the configured class (default the paper's 2 × 64-core EPYC, 512 GB class), on
  // demand, provisioned for the whole stream and billed for its wall time. One batch occupies a
  // slot of E experts × t threads (one vCPU per thread by default, like a Lambda vCPU), its service
  // time S(t) from the same compute profile (cpuClusterBaseline: each layer's experts side by side,
  // no network). Slots are sized so that the SLO quantile of response time (wait + S) meets the
  // SLO for a Poisson stream (cluster sizing below); whole machines of the class carry the slots.
  const instanceType = options.instanceType ?? 'm6a.32xlarge';
  const instance = ec2Instance(instanceType, plan.region, prices);
  const usdPerHour = options.usdPerHour ?? instance.usdPerHour.value;
  const vcpusPerInstance = instance.vcpus;
  const usdPerVcpuHour = usdPerHour / vcpusPerInstance;
  const vcpusPerThread = options.vcpusPerThread ?? 1;
  if (!(vcpusPerThread >= 1))
    throw new OptimizerError({ code: 'INVALID_INPUT', message: 'cpuVcpusPerThread must be ≥ 1' });
  const coresPerInstance = Math.floor(vcpusPerInstance / vcpusPerThread);
  const quantile = options.sloQuantile ?? 0.95;
  const E = options.numExperts;
  const sized = [1, 2, 4, 8, 16, 32]
    .filter((threads) => E * threads <= coresPerInstance)
    .map((threads) => {
      const { latencyMs } = cpuClusterBaseline(plan, {}, { compute: options.compute }, prices, {
        usdPerHour: 0,
        vcpus: threads * E,
      });
      const slotVcpus = vcpusPerThread * E * threads;
      const slots = slotsForSlo(arrivalRatePerS, latencyMs, sloMs, quantile);
      const slotsPerInstance = Math.floor(coresPerInstance / (E * threads));
      const instances = slots === undefined ? undefined : Math.ceil(slots / slotsPerInstance);
      const busyVcpuSecondsPerBatch = (slotVcpus * latencyMs) / 1000;
      return { threads, latencyMs, slotVcpus, slots, slotsPerInstance, instances, busyVcpuSecondsPerBatch };
    });
  if (sized.length === 0)
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `${instanceType} has room for ${coresPerInstance} threads, fewer than the model's ${E} experts`,
    });
  const feasible = sized.filter((o) => o.slots !== undefined);
  const whole = (o: (typeof sized)[number]) => {
    const instances = o.instances ?? 0;
    const totalSlots = instances * o.slotsPerInstance;
    return {
      ...o,
      totalSlots,
      costUsdPerBatch: (instances * usdPerHour) / 3600 / arrivalRatePerS,
      utilization: (arrivalRatePerS * o.busyVcpuSecondsPerBatch) / (instances * vcpusPerInstance),
      responseMs: responseQuantileMs(arrivalRatePerS, o.latencyMs, totalSlots, quantile),
    };
  };
  const rightSized = (o: (typeof sized)[number]) => {
    const slots = o.slots ?? 0;
    const vcpus = slots * o.slotVcpus;
    return {
      ...o,
      vcpus,
      costUsdPerBatch: (vcpus * usdPerVcpuHour) / 3600 / arrivalRatePerS,
      utilization: (arrivalRatePerS * o.latencyMs) / 1000 / slots,
      responseMs: responseQuantileMs(arrivalRatePerS, o.latencyMs, slots, quantile),
    };
  };
  // Cheapest; at equal cost (the same whole machines) the configuration that keeps the fewest vCPUs
  // busy per batch, so the row's utilisation and the break-even below describe the same set-up.
  const cheapest = <T extends { costUsdPerBatch: number; busyVcpuSecondsPerBatch: number }>(
    options: T[],
  ): T =>
    options.reduce((a, b) =>
      b.costUsdPerBatch < a.costUsdPerBatch * (1 - 1e-9) ||
      (b.costUsdPerBatch <= a.costUsdPerBatch * (1 + 1e-9) &&
        b.busyVcpuSecondsPerBatch < a.busyVcpuSecondsPerBatch)
        ? b
        : a,
    );
  const fastest = sized.reduce((a, b) => (b.latencyMs < a.latencyMs ? b : a));
  // No configuration meets the SLO: the fastest one, one slot per machine's worth (row says NO).
  const fallback = { ...fastest, slots: 1, instances: 1 };
  const chosen = feasible.length > 0 ? cheapest(feasible.map(whole)) : whole(fallback);
  const chosenRight = feasible.length > 0 ? cheapest(feasible.map(rightSized)) : rightSized(fallback);
  const quantileLabel = `p${Math.round(quantile * 100)}`;
  // The figures both cluster rows derive the same way from their chosen configuration.
  const clusterFigures = (
    c: Pick<typeof chosen, 'costUsdPerBatch' | 'latencyMs' | 'responseMs' | 'utilization' | 'threads'>,
  ) => ({
    costUsdPerBatch: c.costUsdPerBatch,
    costUsdPerMillionTokens: (c.costUsdPerBatch / tokensPerBatch) * 1e6,
    throughputTokensPerS: c.latencyMs > 0 ? tokensPerBatch / (c.latencyMs / 1000) : 0,
    latencyMs: c.latencyMs,
    sloMet: feasible.length > 0 && c.responseMs <= sloMs,
    utilization: c.utilization,
    threadsPerExpert: c.threads,
    responseQuantileMs: c.responseMs,
  });
  const cpuCluster: PaperBenchmarkRow = {
    deployment: 'CPU cluster',
    ...clusterFigures(chosen),
    instances: chosen.instances ?? 1,
    vcpus: (chosen.instances ?? 1) * vcpusPerInstance,
    slots: chosen.totalSlots,
    description: `${chosen.instances} × ${instanceType} (${vcpusPerInstance} vCPU, $${usdPerHour}/h on demand), billed for wall time: ${chosen.totalSlots} batch slot(s) of ${E} experts × ${chosen.threads} thread(s); ${quantileLabel} response ${Math.round(chosen.responseMs)} ms; busy ${(chosen.utilization * 100).toFixed(1)} % of provisioned vCPU time`,
  };
  const rightSizedRow: PaperBenchmarkRow = {
    deployment: 'CPU cluster, right-sized',
    ...clusterFigures(chosenRight),
    instances: chosenRight.vcpus / vcpusPerInstance,
    vcpus: chosenRight.vcpus,
    slots: chosenRight.slots ?? 1,
    description: `${chosenRight.vcpus} vCPU of the ${instanceType.split('.')[0]} family at $${usdPerVcpuHour.toFixed(4)}/vCPU-h (linear in size): ${chosenRight.slots} slot(s) × ${E} experts × ${chosenRight.threads} thread(s); busy ${(chosenRight.utilization * 100).toFixed(1)} %`,
  };
  // Busy vCPU cost per batch of the most efficient configuration that meets the SLO on its own
  // (the kindest to the cluster): its cost per batch at utilisation u is this ÷ u.
  const efficient = (feasible.length > 0 ? feasible : [fastest]).reduce((a, b) =>
    b.busyVcpuSecondsPerBatch < a.busyVcpuSecondsPerBatch ? b : a,
  );
  const busyUsdPerBatch = (efficient.busyVcpuSecondsPerBatch * usdPerVcpuHour) / 3600;
  return {
    cluster: cpuCluster,
    rightSized: rightSizedRow,
    busyUsdPerBatch,
    instanceType,
    usdPerHour,
    sloQuantile: quantile,
  };
}
