import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BillingReport, type Logger, noopLogger, readRoutingTrace } from '@switchyard/core';
import { gbSecondsOf, loadComputeProfile, planCost } from '@switchyard/cost-model';
import { deployPlan, LambdaExecutor, startLocalRuntime } from '@switchyard/lambda-executor';
import { buildExpertGraph, loadModel } from '@switchyard/model';
import { forecastFromTrace, planDeployment } from '@switchyard/optimizer';
import { createRemoteMoeStep } from '@switchyard/scatter-gather';

export interface ValidationResult {
  model: string;
  tokensPerBatch: number;
  sloMs: number;
  invocations: number;
  simulatedGbSeconds: number;
  /** Sum of the BillingReports of the median measured batch. */
  measuredGbSeconds: number;
  /** Every measured batch's summed GB-s. */
  measuredGbSecondsPerBatch: number[];
  /** measured / simulated − 1. */
  relativeError: number;
  withinTarget: boolean;
  functions: number;
  /** Cold starts among the measured invocations (their INIT is billed too). */
  coldStarts: number;
  /** Per measured invocation: memory, runtime-reported duration and billed duration. */
  reports: Array<{ memoryMB: number; durationMs: number; billedDurationMs: number; initDurationMs?: number }>;
}

/**
 * Measured, not simulated: plans the shakespeare model (BO, direct transport) for one held-out batch,
 * deploys it to the embedded Lambda runtime, sends that batch's real routing (the trace's top-k ids)
 * through `createRemoteMoeStep` layer by layer, and sums the runtime's BillingReports. The simulator's
 * GB-s for the same plan and the same per-expert token counts sits beside it.
 */
export async function runPaperValidation(options: {
  fixturesDir: string;
  tokensPerBatch?: number;
  sloMs?: number;
  /** Memory sizes the plan may use (default: the planner's). */
  memoryOptionsMB?: number[];
  /** Measured batches after the warm-up one; the median bill is reported. */
  measuredBatches?: number;
  logger?: Logger;
}): Promise<ValidationResult> {
  const logger = options.logger ?? noopLogger;
  const modelDir = join(options.fixturesDir, 'checkpoints/shakespeare-mixtral-8x2');
  const model = await loadModel(modelDir);
  const compute = loadComputeProfile(join(options.fixturesDir, 'profiles/shakespeare-mixtral-8x2.json'));
  const trace = await readRoutingTrace(
    join(options.fixturesDir, 'traces/shakespeare-mixtral-8x2/heldout.safetensors'),
  );
  const tokens = Math.min(options.tokensPerBatch ?? 1024, trace.numTokens);
  const sloMs = options.sloMs ?? 2000;
  const summary = model.summary;
  const plan = await planDeployment({
    model: summary,
    forecast: forecastFromTrace(trace, { tokensPerBatch: tokens }),
    costProfile: { compute },
    workload: { tokensPerBatch: tokens, sloMs },
    strategy: 'bo',
    methods: ['direct'],
    ...(options.memoryOptionsMB ? { memoryOptionsMB: options.memoryOptionsMB } : {}),
    seed: 0,
    maxEvaluations: 24,
    createdAt: '2026-11-28T00:00:00Z',
  });
  // The batch's observed routing: per layer, token count per expert (what the simulator is given).
  const K = trace.topK;
  const expertTokens: Record<number, number[]> = {};
  const layerIds: Int32Array[] = [];
  for (let l = 0; l < trace.numLayers; l++) {
    const counts = new Array<number>(summary.numExperts).fill(0);
    const ids = new Int32Array(tokens * K);
    for (let t = 0; t < tokens; t++)
      for (let k = 0; k < K; k++) {
        const id = trace.topkIds[(l * trace.numTokens + t) * K + k]!;
        ids[t * K + k] = id;
        counts[id]!++;
      }
    expertTokens[summary.moeLayers[l]!] = counts;
    layerIds.push(ids);
  }
  const simulated = planCost(plan, { expertTokens, tokensPerBatch: tokens }, { compute });

  // A loaded 2-core machine starts many onnxruntime functions at once: allow a longer INIT phase.
  const runtime = await startLocalRuntime({ initTimeoutMs: 60_000, idleTimeoutMs: 600_000 });
  const stageDir = mkdtempSync(join(tmpdir(), 'switchyard-paper-bench-'));
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, timeoutMs: 120_000 });
  const reports: BillingReport[] = [];
  const batches: Array<{ gbSeconds: number; reports: BillingReport[] }> = [];
  try {
    await deployPlan(plan, {
      target: 'local',
      endpoint: runtime.endpoint,
      graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
      stageDir,
      credentials,
      logger,
    });
    const recording = {
      invoke: async (request: Parameters<LambdaExecutor['invoke']>[0]) => {
        const result = await executor.invoke(request);
        reports.push(result.billing);
        return result;
      },
    };
    // One invocation at a time: the local runtime's functions share this machine's cores, so concurrent
    // invocations would stretch each other's wall time (and billed duration); Lambda's would not.
    const step = createRemoteMoeStep({
      plan,
      executor: recording,
      logger,
      maxInFlight: 1,
      maxInFlightPerReplica: 1,
    });
    const H = summary.hiddenSize;
    let state = 20261128;
    const hidden = Float32Array.from({ length: tokens * H }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296 - 0.5;
    });
    const weights = new Float32Array(tokens * K).fill(1 / K);
    const runBatch = async () => {
      for (let l = 0; l < trace.numLayers; l++)
        await step({
          layer: summary.moeLayers[l]!,
          hiddenStates: hidden,
          numTokens: tokens,
          hiddenSize: H,
          topK: K,
          topkIds: layerIds[l]!,
          topkWeights: weights,
        });
    };
    await runBatch(); // warm-up: cold starts and model load are not part of the steady-state bill
    // Several measured batches (the machine is shared: a burst of other load inflates one batch);
    // the batch with the median bill is reported, every batch's bill is kept.
    for (let pass = 0; pass < (options.measuredBatches ?? 3); pass++) {
      reports.length = 0;
      await runBatch();
      batches.push({
        gbSeconds: reports.reduce((sum, r) => sum + gbSecondsOf(r.memorySizeMB, r.billedDurationMs), 0),
        reports: [...reports],
      });
    }
  } finally {
    await executor.close?.();
    await runtime.stop();
    await model.close();
    rmSync(stageDir, { recursive: true, force: true });
  }
  const measuredGbSeconds = reports.reduce(
    (sum, r) => sum + gbSecondsOf(r.memorySizeMB, r.billedDurationMs),
    0,
  );
  const simulatedGbSeconds = simulated.gbSecondsPerBatch;
  const relativeError = simulatedGbSeconds > 0 ? measuredGbSeconds / simulatedGbSeconds - 1 : 0;
  return {
    model: summary.name,
    tokensPerBatch: tokens,
    sloMs,
    invocations: reports.length,
    measuredGbSecondsPerBatch: batches.map((b) => b.gbSeconds),
    simulatedGbSeconds,
    measuredGbSeconds,
    relativeError,
    withinTarget: Math.abs(relativeError) <= 0.15,
    coldStarts: reports.filter((r) => r.initDurationMs !== undefined).length,
    reports: reports.map((r) => ({
      memoryMB: r.memorySizeMB,
      durationMs: r.durationMs,
      billedDurationMs: r.billedDurationMs,
      ...(r.initDurationMs === undefined ? {} : { initDurationMs: r.initDurationMs }),
    })),
    functions: plan.layers.reduce((n, layer) => n + layer.functions.reduce((m, fn) => m + fn.replicas, 0), 0),
  };
}
