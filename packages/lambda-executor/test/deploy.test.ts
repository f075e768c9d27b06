import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  type DeploymentPlanInput,
  decodeExpertMessage,
  deploymentPlanSchema,
  encodeExpertMessage,
  lambdaLimits,
} from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, type Checkpoint, createExpertRunner, loadCheckpoint } from '@switchyard/model';
import { buildPlan, type PlanFunctionSpec, prediction } from '@switchyard/testing/plans';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployPlan } from '../src/deploy/deploy-plan.js';
import { expertFunctionEnvironment } from '../src/deploy/function-settings.js';
import { undeployPlan } from '../src/deploy/undeploy-plan.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';

const checkpointDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Layer 1 of the shakespeare model: experts 0+1 packed in one function (2 replicas), expert 5 alone. */
function plan(
  options: { memoryMB?: number; withExpert5?: boolean; reserved?: number } = {},
): DeploymentPlanInput {
  const functions: PlanFunctionSpec[] = [
    {
      name: 'shk-l1-g0',
      experts: [0, 1],
      memoryMB: options.memoryMB ?? 1024,
      replicas: 2,
      reservedConcurrency: options.reserved,
    },
  ];
  if (options.withExpert5 !== false) functions.push({ name: 'shk-l1-g1', experts: [5], memoryMB: 512 });
  return buildPlan({
    model: {
      name: 'shakespeare-test',
      hiddenSize: 128,
      expertIntermediateSize: 256,
      numExperts: 8,
      topK: 2,
    },
    workload: { tokensPerBatch: 64, sloMs: 10_000 },
    layers: [{ layer: 1, functions, predict: () => prediction(10, 5, 20) }],
  });
}

describe('deployPlan on the local runtime with the shakespeare experts', () => {
  let runtime: LocalRuntime;
  let checkpoint: Checkpoint;
  let stageDir: string;
  const graphs = (layer: number, expert: number): Uint8Array =>
    buildExpertGraph({ checkpoint }, layer, expert);

  beforeAll(async () => {
    checkpoint = await loadCheckpoint(checkpointDir);
    stageDir = mkdtempSync(join(tmpdir(), 'switchyard-stage-'));
    runtime = await startLocalRuntime({ cpuEmulation: 'threads' });
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(stageDir, { recursive: true, force: true });
  });

  it('deploys, returns the in-process expert outputs bit for bit, converges and undeploys', async () => {
    expect(deploymentPlanSchema.safeParse(plan()).success).toBe(true);
    const common = { target: 'local' as const, endpoint: runtime.endpoint, graphs, stageDir };
    const first = await deployPlan(plan(), common);
    expect(first.functions.map((f) => [f.functionName, f.actions])).toEqual([
      ['shk-l1-g0-r0', ['create']],
      ['shk-l1-g0-r1', ['create']],
      ['shk-l1-g1-r0', ['create']],
    ]);

    // 12 tokens: 7 for expert 1, 5 for expert 0 (segments in that order), deterministic values.
    const H = 128;
    const activations = Float32Array.from({ length: 12 * H }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const request = encodeExpertMessage({
      kind: 'request',
      dtype: 'f32',
      layer: 1,
      sequence: 42,
      hiddenSize: H,
      expertIds: [1, 0],
      tokenCounts: [7, 5],
      activations,
    });
    const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials });
    const result = await executor.invoke({ functionName: 'shk-l1-g0-r1', payload: request });
    const response = decodeExpertMessage(result.payload);
    expect(response).toMatchObject({
      kind: 'response',
      sequence: 42,
      layer: 1,
      expertIds: [1, 0],
      tokenCounts: [7, 5],
    });
    const expected = new Float32Array(12 * H);
    for (const [expert, start, count] of [
      [1, 0, 7],
      [0, 7, 5],
    ] as const) {
      const runner = await createExpertRunner(graphs(1, expert), { threads: 1 });
      expected.set(await runner.run(activations.slice(start * H, (start + count) * H), count), start * H);
      await runner.close();
    }
    expect(response.activations).toEqual(expected);
    expect(result.billing.memorySizeMB).toBe(1024);
    expect(result.billing.initDurationMs).toBeGreaterThan(0);

    // An expert the function does not hold is a function error, not a wrong answer.
    const wrong = encodeExpertMessage({ ...decodeExpertMessage(request), expertIds: [5, 0] });
    await expect(executor.invoke({ functionName: 'shk-l1-g0-r0', payload: wrong })).rejects.toMatchObject({
      code: 'FUNCTION_ERROR',
    });

    const again = await deployPlan(plan(), common);
    expect(again.functions.every((f) => f.actions.join() === 'unchanged')).toBe(true);

    // Every function carries the deployment marker and the malloc settings; a function whose
    // environment lost them is updated on the next deploy.
    const admin = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    const configuration = await admin.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'shk-l1-g0-r0' }),
    );
    expect(configuration.Environment?.Variables).toEqual({
      ...expertFunctionEnvironment,
      SWITCHYARD_DEPLOYMENT: 'shakespeare-test',
    });
    expect(expertFunctionEnvironment.GLIBC_TUNABLES).toMatch(/^glibc\.malloc\.mmap_threshold=\d+:/);
    await admin.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'shk-l1-g0-r0',
        Environment: { Variables: { SWITCHYARD_DEPLOYMENT: 'shakespeare-test' } },
      }),
    );
    admin.destroy();
    const restored = await deployPlan(plan(), common);
    expect(restored.functions.map((f) => [f.functionName, f.actions])).toEqual([
      ['shk-l1-g0-r0', ['update-configuration']],
      ['shk-l1-g0-r1', ['unchanged']],
      ['shk-l1-g1-r0', ['unchanged']],
    ]);

    const changed = await deployPlan(plan({ memoryMB: 2048, withExpert5: false, reserved: 3 }), common);
    expect(changed.functions.map((f) => [f.functionName, f.actions])).toEqual([
      ['shk-l1-g0-r0', ['update-configuration', 'put-concurrency']],
      ['shk-l1-g0-r1', ['update-configuration', 'put-concurrency']],
      ['shk-l1-g1-r0', ['delete']],
    ]);
    const warm = await executor.invoke({ functionName: 'shk-l1-g0-r1', payload: request });
    expect(warm.billing.memorySizeMB).toBe(2048);
    expect(decodeExpertMessage(warm.payload).activations).toEqual(expected);

    const removed = await undeployPlan(plan(), { target: 'local', endpoint: runtime.endpoint });
    expect(removed.functions.map((f) => f.functionName).sort()).toEqual(['shk-l1-g0-r0', 'shk-l1-g0-r1']);
    await executor.close();
  });

  it('plans an AWS deployment in a dry run: zip with Linux onnxruntime only, under 250 MB', async () => {
    const dry = await deployPlan(plan(), {
      target: 'aws',
      graphs,
      dryRun: true,
      offline: true,
      handlerBundle: new TextEncoder().encode('export const handler = () => null;\n'),
    });
    expect(dry.functions).toHaveLength(3);
    for (const fn of dry.functions) {
      expect(fn.actions).toEqual(['create']);
      expect(['zip', 's3-zip']).toContain(fn.packaging);
      expect(fn.unzippedBytes).toBeLessThan(lambdaLimits.unzippedCodeBytes);
    }
  });
});
