import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsFile } from '@switchyard/core';
import { loadModel } from '@switchyard/model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import { repoRoot, runCli } from '@switchyard/testing/cli';
import { describe, expect, it } from 'vitest';

const modelDir = join(repoRoot, 'fixtures/checkpoints/shakespeare-mixtral-8x2');

describe('switchyard generate --target local (real local Lambda runtime, real function processes)', () => {
  it('produces the in-process tokens and the reference continuation exactly', async () => {
    const reference = await readSafetensorsFile(join(modelDir, 'reference.safetensors'));
    const inputShape = reference.get('input_ids').shape;
    const generatedShape = reference.get('generated').shape;
    const promptLength = inputShape[1]!;
    const total = generatedShape[1]!;
    const prompt = [...reference.int32('input_ids').subarray(0, promptLength)];
    // The first 8 tokens of the reference continuation keep the run short: cold starts dominate here.
    const expected = [...reference.int32('generated').subarray(promptLength, total)].slice(0, 8);
    // One function per layer holding all 8 experts (packed segments): 4 cold starts instead of 32.
    const model = await loadModel(modelDir);
    const plan = createDefaultPlan(model.summary, { expertsPerFunction: 8, beta: 16, memoryMB: 1024 });
    await model.close();
    const planPath = join(mkdtempSync(join(tmpdir(), 'switchyard-plan-')), 'plan.json');
    writeFileSync(planPath, JSON.stringify(plan));
    const promptText = new TextDecoder().decode(Uint8Array.from(prompt));
    expect(new TextEncoder().encode(promptText)).toEqual(Uint8Array.from(prompt)); // ASCII prompt
    const args = [
      'generate',
      modelDir,
      '--prompt',
      promptText,
      '--greedy',
      '--max-new-tokens',
      String(expected.length),
      '--json',
    ];

    const remote = await runCli([...args, '--target', 'local', '--plan', planPath], { timeoutMs: 540_000 });
    expect(remote.stderr).not.toMatch(/error/i);
    expect(remote.code).toBe(0);
    const inProcess = await runCli(args, { timeoutMs: 120_000 });
    expect(inProcess.code).toBe(0);

    const remoteResult = JSON.parse(remote.stdout);
    expect(remoteResult.tokens).toEqual(expected);
    expect(JSON.parse(inProcess.stdout).tokens).toEqual(expected);
    // Every MoE layer went through the functions: prompt + each decode step, top-2 rows per token.
    const summary = remoteResult.scatterGather;
    expect(summary.layers.map((layer: { layer: number }) => layer.layer)).toEqual([0, 1, 2, 3]);
    expect(summary.rows).toBe(4 * 2 * (prompt.length + expected.length - 1));
    expect(summary.billedDurationMs).toBeGreaterThan(0);
  }, 600_000);
});
