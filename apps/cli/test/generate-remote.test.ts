import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsFile } from '@switchyard/core';
import { runCli } from '@switchyard/testing/cli';
import { describe, expect, it } from 'vitest';
import { bundledModelDir, writeBundledModelPlan } from './sample-plan.js';

describe('switchyard generate --target local (real local Lambda runtime, real function processes)', () => {
  it('produces the in-process tokens and the reference continuation exactly', async () => {
    const reference = await readSafetensorsFile(join(bundledModelDir, 'reference.safetensors'));
    const inputShape = reference.get('input_ids').shape;
    const generatedShape = reference.get('generated').shape;
    const promptLength = inputShape[1]!;
    const total = generatedShape[1]!;
    const prompt = [...reference.int32('input_ids').subarray(0, promptLength)];
    // The first 8 tokens of the reference continuation keep the run short: cold starts dominate here.
    const expected = [...reference.int32('generated').subarray(promptLength, total)].slice(0, 8);
    const planPath = await writeBundledModelPlan(mkdtempSync(join(tmpdir(), 'switchyard-plan-')), 16);
    const promptText = new TextDecoder().decode(Uint8Array.from(prompt));
    expect(new TextEncoder().encode(promptText)).toEqual(Uint8Array.from(prompt)); // ASCII prompt
    const args = [
      'generate',
      bundledModelDir,
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
