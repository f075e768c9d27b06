import type { DeploymentPlan, ExpertQuantization } from '@switchyard/core';
import { type ComputeProfile, cpuBaselines, lambdaMlBaseline, type Traffic } from '@switchyard/cost-model';
import { loadCheckpoint, summarizeCheckpoint } from '@switchyard/model';
import { nominalComputeProfile } from '@switchyard/optimizer';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import type { Engine } from '@switchyard/serving';
import { resolveModel } from './commands/plan.js';
import type { CliEnv } from './env.js';

/** One baseline's price of the job (the `baselines` entries of `run-batch --json`, architecture/batch.md). */
export interface BatchBaseline {
  name: 'lambdaml' | 'cpu-vcpu-seconds';
  usd: number;
  usdPerMillionTokens: number;
  gbSeconds?: number;
  vcpuSeconds?: number;
  description: string;
}

/**
 * Prices the job's own steps on the LambdaML baseline as they run: every step's routing (tokens per
 * expert per MoE layer) goes through cost-model's `lambdaMlBaseline` — one 3,008 MB function per
 * expert, no replicas, direct payload when it fits — under the job's plan's region and prices and the
 * nominal compute profile; the job's price is the sum over its steps.
 */
export class LambdaMlMeter {
  /** Each step's routing, priced when the baseline is asked for (not on the job's own time). */
  private readonly steps: Array<{ tokens: number; expertTokens: Record<number, number[]> }> = [];

  private constructor(
    private readonly plan: DeploymentPlan,
    private readonly compute: ComputeProfile,
  ) {}

  static async create(options: {
    modelDir: string;
    env: CliEnv;
    quantization: ExpertQuantization | undefined;
    /** The job's deployed plan (its region and prices); in process, one function per expert. */
    plan: DeploymentPlan | undefined;
  }): Promise<LambdaMlMeter> {
    const { model, matrices } = await resolveModel(options.modelDir, options.env, options.quantization);
    const plan =
      options.plan ??
      createDefaultPlan(
        summarizeCheckpoint(await loadCheckpoint(options.modelDir), model.name, options.quantization),
      );
    return new LambdaMlMeter(plan, nominalComputeProfile({ ...model, matrices }));
  }

  /** Subscribes to the engine's steps; returns the unsubscribe. */
  attach(engine: Pick<Engine, 'onStep'>): () => void {
    return engine.onStep((event) => {
      if (event.inputTokens === 0 || event.routing.length === 0) return;
      const expertTokens: Record<number, number[]> = {};
      for (const routing of event.routing) {
        const counts = new Array<number>(this.plan.model.numExperts).fill(0);
        for (const expert of routing.topkIds) counts[expert] = (counts[expert] ?? 0) + 1;
        expertTokens[routing.layer] = counts;
      }
      this.steps.push({ tokens: event.inputTokens, expertTokens });
    });
  }

  baseline(totalTokens: number): BatchBaseline {
    let usd = 0;
    let gbSeconds = 0;
    for (const step of this.steps) {
      const priced = lambdaMlBaseline(
        this.plan,
        { expertTokens: step.expertTokens, tokensPerBatch: step.tokens },
        { compute: this.compute },
      );
      usd += priced.costUsdPerBatch;
      gbSeconds += priced.gbSecondsPerBatch ?? 0;
    }
    return {
      name: 'lambdaml',
      usd,
      usdPerMillionTokens: totalTokens > 0 ? (usd / totalTokens) * 1e6 : 0,
      gbSeconds,
      description: `the job's ${this.steps.length} steps (this run's) on one 3,008 MB function per expert, 1 replica (cost model, nominal compute profile, ${this.plan.region} prices)`,
    };
  }
}

/**
 * A CPU instance billed per vCPU-second for the in-process run's wall time: cost-model's right-sized
 * CPU baseline (busy vCPU-seconds at an m6a's on-demand $/vCPU-hour) with the throughput this run
 * measured, so the busy time is wall time × the vCPUs the run used.
 */
export function cpuVcpuSecondsBaseline(run: {
  wallSeconds: number;
  totalTokens: number;
  vcpus: number;
}): BatchBaseline | undefined {
  if (!(run.wallSeconds > 0) || run.totalTokens <= 0) return undefined;
  const traffic: Traffic = {
    name: 'batch job',
    durationS: run.wallSeconds,
    arrivalS: Float64Array.of(0),
    promptTokens: Uint32Array.of(run.totalTokens),
    outputTokens: Uint32Array.of(0),
    parameters: {},
  };
  const { rightSized, pricing } = cpuBaselines(traffic, {
    tokensPerVcpuSecond: run.totalTokens / (run.wallSeconds * run.vcpus),
    engine: 'switchyard in-process',
  });
  return {
    name: 'cpu-vcpu-seconds',
    usd: rightSized.usd,
    usdPerMillionTokens: (rightSized.usd / run.totalTokens) * 1e6,
    vcpuSeconds: rightSized.billedVcpuSeconds,
    description: `${run.wallSeconds.toFixed(1)} s in process × ${run.vcpus} vCPU at ${pricing.instanceType}'s $${pricing.usdPerVcpuHour.toFixed(4)}/vCPU-h`,
  };
}
