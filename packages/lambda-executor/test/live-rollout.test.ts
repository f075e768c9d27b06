import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type DeploymentPlanInput, decodeExpertMessage, encodeExpertMessage } from '@switchyard/core';
import { decodeEnvelope, encodeEnvelope } from '@switchyard/expert-function/internal';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, type Checkpoint, loadCheckpoint } from '@switchyard/model';
import { loadedInitTimeoutMs } from '@switchyard/testing/local-runtime';
import { buildPlan } from '@switchyard/testing/plans';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployPlan } from '../src/deploy/deploy-plan.js';
import { routeLiveAlias } from '../src/deploy/live-alias.js';
import { undeployPlan } from '../src/deploy/undeploy-plan.js';
import { LambdaExecutor } from '../src/executor/lambda-executor.js';

const checkpointDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Layer 0 of the shakespeare model: experts 2+3 in one function, `memoryMB` each. */
function plan(memoryMB: number): DeploymentPlanInput {
  return buildPlan({
    model: { name: 'rollout-test', hiddenSize: 128, expertIntermediateSize: 256, numExperts: 8, topK: 2 },
    workload: { tokensPerBatch: 64, sloMs: 10_000 },
    layers: [{ layer: 0, functions: [{ name: 'ro-l0-g0', experts: [2, 3], memoryMB }] }],
  });
}

describe('a rollout moves the live alias: staged version, weighted routing while it warms, then all of it', () => {
  let runtime: LocalRuntime;
  let checkpoint: Checkpoint;
  let stageDir: string;
  let admin: LambdaClient;
  const H = 128;
  const request = encodeExpertMessage({
    kind: 'request',
    dtype: 'f32',
    layer: 0,
    sequence: 1,
    hiddenSize: H,
    expertIds: [3, 2],
    tokenCounts: [3, 2],
    activations: Float32Array.from({ length: 5 * H }, (_, i) => Math.sin(i * 0.21)),
  });

  beforeAll(async () => {
    checkpoint = await loadCheckpoint(checkpointDir);
    stageDir = mkdtempSync(join(tmpdir(), 'switchyard-rollout-'));
    runtime = await startLocalRuntime({
      cpuEmulation: 'threads',
      stateTransitionMs: 200,
      routingSeed: 7,
      initTimeoutMs: loadedInitTimeoutMs,
    });
    admin = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    admin?.destroy();
    await runtime?.stop();
    rmSync(stageDir, { recursive: true, force: true });
  });

  it('stages the new version, routes a share to it, then moves live and a plain deploy finds it current', async () => {
    const common = {
      target: 'local' as const,
      endpoint: runtime.endpoint,
      graphs: (layer: number, expert: number) => buildExpertGraph({ checkpoint }, layer, expert),
      stageDir,
      controlPlane: { waitMinDelaySeconds: 0.05 },
    };
    const first = await deployPlan(plan(1024), common);
    expect(first.functions[0]).toMatchObject({ functionName: 'ro-l0-g0-r0', version: '1', liveVersion: '1' });

    // Staged: the new memory size is published as version 2, and live stays on version 1.
    const staged = await deployPlan(plan(2048), { ...common, stageLive: true });
    expect(staged.functions[0]).toMatchObject({
      actions: ['update-configuration', 'publish-version'],
      version: '2',
      liveVersion: '1',
    });
    const alias = async () => admin.send(new GetAliasCommand({ FunctionName: 'ro-l0-g0-r0', Name: 'live' }));
    expect((await alias()).FunctionVersion).toBe('1');

    const invokeLive = async () => {
      const output = await admin.send(
        new InvokeCommand({
          FunctionName: 'ro-l0-g0-r0',
          Qualifier: 'live',
          Payload: encodeEnvelope(request),
        }),
      );
      expect(output.FunctionError).toBeUndefined();
      return {
        version: output.ExecutedVersion,
        activations: decodeExpertMessage(decodeEnvelope(output.Payload ?? new Uint8Array(), 'live'))
          .activations,
      };
    };
    const route = { functionName: 'ro-l0-g0-r0', from: '1', to: '2' };
    await routeLiveAlias(admin, route, 0.5);
    expect(await alias()).toMatchObject({
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
    });
    const runs = [];
    for (let i = 0; i < 16; i++) runs.push(await invokeLive());
    // Both versions serve through live, and they hold the same experts: every answer is the same.
    expect(new Set(runs.map((run) => run.version))).toEqual(new Set(['1', '2']));
    for (const run of runs) expect(run.activations).toEqual(runs[0]?.activations);

    await routeLiveAlias(admin, route, 1);
    const moved = await alias();
    expect(moved.FunctionVersion).toBe('2');
    expect(moved.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect((await invokeLive()).version).toBe('2');
    // The alias carries version 2's mark: deploying the same plan again changes nothing.
    const again = await deployPlan(plan(2048), common);
    expect(again.functions[0]).toMatchObject({ actions: ['unchanged'], version: '2', liveVersion: '2' });

    const executor = new LambdaExecutor({ endpoint: runtime.endpoint, credentials });
    const result = await executor.invoke({ functionName: 'ro-l0-g0-r0', payload: request });
    expect(result.billing.memorySizeMB).toBe(2048);
    expect(decodeExpertMessage(result.payload).activations).toEqual(runs[0]?.activations);
    await executor.close();
    await expect(routeLiveAlias(admin, route, 1.5)).rejects.toMatchObject({ code: 'DEPLOYMENT_FAILED' });
    await undeployPlan(plan(2048), { target: 'local', endpoint: runtime.endpoint });
  });
});
