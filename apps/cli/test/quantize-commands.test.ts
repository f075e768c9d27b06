import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentPlanSchema, weightMatrixBytes } from '@switchyard/core';
import { loadComputeProfile } from '@switchyard/cost-model';
import { runCli } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'switchyard-quantize-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const shakespeare = 'fixtures/checkpoints/shakespeare-mixtral-8x2';
const text = 'fixtures/data/tinyshakespeare.txt';
/** The held-out split: the last 10 % of tinyshakespeare. */
const heldOut = '1003854';

function expectExit(run: { code: number | null; stderr: string }, code: number, ...parts: string[]) {
  expect(run.code, run.stderr).toBe(code);
  for (const part of parts) expect(run.stderr).toContain(part);
}

describe('--quantize on the model commands (child process)', () => {
  it('eval scores every token of each window after its first; int8 and int4 stay within +1 % / +3 % bits per byte', async () => {
    const runs = await Promise.all(
      ['none', 'int8', 'int4'].map((format) =>
        runCli(
          [
            'eval',
            shakespeare,
            '--text',
            text,
            '--start',
            heldOut,
            '--length',
            '512',
            '--quantize',
            format,
            '--json',
          ],
          { timeoutMs: 120_000 },
        ),
      ),
    );
    const [fp32, int8, int4] = runs.map((run) => {
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout);
    });
    for (const result of [fp32, int8, int4]) {
      // 512 bytes in two windows of 256: the first token of each window is context only.
      expect(result).toMatchObject({ tokens: 510, windows: 2, context: 256 });
      expect(result.bitsPerToken).toBeCloseTo(result.nll / Math.LN2, 12);
      expect(result.perplexity).toBeCloseTo(Math.exp(result.nll), 12);
    }
    expect(fp32.quantization).toEqual({ format: 'none' });
    expect(int8.quantization).toEqual({ format: 'int8' });
    expect(int4.quantization).toEqual({ format: 'int4', blockSize: 32 });
    // Quantized experts change the numbers, by the bounds at most.
    expect(int8.bitsPerToken).not.toBe(fp32.bitsPerToken);
    expect(int4.bitsPerToken).not.toBe(fp32.bitsPerToken);
    expect(int8.bitsPerToken).toBeLessThanOrEqual(fp32.bitsPerToken * 1.01);
    expect(int4.bitsPerToken).toBeLessThanOrEqual(fp32.bitsPerToken * 1.03);
  }, 150_000);

  it('verify --quantize reports routing agreement and max |Δ logits| against float32', async () => {
    const run = await runCli(
      [
        'verify',
        shakespeare,
        '--quantize',
        'int8',
        '--text',
        text,
        '--start',
        heldOut,
        '--length',
        '512',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      model: 'shakespeare-mixtral-8x2',
      quantization: { format: 'int8' },
      tokens: 512,
    });
    expect(report.routingAgreement).toBeGreaterThan(0.95);
    expect(report.routingAgreement).toBeLessThanOrEqual(1);
    expect(report.expertOverlap).toBeGreaterThanOrEqual(report.routingAgreement);
    expect(report.maxAbsDiffLogits).toBeGreaterThan(0);
    expect(report.argmaxAgreement).toBeGreaterThan(0.9);
  }, 150_000);

  it('plan records the format and sizes experts in it; deploy and generate refuse another format; bad flags are named', async () => {
    const out = join(work, 'int4.json');
    const run = await runCli(
      [
        'plan',
        '--model',
        shakespeare,
        '--traces',
        'fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors',
        '--tokens-per-batch',
        '1024',
        '--slo-ms',
        '3000',
        '--strategy',
        'ods',
        '--quantize',
        'int4',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const plan = deploymentPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    const int4 = { format: 'int4', blockSize: 32 } as const;
    expect(plan.model.quantization).toEqual(int4);
    // hidden 128, intermediate 256: gate and up [256 × 128], down [128 × 256], each with its scales.
    expect(plan.model.bytesPerExpert).toBe(
      2 * weightMatrixBytes(128, 256, int4) + weightMatrixBytes(256, 128, int4),
    );
    expect(plan.model.bytesPerExpert).toBeLessThan((3 * 128 * 256 * 4) / 6);

    const [deploy, generate, start, none] = await Promise.all([
      runCli([
        'deploy',
        '--plan',
        out,
        '--quantize',
        'int8',
        '--emit',
        'sam',
        '--out-dir',
        join(work, 'sam'),
      ]),
      runCli(['generate', shakespeare, '--prompt', 'ROMEO:', '--plan', out, '--quantize', 'none']),
      runCli(['eval', shakespeare, '--text', text, '--start', '99999999']),
      runCli(['verify', shakespeare, '--quantize', 'none', '--text', text]),
    ]);
    expectExit(deploy, 2, 'made for int4 (block 32) experts', 'asks for int8', '--quantize');
    expectExit(generate, 2, 'made for int4 (block 32) experts', 'asks for none (float32)', '--quantize');
    expectExit(start, 2, '--start 99999999 is past the end of the text (1115394 bytes)');
    expectExit(none, 2, '--quantize none compares float32 with itself');
  }, 150_000);
  it("profile --quantize times that format and measures a function's peak RSS; plan follows the profile's format", async () => {
    const profilePath = join(work, 'profile-int8.json');
    const profile = await runCli(
      [
        'profile',
        '--model',
        shakespeare,
        '--out',
        profilePath,
        '--threads',
        '1',
        '--tokens',
        '16,64',
        '--held-out',
        '',
        '--processes',
        '1',
        '--experts',
        '2',
        '--rounds',
        '3',
        '--max-rounds',
        '3',
        '--memory-experts',
        '4',
        '--quantize',
        'int8',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(profile.code, profile.stderr).toBe(0);
    const written = loadComputeProfile(profilePath);
    expect(written.subject.quantization).toEqual({ format: 'int8' });
    expect(written.subject.experts).toContain('int8 SwiGLU graphs');
    // hidden 128, intermediate 256: int8 codes and one float32 scale per output channel.
    const int8Bytes =
      2 * weightMatrixBytes(128, 256, { format: 'int8' }) + weightMatrixBytes(256, 128, { format: 'int8' });
    expect(written.memory).toMatchObject({ experts: 4, tokens: 64, weightBytesPerExpert: int8Bytes });
    expect(written.memory!.peakRssMB).toBeGreaterThanOrEqual(written.memory!.peakRssOneExpertMB);
    expect(written.memory!.runtimeOverheadMB).toBeGreaterThan(0);

    const planArgs = [
      'plan',
      '--model',
      shakespeare,
      '--traces',
      'fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors',
      '--tokens-per-batch',
      '1024',
      '--slo-ms',
      '3000',
      '--strategy',
      'ods',
      '--compute-profile',
      profilePath,
    ];
    const out = join(work, 'int8.json');
    const [plan, refused] = await Promise.all([
      runCli([...planArgs, '--out', out, '--json'], { timeoutMs: 120_000 }),
      runCli([...planArgs, '--quantize', 'int4', '--out', join(work, 'never.json')], { timeoutMs: 120_000 }),
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const written8 = deploymentPlanSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(written8.model.quantization).toEqual({ format: 'int8' });
    expect(written8.model.bytesPerExpert).toBe(int8Bytes);
    expectExit(
      refused,
      2,
      `${profilePath} was made for int8 experts but --quantize asks for int4 (block 32)`,
    );
  }, 240_000);
});
