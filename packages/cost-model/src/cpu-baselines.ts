import { autoscaledCpuClusterResolved } from './cpu-baselines-autoscaled.js';
import {
  type CpuPricing,
  type CpuTrafficCost,
  type CpuTrafficOptions,
  cpuPricing,
  parseCpuTrafficOptions,
  perMillionTokens,
  type ResolvedCpuTrafficOptions,
  requestWorkVcpuSeconds,
  staticClusterInstances,
  sumWork,
} from './cpu-baselines-options.js';
import { FluidQueue } from './cpu-baselines-queue.js';
import { defaultPriceTable, type PriceTable } from './price-table.js';
import type { Traffic } from './traffic.js';
import { peakPerS, summarizeWaits } from './traffic-batches.js';

export interface CpuBaselines {
  static: CpuTrafficCost;
  rightSized: CpuTrafficCost;
  autoscaled: CpuTrafficCost;
  pricing: CpuPricing;
  options: ResolvedCpuTrafficOptions;
}

function staticClusterResolved(
  traffic: Traffic,
  work: Float64Array,
  options: ResolvedCpuTrafficOptions,
  pricing: CpuPricing,
): CpuTrafficCost {
  const instances = staticClusterInstances(traffic, work, options, pricing);
  const queue = new FluidQueue(instances * pricing.vcpusPerInstance);
  const ahead = new Float64Array(work.length);
  for (let i = 0; i < work.length; i++) {
    queue.advance(traffic.arrivalS[i]!);
    ahead[i] = queue.arrive(work[i]!);
  }
  const horizonS = Math.max(traffic.durationS, queue.drainS());
  queue.advance(horizonS);
  const waits = Float64Array.from(ahead, (a, i) => queue.waitS(traffic.arrivalS[i]!, a));
  const busy = sumWork(work);
  const billedVcpuSeconds = instances * pricing.vcpusPerInstance * horizonS;
  const usd = (instances * pricing.usdPerInstanceHour * horizonS) / 3600;
  return {
    name: 'static',
    usd,
    usdPerMillionTokens: perMillionTokens(usd, traffic),
    busyVcpuSeconds: busy,
    billedVcpuSeconds,
    utilization: billedVcpuSeconds > 0 ? busy / billedVcpuSeconds : 0,
    maxInstances: instances,
    meanInstances: instances,
    launches: 0,
    horizonS,
    wait: summarizeWaits(waits),
    description: `${instances} × ${pricing.description}, always on, sized for the busiest ${options.peakWindowS} s at ${Math.round(options.targetUtilization * 100)} % (${options.engine} at ${options.tokensPerVcpuSecond} tokens/s per vCPU)`,
  };
}

function rightSizedPoolResolved(
  traffic: Traffic,
  work: Float64Array,
  options: ResolvedCpuTrafficOptions,
  pricing: CpuPricing,
): CpuTrafficCost {
  const busy = sumWork(work);
  const usd = (busy * pricing.usdPerVcpuHour) / 3600;
  return {
    name: 'right-sized',
    usd,
    usdPerMillionTokens: perMillionTokens(usd, traffic),
    busyVcpuSeconds: busy,
    billedVcpuSeconds: busy,
    utilization: busy > 0 ? 1 : 0,
    maxInstances: peakPerS(traffic, options.peakWindowS, (i) => work[i]!) / pricing.vcpusPerInstance,
    meanInstances: busy / traffic.durationS / pricing.vcpusPerInstance,
    launches: 0,
    horizonS: traffic.durationS,
    description: `busy vCPU-seconds only, at ${pricing.description}'s $${pricing.usdPerVcpuHour.toFixed(4)}/vCPU-h: the lower bound no real cluster reaches (${options.engine} at ${options.tokensPerVcpuSecond} tokens/s per vCPU)`,
  };
}

/**
 * A static cluster sized for the peak: the fewest instances whose vCPUs carry the busiest
 * `peakWindowS` of work at `targetUtilization`, always on and billed for the whole window (and on,
 * should its queue outlast the window, until it drains). Reports the FIFO queueing wait.
 */
export function staticCpuCluster(
  traffic: Traffic,
  input: CpuTrafficOptions,
  prices: PriceTable = defaultPriceTable,
): CpuTrafficCost {
  const options = parseCpuTrafficOptions(input);
  const pricing = cpuPricing(options, prices);
  return staticClusterResolved(traffic, requestWorkVcpuSeconds(traffic, options), options, pricing);
}

/**
 * A right-sized pool billed per vCPU-second of work: Σ work × $/vCPU-s. Every paid second is busy,
 * nothing waits — the lower bound no real cluster reaches.
 */
export function rightSizedCpuPool(
  traffic: Traffic,
  input: CpuTrafficOptions,
  prices: PriceTable = defaultPriceTable,
): CpuTrafficCost {
  const options = parseCpuTrafficOptions(input);
  const pricing = cpuPricing(options, prices);
  return rightSizedPoolResolved(traffic, requestWorkVcpuSeconds(traffic, options), options, pricing);
}

/**
 * An autoscaled cluster: a reactive policy every `decisionIntervalS` (last interval's work rate plus
 * the backlog to clear within one interval, at `targetUtilization`), new instances billed from launch
 * and serving after `bootDelayS`, scale-in held to the highest wish of the last `scaleInWindowS` and
 * never before an instance's minimum billed period, EC2's per-second billing with its minimum, the
 * fleet capped at the static cluster's size. Billed until its backlog drains (at least the window).
 */
export function autoscaledCpuCluster(
  traffic: Traffic,
  input: CpuTrafficOptions,
  prices: PriceTable = defaultPriceTable,
): CpuTrafficCost {
  const options = parseCpuTrafficOptions(input);
  const pricing = cpuPricing(options, prices);
  const work = requestWorkVcpuSeconds(traffic, options);
  const ceiling = options.autoscaling.maxInstances ?? staticClusterInstances(traffic, work, options, pricing);
  return autoscaledCpuClusterResolved(
    traffic,
    work,
    options,
    pricing,
    Math.max(ceiling, options.autoscaling.minInstances),
  );
}

/** All three CPU baselines for one stream, on one pricing. */
export function cpuBaselines(
  traffic: Traffic,
  input: CpuTrafficOptions,
  prices: PriceTable = defaultPriceTable,
): CpuBaselines {
  const options = parseCpuTrafficOptions(input);
  const pricing = cpuPricing(options, prices);
  const work = requestWorkVcpuSeconds(traffic, options);
  const staticCost = staticClusterResolved(traffic, work, options, pricing);
  const ceiling = options.autoscaling.maxInstances ?? staticCost.maxInstances;
  return {
    static: staticCost,
    rightSized: rightSizedPoolResolved(traffic, work, options, pricing),
    autoscaled: autoscaledCpuClusterResolved(traffic, work, options, pricing, ceiling),
    pricing,
    options,
  };
}
