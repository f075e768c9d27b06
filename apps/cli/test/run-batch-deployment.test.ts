import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { repoRoot, runCli } from '@switchyard/testing/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchJobLines, readShakespeare } from '../src/bench/batch-job.js';

/**
 * Per-job deployment: `run-batch --target local` without `--plan` plans for the job's own prompts
 * (the predictor reads them first), deploys that plan, and removes the functions after the job unless
 * `--keep`; a resumed job reuses the plan beside its output. The summary carries the baselines.
 */

const work = mkdtempSync(join(tmpdir(), 'switchyard-batch-deployment-'));
const model = join(repoRoot, 'fixtures/checkpoints/shakespeare-mixtral-8x2');
const input = join(work, 'requests.jsonl');
let runtime: LocalRuntime;
let lambda: LambdaClient;

beforeAll(async () => {
  writeFileSync(
    input,
    `${batchJobLines({ lines: 4, seed: 3, minPromptBytes: 16, maxPromptBytes: 48, chatShare: 0.5, minMaxTokens: 2, maxMaxTokens: 3 }, readShakespeare(repoRoot)).join('\n')}\n`,
  );
  runtime = await startLocalRuntime({ initTimeoutMs: 120_000 });
  lambda = new LambdaClient({
    endpoint: runtime.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 120_000);

afterAll(async () => {
  lambda?.destroy();
  await runtime?.stop();
  rmSync(work, { recursive: true, force: true });
});

const functionNames = async (): Promise<string[]> =>
  ((await lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((fn) => fn.FunctionName!);

interface Summary {
  succeeded: number;
  resumed: number;
  baselines: Array<{ name: string; usd: number; usdPerMillionTokens: number }>;
  deployment: { plan: string; planPath: string; functions: number; removed: boolean; kept: boolean } | null;
}

const runBatch = async (output: string, ...extra: string[]): Promise<Summary> => {
  const run = await runCli(
    ['run-batch', model, '-i', input, '-o', output, '--max-batch-tokens', '256', '--json', ...extra],
    { timeoutMs: 600_000 },
  );
  // (stderr may carry the runtime's warning that functions run on this process's Node.js)
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Summary;
};

describe('run-batch per-job deployment', () => {
  it('plans for the job, deploys, removes the functions after it (or keeps them), and a resumed job reuses the plan', async () => {
    const inProcess = await runBatch(join(work, 'in-process.jsonl'));
    expect(inProcess.deployment).toBeNull();
    expect(inProcess.baselines.map((baseline) => baseline.name)).toEqual(['lambdaml', 'cpu-vcpu-seconds']);
    for (const baseline of inProcess.baselines) expect(baseline.usd).toBeGreaterThan(0);

    const output = join(work, 'local.jsonl');
    const first = await runBatch(output, '--target', 'local', '--endpoint', runtime.endpoint);
    expect(first.succeeded).toBe(4);
    expect(first.deployment).toMatchObject({
      plan: 'predicted',
      planPath: `${output}.plan.json`,
      removed: true,
    });
    const plan = JSON.parse(readFileSync(`${output}.plan.json`, 'utf8')) as {
      strategy: string;
      layers: Array<{ functions: Array<{ functionNames: string[] }> }>;
    };
    // Made by the planner for this job's predicted load, not the one-per-expert default.
    expect(plan.strategy).not.toBe('manual');
    expect(first.deployment!.functions).toBeGreaterThan(0);
    expect(first.baselines.map((baseline) => baseline.name)).toEqual(['lambdaml']);
    expect(await functionNames()).toEqual([]);

    // Started again on the finished output: nothing to run, the same plan, deployed and removed again.
    const planText = readFileSync(`${output}.plan.json`, 'utf8');
    const resumed = await runBatch(output, '--target', 'local', '--endpoint', runtime.endpoint, '--keep');
    expect(resumed.resumed).toBe(4);
    expect(readFileSync(`${output}.plan.json`, 'utf8')).toBe(planText);
    expect(resumed.deployment).toMatchObject({ plan: 'predicted', removed: false, kept: true });
    const deployed = plan.layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.functionNames));
    expect((await functionNames()).sort()).toEqual([...new Set(deployed)].sort());
    expect(existsSync(`${output}.state.json`)).toBe(true);
  }, 1_800_000);
});
