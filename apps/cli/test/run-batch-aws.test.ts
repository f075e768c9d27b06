import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema } from '@switchyard/core';
import { repoRoot, runCli } from '@switchyard/testing/cli';
import { type MotoServer, motoEnvironment, startMotoServer } from '@switchyard/testing/moto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchJobLines, readShakespeare } from '../src/bench/batch-job.js';
import { deploymentOnMoto, type MotoClients, motoClients } from './moto-deployment.js';

/**
 * `switchyard run-batch --target aws` against moto_server, in real child processes: the job's plan is
 * deployed (role, graphs, layer, functions) with `deploy --target aws`'s code. moto cannot invoke a
 * function without Docker, so the serving stack's startup probe (one step through every layer) fails:
 * the job must stop at once with the invoke error, write no line, and remove its functions unless
 * `--keep` (apps/cli/test/deploy-aws.test.ts checks the deployment itself in detail).
 */
const work = mkdtempSync(join(tmpdir(), 'switchyard-batch-aws-'));
const input = join(work, 'requests.jsonl');
const output = join(work, 'results.jsonl');
const bucket = 'batch-weights';
const model = 'shakespeare-mixtral-8x2';
let moto: MotoServer;
let clients: MotoClients;

beforeAll(async () => {
  writeFileSync(
    input,
    `${batchJobLines({ lines: 3, seed: 3, minPromptBytes: 16, maxPromptBytes: 32, chatShare: 0.5, minMaxTokens: 2, maxMaxTokens: 2 }, readShakespeare(repoRoot)).join('\n')}\n`,
  );
  moto = await startMotoServer();
  clients = await motoClients(moto.endpoint, bucket);
}, 120_000);

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

const runBatch = (...extra: string[]) =>
  runCli(
    [
      'run-batch',
      '-i',
      input,
      '-o',
      output,
      '--max-batch-tokens',
      '256',
      '--target',
      'aws',
      '--endpoint',
      moto.endpoint,
      '--bucket',
      bucket,
      '--create-role',
      '--json',
      ...extra,
    ],
    { env: motoEnvironment, timeoutMs: 240_000 },
  );

/** The startup probe's error line: layer 0's first function, after the executor's bounded retries. */
const invokeFailure =
  /^error \[INVALID_CONFIG\]: the expert functions of layer 0 could not be invoked on aws \(are AWS credentials configured and the plan deployed\?\): layer 0: experts [\d, ]+ unreachable at function sy-shakespeare-mixtral-8x2-l0-\S+ \(1 replica\) after 4 attempts \(3 retries\); last error: function error Unknown: error running docker/m;

describe('run-batch --target aws against moto', () => {
  it('deploys the plan made for the job; a function moto cannot invoke fails the job at once with the invoke error and no line written; --keep leaves the functions, otherwise nothing tagged is left', async () => {
    const kept = await runBatch('--keep');
    expect(kept.code, kept.stderr).toBe(2);
    expect(kept.stderr).toMatch(invokeFailure);
    expect(kept.stdout).toBe('');
    // (the logger's JSON line, before or after the error line: pino writes stderr asynchronously)
    expect(kept.stderr).toContain('"msg":"the job\'s functions are still deployed"');
    expect(existsSync(output) ? readFileSync(output, 'utf8') : '').toBe('');
    // Everything the job's own plan (beside its output) asks for is on moto and stays.
    const plan: DeploymentPlan = deploymentPlanSchema.parse(
      JSON.parse(readFileSync(`${output}.plan.json`, 'utf8')),
    );
    expect(plan.strategy).not.toBe('manual');
    const names = plan.layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.functionNames));
    expect(names.length).toBeGreaterThan(0);
    const onMoto = await deploymentOnMoto(clients, { model, bucket });
    expect(onMoto.functions).toEqual([...new Set(names)].sort());
    expect(onMoto.layerVersions).toHaveLength(1);
    expect(onMoto.objects).toHaveLength(plan.layers.reduce((sum, layer) => sum + layer.experts.length, 0));
    expect(onMoto.role).toBe(`switchyard-${model}`);

    // The same job again without --keep: the same plan, deployed in place, the same failure, then removed.
    const planText = readFileSync(`${output}.plan.json`, 'utf8');
    const removed = await runBatch();
    expect(removed.code, removed.stderr).toBe(2);
    expect(removed.stderr).toMatch(invokeFailure);
    expect(removed.stderr).not.toContain('still deployed');
    expect(readFileSync(`${output}.plan.json`, 'utf8')).toBe(planText);
    expect(await deploymentOnMoto(clients, { model, bucket })).toEqual({
      functions: [],
      layerVersions: [],
      objects: [],
      role: null,
    });
  }, 600_000);
});
