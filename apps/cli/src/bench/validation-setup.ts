import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DeploymentPlan,
  type Logger,
  type ModelSummary,
  noopLogger,
  type RoutingTrace,
  readRoutingTrace,
} from '@switchyard/core';
import { type ComputeProfile, type CostProfileInput, loadComputeProfile } from '@switchyard/cost-model';
import { deployPlan, LambdaExecutor, undeployPlan } from '@switchyard/lambda-executor';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, loadModel } from '@switchyard/model';
import { forecastFromTrace, planDeployment } from '@switchyard/optimizer';
import type { CalibrationFunction } from './invocation-calibration.js';

/** The model the calibration and the validation run on the embedded Lambda runtime. */
export const validationModel = 'shakespeare-mixtral-8x2';

/** What a calibration or validation run works with: the model, its profile, a runtime, an executor. */
export interface ValidationSetup {
  summary: ModelSummary;
  compute: ComputeProfile;
  /** The routing trace the plans are made from (the model's calibration trace). */
  planningTrace: RoutingTrace;
  /** The routing trace the validation batches are cut from (held out from the planning trace). */
  heldOutTrace: RoutingTrace;
  runtime: LocalRuntime;
  executor: LambdaExecutor;
  machine: string;
  /** Plans the model at one memory size (BO over the direct method), seeded. */
  plan(memoryMB: number, costProfile: CostProfileInput, seed: number): Promise<DeploymentPlan>;
  /** Deploys a plan to the runtime and lists its functions. */
  deploy(plan: DeploymentPlan): Promise<CalibrationFunction[]>;
  /**
   * Deletes a plan's functions, stopping their processes (each holds a model process of ~100 MB;
   * left to the idle timeout, every plan of a run would be resident at once).
   */
  undeploy(plan: DeploymentPlan): Promise<void>;
  close(): Promise<void>;
}

/** Tokens per batch the plans are made for. */
const planTokensPerBatch = 1024;
/** SLO the plans are made for (loose: the validation is about GB-s, not latency). */
const planSloMs = 2000;

export async function openValidationSetup(options: {
  fixturesDir: string;
  logger?: Logger;
  /**
   * 'scale' (default): the runtime stretches durations by the memory→vCPU rule; 'cgroup': the kernel
   * holds each function process to its share instead (cgroup v1 CFS quota); 'off': neither.
   */
  cpuEmulation?: 'scale' | 'cgroup' | 'off';
}): Promise<ValidationSetup> {
  const logger = options.logger ?? noopLogger;
  const model = await loadModel(join(options.fixturesDir, 'checkpoints', validationModel));
  const compute = loadComputeProfile(join(options.fixturesDir, 'profiles', `${validationModel}.json`));
  const traces = join(options.fixturesDir, 'traces', validationModel);
  const planningTrace = await readRoutingTrace(join(traces, 'calibration.safetensors'));
  const heldOutTrace = await readRoutingTrace(join(traces, 'heldout.safetensors'));
  const summary = model.summary;
  const forecast = forecastFromTrace(planningTrace, { tokensPerBatch: planTokensPerBatch });
  // A loaded 2-core machine starts many onnxruntime functions at once: allow a longer INIT phase.
  const runtime = await startLocalRuntime({
    initTimeoutMs: 60_000,
    idleTimeoutMs: 600_000,
    cpuEmulation: options.cpuEmulation ?? 'scale',
  });
  const stageDir = mkdtempSync(join(tmpdir(), 'switchyard-validation-'));
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, timeoutMs: 120_000 });
  const machine = `embedded Lambda runtime on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} logical CPUs)`;
  return {
    summary,
    compute,
    planningTrace,
    heldOutTrace,
    runtime,
    executor,
    machine,
    plan: (memoryMB, costProfile, seed) =>
      planDeployment({
        model: summary,
        forecast,
        costProfile,
        workload: { tokensPerBatch: planTokensPerBatch, sloMs: planSloMs },
        strategy: 'bo',
        methods: ['direct'],
        memoryOptionsMB: [memoryMB],
        seed,
        maxEvaluations: 24,
        createdAt: '2026-12-06T00:00:00Z',
      }),
    async deploy(plan) {
      await deployPlan(plan, {
        target: 'local',
        endpoint: runtime.endpoint,
        graphs: (layer: number, expert: number) => buildExpertGraph(model, layer, expert),
        stageDir,
        credentials,
        logger,
      });
      return plan.layers.flatMap((layer) =>
        layer.functions.flatMap((fn) =>
          fn.functionNames.map((functionName) => ({
            functionName,
            layer: layer.layer,
            experts: fn.experts,
            memoryMB: fn.memoryMB,
          })),
        ),
      );
    },
    async undeploy(plan) {
      await undeployPlan(plan, {
        target: 'local',
        endpoint: runtime.endpoint,
        credentials,
        onlyPlanFunctions: true,
        logger,
      });
    },
    async close() {
      await executor.close?.();
      await runtime.stop();
      await model.close();
      rmSync(stageDir, { recursive: true, force: true });
    },
  };
}

/**
 * A plan's identity for the disjointness check: per layer, the transport method, β and each
 * function's memory, experts and replicas. Two plans with the same signature deploy the same functions.
 */
export function planSignature(plan: DeploymentPlan): string {
  return plan.layers
    .map(
      (layer) =>
        `${layer.layer}:${layer.method}:β${layer.beta}:${layer.functions
          .map((fn) => `${fn.memoryMB}MB[${fn.experts.join(',')}]x${fn.replicas}`)
          .join('+')}`,
    )
    .join(';');
}
