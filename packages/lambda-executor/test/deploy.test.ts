import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  type DeploymentPlanInput,
  decodeExpertMessage,
  deploymentPlanSchema,
  encodeExpertMessage,
  lambdaLimits,
} from '@switchyard/core';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, type Checkpoint, createExpertRunner, loadCheckpoint } from '@switchyard/model';
import { loadedInitTimeoutMs } from '@switchyard/testing/local-runtime';
import { type MotoServer, motoCredentials, startMotoServer } from '@switchyard/testing/moto';
import { buildPlan, type PlanFunctionSpec, prediction } from '@switchyard/testing/plans';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployPlan } from '../src/deploy/deploy-plan.js';
import { expertFunctionEnvironment } from '../src/deploy/function-settings.js';
import { undeployPlan } from '../src/deploy/undeploy-plan.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';
import { recordingClients } from './aws-fixtures.js';

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

/**
 * A layer-1 wire request whose segments are `[expert, tokens]` in order, with deterministic
 * activations, and what the in-process runner answers for it (the bit-for-bit reference).
 */
async function layerOneRequest(
  graphs: (layer: number, expert: number) => Uint8Array,
  segments: ReadonlyArray<readonly [number, number]>,
  value: (index: number) => number,
  sequence: number,
): Promise<{ request: Uint8Array; activations: Float32Array; expected: Float32Array }> {
  const H = 128;
  const tokens = segments.reduce((sum, [, count]) => sum + count, 0);
  const activations = Float32Array.from({ length: tokens * H }, (_, i) => value(i));
  const request = encodeExpertMessage({
    kind: 'request',
    dtype: 'f32',
    layer: 1,
    sequence,
    hiddenSize: H,
    expertIds: segments.map(([expert]) => expert),
    tokenCounts: segments.map(([, count]) => count),
    activations,
  });
  const expected = new Float32Array(tokens * H);
  let start = 0;
  for (const [expert, count] of segments) {
    const runner = await createExpertRunner(graphs(1, expert), { threads: 1 });
    expected.set(await runner.run(activations.slice(start * H, (start + count) * H), count), start * H);
    await runner.close();
    start += count;
  }
  return { request, activations, expected };
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
    // Functions stay Pending / InProgress for 300 ms, as on Lambda: deploy must wait, not collide.
    runtime = await startLocalRuntime({
      cpuEmulation: 'threads',
      stateTransitionMs: 300,
      initTimeoutMs: loadedInitTimeoutMs,
    });
  });

  afterAll(async () => {
    await runtime?.stop();
    rmSync(stageDir, { recursive: true, force: true });
  });

  it('deploys, returns the in-process expert outputs bit for bit, converges and undeploys', async () => {
    expect(deploymentPlanSchema.safeParse(plan()).success).toBe(true);
    const common = {
      target: 'local' as const,
      endpoint: runtime.endpoint,
      graphs,
      stageDir,
      controlPlane: { waitMinDelaySeconds: 0.1 },
    };
    const recorded = recordingClients(runtime.endpoint);
    const first = await deployPlan(plan(), { ...common, client: recorded.lambda });
    // It waited for each function and version to become Active instead of colliding with Pending.
    expect(recorded.failures.filter((failure) => failure.endsWith('ResourceConflictException'))).toEqual([]);
    expect(recorded.failures.every((failure) => failure.endsWith('ResourceNotFoundException'))).toBe(true);
    expect(recorded.calls.filter((call) => call === 'lambda:GetFunction').length).toBeGreaterThan(3);
    recorded.destroy();
    const created = ['create', 'publish-version', 'create-alias'];
    expect(first.functions.map((f) => [f.functionName, f.actions])).toEqual([
      ['shk-l1-g0-r0', created],
      ['shk-l1-g0-r1', created],
      ['shk-l1-g1-r0', created],
    ]);

    // 12 tokens: 7 for expert 1, 5 for expert 0 (segments in that order), deterministic values.
    const { request, expected } = await layerOneRequest(
      graphs,
      [
        [1, 7],
        [0, 5],
      ],
      (i) => Math.sin(i * 0.37) * 1.5,
      42,
    );
    // Through the live alias the deployment pointed at the version it published.
    const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, qualifier: 'live' });
    const result = await executor.invoke({ functionName: 'shk-l1-g0-r1', payload: request });
    const response = decodeExpertMessage(result.payload);
    expect(response).toMatchObject({
      kind: 'response',
      sequence: 42,
      layer: 1,
      expertIds: [1, 0],
      tokenCounts: [7, 5],
    });
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
      // $LATEST is back to the configuration live's version was published from: nothing to publish.
      ['shk-l1-g0-r0', ['update-configuration']],
      ['shk-l1-g0-r1', ['unchanged']],
      ['shk-l1-g1-r0', ['unchanged']],
    ]);

    const changed = await deployPlan(plan({ memoryMB: 2048, withExpert5: false, reserved: 3 }), common);
    expect(changed.functions.map((f) => [f.functionName, f.actions])).toEqual([
      ['shk-l1-g0-r0', ['update-configuration', 'put-concurrency', 'publish-version', 'update-alias']],
      ['shk-l1-g0-r1', ['update-configuration', 'put-concurrency', 'publish-version', 'update-alias']],
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
      expect(fn.actions).toEqual(['create', 'publish-version', 'create-alias']);
      expect(['zip', 's3-zip']).toContain(fn.packaging);
      expect(fn.unzippedBytes).toBeLessThan(lambdaLimits.unzippedCodeBytes);
    }
  });

  it('deploys what AWS gets (zips, the runtime layer, the built handler) and answers through live bit for bit', async () => {
    // The layer holds the built bundle (`pnpm --filter @switchyard/expert-function build`, run by CI
    // before the tests) and this checkout's onnxruntime-node; the zip holds the stub and the graphs.
    const zipPlan = plan({ withExpert5: false });
    const options = {
      target: 'local' as const,
      endpoint: runtime.endpoint,
      graphs,
      localPackaging: 'zip' as const,
      controlPlane: { waitMinDelaySeconds: 0.1 },
    };
    const deployed = await deployPlan(zipPlan, options);
    expect(deployed.layers.map((layer) => [layer.layerName, layer.actions])).toEqual([
      ['switchyard-shakespeare-test-runtime-x86-64', ['publish']],
    ]);
    expect(deployed.functions.map((fn) => fn.packaging)).toEqual(['zip', 'zip']);
    const { request, expected } = await layerOneRequest(
      graphs,
      [
        [0, 2],
        [1, 4],
      ],
      (i) => Math.cos(i * 0.11),
      3,
    );
    const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, qualifier: 'live' });
    const result = await executor.invoke({ functionName: 'shk-l1-g0-r0', payload: request });
    await executor.close();
    expect(decodeExpertMessage(result.payload).activations).toEqual(expected);
    // The same layer content is found again by its SHA-256: nothing is published twice.
    const again = await deployPlan(zipPlan, options);
    expect(again.layers[0]?.actions).toEqual(['unchanged']);
    expect(again.functions.every((fn) => fn.actions.join() === 'unchanged')).toBe(true);
    const removed = await undeployPlan(zipPlan, { target: 'local', endpoint: runtime.endpoint });
    expect(removed.functions.map((fn) => fn.functionName)).toEqual(['shk-l1-g0-r0', 'shk-l1-g0-r1']);
    expect(removed.layers.map((layer) => layer.layerVersionArn)).toEqual([
      deployed.layers[0]?.layerVersionArn,
    ]);
  });

  it("configures the plan's provisioned concurrency on live, leaves it on a re-run, removes it when the plan drops it", async () => {
    const withProvisioned = (provisioned: number | undefined): DeploymentPlanInput => {
      const input = plan({ withExpert5: false, reserved: 2 });
      const fn = input.layers[0]?.functions[0] as { provisionedConcurrency?: number };
      if (provisioned !== undefined) fn.provisionedConcurrency = provisioned;
      return input;
    };
    const options = {
      target: 'local' as const,
      endpoint: runtime.endpoint,
      graphs,
      stageDir,
      controlPlane: { waitMinDelaySeconds: 0.1 },
    };
    const admin = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    const configured = async (name: string) =>
      admin
        .send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }))
        .then((config) => config.RequestedProvisionedConcurrentExecutions)
        .catch((error: Error) => error.name);
    const first = await deployPlan(withProvisioned(1), options);
    expect(first.functions.map((fn) => fn.actions.at(-1))).toEqual([
      'put-provisioned-concurrency',
      'put-provisioned-concurrency',
    ]);
    expect(await configured('shk-l1-g0-r0')).toBe(1);
    const tags = await admin.send(new GetFunctionCommand({ FunctionName: 'shk-l1-g0-r1' }));
    expect(tags.Tags?.['switchyard:provisioned-concurrency']).toBe('1');
    const again = await deployPlan(withProvisioned(1), options);
    expect(again.functions.every((fn) => fn.actions.join() === 'unchanged')).toBe(true);
    const dropped = await deployPlan(withProvisioned(undefined), options);
    expect(dropped.functions.map((fn) => fn.actions)).toEqual([
      ['delete-provisioned-concurrency'],
      ['delete-provisioned-concurrency'],
    ]);
    expect(await configured('shk-l1-g0-r0')).toBe('ProvisionedConcurrencyConfigNotFoundException');
    const untagged = await admin.send(new GetFunctionCommand({ FunctionName: 'shk-l1-g0-r1' }));
    expect(untagged.Tags?.['switchyard:provisioned-concurrency']).toBeUndefined();
    const settled = await deployPlan(withProvisioned(undefined), options);
    expect(settled.functions.every((fn) => fn.actions.join() === 'unchanged')).toBe(true);
    admin.destroy();
    await undeployPlan(withProvisioned(undefined), { target: 'local', endpoint: runtime.endpoint });
  });
});

describe('deployPlan on the local runtime with the graphs in S3 (moto), fetched by the functions at INIT', () => {
  let moto: MotoServer;
  let runtime: LocalRuntime;
  let checkpoint: Checkpoint;
  let stageDir: string;
  const bucket = 'switchyard-weights';
  const graphs = (layer: number, expert: number): Uint8Array =>
    buildExpertGraph({ checkpoint }, layer, expert);

  beforeAll(async () => {
    checkpoint = await loadCheckpoint(checkpointDir);
    stageDir = mkdtempSync(join(tmpdir(), 'switchyard-stage-s3-'));
    moto = await startMotoServer();
    runtime = await startLocalRuntime({
      cpuEmulation: 'threads',
      functionS3Endpoint: moto.endpoint,
      initTimeoutMs: loadedInitTimeoutMs,
    });
  });

  afterAll(async () => {
    await runtime?.stop();
    await moto?.stop();
    rmSync(stageDir, { recursive: true, force: true });
  });

  it('uploads each graph once, deploys code without them, answers bit for bit, and undeploy removes the objects', async () => {
    const s3 = new S3Client({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: motoCredentials,
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const where = { target: 'local' as const, endpoint: runtime.endpoint, s3Endpoint: moto.endpoint, bucket };
    const deployed = await deployPlan(plan(), { ...where, graphs, stageDir });
    // Experts 0, 1 (shared by both replicas) and 5: three objects, and code of a manifest and a stub.
    expect(deployed.objects.map((object) => object.actions)).toEqual([['upload'], ['upload'], ['upload']]);
    for (const fn of deployed.functions) expect(fn.codeBytes).toBeLessThan(4096);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount).toBe(3);

    const { request, expected } = await layerOneRequest(
      graphs,
      [
        [0, 3],
        [1, 4],
      ],
      (i) => Math.cos(i * 0.21),
      7,
    );
    const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials, qualifier: 'live' });
    const result = await executor.invoke({ functionName: 'shk-l1-g0-r0', payload: request });
    expect(decodeExpertMessage(result.payload).activations).toEqual(expected);
    expect(result.billing.initDurationMs).toBeGreaterThan(0);
    await executor.close();

    const removed = await undeployPlan(plan(), where);
    expect(removed.objects).toHaveLength(3);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
    s3.destroy();
  });
});
