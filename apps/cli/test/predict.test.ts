import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from '@switchyard/testing/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const traces = join(repoRoot, 'fixtures/traces/shakespeare-mixtral-8x2');
let dir: string;

async function switchyard(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { timeoutMs: 120_000 });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-predict-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard predict', () => {
  it('fits on the calibration trace and scores the held-out trace', async () => {
    const out = join(dir, 'predictor.json');
    const fit = await switchyard([
      'predict',
      'fit',
      '--traces',
      `${traces}/calibration.safetensors`,
      '--out',
      out,
      '--json',
    ]);
    expect(fit.code).toBe(0);
    expect(JSON.parse(fit.stdout)).toMatchObject({
      strategy: 'default',
      tokens: 65536,
      layers: 4,
      experts: 8,
      topK: 2,
    });
    const evaluation = await switchyard([
      'predict',
      'eval',
      '--predictor',
      out,
      '--traces',
      `${traces}/heldout.safetensors`,
      '--json',
    ]);
    expect(evaluation.code).toBe(0);
    const result = JSON.parse(evaluation.stdout);
    expect(result.hitAtK).toBeGreaterThanOrEqual(0.8);
    expect(result.loadErr).toBeLessThanOrEqual(0.041);
    expect(result.intervalCoverage).toBeGreaterThan(0);
    const table = await switchyard([
      'predict',
      'eval',
      '--predictor',
      out,
      '--traces',
      `${traces}/heldout.safetensors`,
      '--batch-tokens',
      '2048',
    ]);
    expect(table.stdout).toMatch(/hitAtK\s+loadErr\s+intervalCoverage/);
    expect(table.stdout).toMatch(/54 batches of 2048/);
  }, 120_000);

  it('plans from the fitted predictor, for a batch within the trace and one larger than it', async () => {
    const predictor = join(dir, 'predictor.json');
    const plan = async (tokensPerBatch: number) => {
      const out = join(dir, `plan-${tokensPerBatch}.json`);
      const run = await switchyard([
        'plan',
        '--model',
        join(repoRoot, 'fixtures/checkpoints/shakespeare-mixtral-8x2'),
        '--traces',
        `${traces}/heldout.safetensors`,
        '--predictor',
        predictor,
        '--tokens-per-batch',
        String(tokensPerBatch),
        '--slo-ms',
        '600000',
        '--strategy',
        'ods',
        '--out',
        out,
        '--json',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return JSON.parse(await readFile(out, 'utf8')) as {
        workload: { tokensPerBatch: number };
        layers: unknown[];
        predicted: { costUsdPerBatch: number };
      };
    };
    const small = await plan(1024);
    // The held-out trace has fewer tokens than this batch: the forecast is scaled up to it.
    const large = await plan(262_144);
    expect(small.workload.tokensPerBatch).toBe(1024);
    expect(large.workload.tokensPerBatch).toBe(262_144);
    expect(small.layers).toHaveLength(4);
    expect(large.predicted.costUsdPerBatch).toBeGreaterThan(small.predicted.costUsdPerBatch * 10);
  }, 120_000);

  it('rejects an unknown predictor version and an unknown strategy with one-line errors', async () => {
    const out = join(dir, 'predictor.json');
    const file = JSON.parse(await readFile(out, 'utf8'));
    const bad = join(dir, 'future.json');
    await writeFile(bad, JSON.stringify({ ...file, version: 99 }));
    const evaluation = await switchyard([
      'predict',
      'eval',
      '--predictor',
      bad,
      '--traces',
      `${traces}/heldout.safetensors`,
    ]);
    expect(evaluation.code).toBe(6);
    expect(evaluation.stderr).toMatch(/error \[PREDICTOR_INVALID\]: unsupported predictor file version 99/);
    const strategy = await switchyard([
      'predict',
      'fit',
      '--traces',
      `${traces}/calibration.safetensors`,
      '--out',
      bad,
      '--strategy',
      'oracle',
    ]);
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toMatch(/unknown strategy "oracle"/);
  }, 120_000);
});
