import { parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { invalidField } from './errors.js';
import { defaultPriceTable, ec2BillingRule, ec2Instance, type PriceTable } from './price-table.js';
import { forwardTokens, summarizeTraffic, type Traffic } from './traffic.js';
import { peakPerS, type WaitSummary } from './traffic-batches.js';

export const cpuAutoscalingOptionsSchema = z.strictObject({
  /** The policy looks at the load every this many seconds (and acts then). */
  decisionIntervalS: z.number().positive().finite().default(60),
  /**
   * From launch to serving: instance start, OS boot, runtime and model load. Billed, not serving.
   * An assumed figure (no AWS page states one); sweep it.
   */
  bootDelayS: z.number().nonnegative().finite().default(120),
  /** Scale in only to the highest fleet the policy wanted over this long (stabilisation window). */
  scaleInWindowS: z.number().nonnegative().finite().default(300),
  /** Instances kept when idle (0 = scale to zero); at most the fleet ceiling. */
  minInstances: z.number().int().nonnegative().default(1),
  /** Fleet ceiling; default the static cluster's size (the same peak-sized fleet, never exceeded). */
  maxInstances: z.number().int().positive().optional(),
});

export const cpuTrafficOptionsSchema = z.strictObject({
  /**
   * Measured CPU throughput: forward tokens per second per vCPU, for the same part of the model the
   * serverless bill covers (the MoE layers), at the batch size and threads the cluster would run.
   */
  tokensPerVcpuSecond: z.number().positive().finite(),
  /** Decode tokens per vCPU-second, when measured apart from prefill (default `tokensPerVcpuSecond`). */
  outputTokensPerVcpuSecond: z.number().positive().finite().optional(),
  /** Which CPU engine the throughput was measured on (e.g. `llama.cpp`, `switchyard in-process`). */
  engine: z.string().min(1).default('unspecified'),
  /** EC2 instance type priced from the table. */
  instanceType: z.string().min(1).default('m6a.32xlarge'),
  /**
   * A smaller (or larger) size of the same family: priced at the table type's $/vCPU-hour (EC2
   * prices sizes within a family in proportion to their vCPUs). Default the table type's vCPUs.
   */
  vcpusPerInstance: z.number().int().positive().optional(),
  /** Overrides the instance's $/hour (e.g. a reserved or savings-plan rate). */
  usdPerInstanceHour: z.number().positive().finite().optional(),
  region: z.string().min(1).default('us-east-1'),
  /** Share of capacity the sizing aims to use at the sized load (1 = the fewest instances; kindest). */
  targetUtilization: z.number().gt(0).max(1).default(1),
  /** The static cluster carries the busiest window of this length at `targetUtilization`. */
  peakWindowS: z.number().positive().finite().default(60),
  autoscaling: cpuAutoscalingOptionsSchema.prefault({}),
});
export type CpuTrafficOptions = z.input<typeof cpuTrafficOptionsSchema>;
export type ResolvedCpuTrafficOptions = z.output<typeof cpuTrafficOptionsSchema>;

/** What one CPU instance costs and holds, and how EC2 bills it. */
export interface CpuPricing {
  instanceType: string;
  vcpusPerInstance: number;
  usdPerInstanceHour: number;
  usdPerVcpuHour: number;
  billingGranularityS: number;
  minimumBilledS: number;
  /** How the price was derived, for the report. */
  description: string;
}

export type CpuBaselineName = 'static' | 'right-sized' | 'autoscaled';

/** One CPU baseline's bill for a traffic stream. */
export interface CpuTrafficCost {
  name: CpuBaselineName;
  usd: number;
  usdPerMillionTokens: number;
  /** vCPU-seconds of work the stream needs at the measured throughput. */
  busyVcpuSeconds: number;
  /** vCPU-seconds paid for. */
  billedVcpuSeconds: number;
  /** busy ÷ billed. */
  utilization: number;
  /** Most instances billed at once (vCPUs ÷ instance size for the right-sized pool). */
  maxInstances: number;
  /** Billed instance-seconds ÷ the billed horizon. */
  meanInstances: number;
  /** Instances launched during the window (autoscaled only; 0 otherwise). */
  launches: number;
  /** Billed until: the window's end, or later when the cluster is still working off its backlog. */
  horizonS: number;
  /** vCPU-seconds billed while instances were booting (autoscaled only). */
  bootingVcpuSeconds?: number;
  /** Shortest life of an instance launched and stopped in the evaluation (autoscaled only). */
  shortestLifetimeS?: number;
  /** Time from a request's arrival until its work starts; absent for the right-sized pool (no queue). */
  wait?: WaitSummary;
  description: string;
}

export function parseCpuTrafficOptions(input: CpuTrafficOptions): ResolvedCpuTrafficOptions {
  const options = parseWithSchema(cpuTrafficOptionsSchema, input, 'CPU baseline options');
  const { minInstances, maxInstances } = options.autoscaling;
  if (maxInstances !== undefined && maxInstances < minInstances)
    throw invalidField(
      'autoscaling.maxInstances',
      `(${maxInstances}) is below minInstances (${minInstances})`,
    );
  return options;
}

/** The instance price and EC2 billing rule the CPU baselines use. */
export function cpuPricing(
  options: ResolvedCpuTrafficOptions,
  prices: PriceTable = defaultPriceTable,
): CpuPricing {
  const billing = ec2BillingRule(options.region, prices);
  const listed = ec2Instance(options.instanceType, options.region, prices);
  const vcpusPerInstance = options.vcpusPerInstance ?? listed.vcpus;
  const listedUsdPerVcpuHour = listed.usdPerHour.value / listed.vcpus;
  const usdPerInstanceHour = options.usdPerInstanceHour ?? listedUsdPerVcpuHour * vcpusPerInstance;
  const family = options.instanceType.split('.')[0]!;
  const description =
    options.usdPerInstanceHour !== undefined
      ? `${vcpusPerInstance}-vCPU instance at a given $${usdPerInstanceHour}/h`
      : vcpusPerInstance === listed.vcpus
        ? `${options.instanceType} (${listed.vcpus} vCPU) at $${listed.usdPerHour.value}/h on demand`
        : `${vcpusPerInstance}-vCPU ${family} size at ${options.instanceType}'s $${listedUsdPerVcpuHour.toFixed(4)}/vCPU-h ($${usdPerInstanceHour.toFixed(4)}/h)`;
  return {
    instanceType: options.instanceType,
    vcpusPerInstance,
    usdPerInstanceHour,
    usdPerVcpuHour: usdPerInstanceHour / vcpusPerInstance,
    billingGranularityS: billing.granularityS,
    minimumBilledS: billing.minimumBilledS,
    description,
  };
}

/** Each request's CPU work, vCPU-seconds: prompt / θ + (forward output tokens) / θ_output. */
export function requestWorkVcpuSeconds(traffic: Traffic, options: ResolvedCpuTrafficOptions): Float64Array {
  const promptRate = options.tokensPerVcpuSecond;
  const outputRate = options.outputTokensPerVcpuSecond ?? promptRate;
  const work = new Float64Array(traffic.arrivalS.length);
  for (let i = 0; i < work.length; i++) {
    const prompt = traffic.promptTokens[i]!;
    work[i] = prompt / promptRate + (forwardTokens(prompt, traffic.outputTokens[i]!) - prompt) / outputRate;
  }
  return work;
}

/** Σ of a work column. */
export function sumWork(values: Float64Array): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** $ per million forward tokens of the stream. */
export function perMillionTokens(usd: number, traffic: Traffic): number {
  const tokens = summarizeTraffic(traffic).forwardTokens;
  return tokens > 0 ? (usd / tokens) * 1e6 : 0;
}

/** The static cluster's size: the busiest `peakWindowS` of work at `targetUtilization`, at least one. */
export function staticClusterInstances(
  traffic: Traffic,
  work: Float64Array,
  options: ResolvedCpuTrafficOptions,
  pricing: CpuPricing,
): number {
  const peakVcpus = peakPerS(traffic, options.peakWindowS, (i) => work[i]!);
  return Math.max(1, Math.ceil(peakVcpus / (pricing.vcpusPerInstance * options.targetUtilization) - 1e-9));
}
