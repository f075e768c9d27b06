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
  const waits = queue.waitsS(traffic.arrivalS, ahead);
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
 * The three CPU baselines for one stream, on one pricing (architecture/traffic.md §5):
 *
 * * `static` — sized for the peak: the fewest instances whose vCPUs carry the busiest `peakWindowS`
 *   of work at `targetUtilization`, always on, billed for the window (and on until its queue drains);
 * * `rightSized` — busy vCPU-seconds at the per-vCPU price: every paid second busy, nothing waits —
 *   the lower bound no real cluster reaches;
 * * `autoscaled` — a reactive policy every `decisionIntervalS` (last interval's work plus the backlog,
 *   at `targetUtilization`), instances billed from launch and serving after `bootDelayS`, scale-in
 *   held to the highest wish of the last `scaleInWindowS` and never before EC2's minimum billed time,
 *   per-second billing, the fleet capped at the static cluster's size (or `maxInstances`).
 */
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
