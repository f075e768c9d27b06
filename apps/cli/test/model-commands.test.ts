import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSafetensors, readRoutingTrace, serializeSafetensors, type TensorInput } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../../..');
const checkpoints = join(root, 'fixtures/checkpoints');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--conditions=@switchyard/source', '--import', 'tsx', join(root, 'apps/cli/src/main.ts'), ...args],
      { cwd: root, maxBuffer: 64 << 20 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('model commands (child process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-model-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('inspect --json prints the model summary', async () => {
    const { code, stdout } = await cli(['inspect', join(checkpoints, 'tiny-qwen2-moe'), '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      architecture: 'qwen2_moe',
      numLayers: 2,
      numExperts: 8,
      topK: 2,
      numSharedExperts: 1,
      bytesPerExpert: 3 * 64 * 48 * 4,
    });
  });

  it('verify passes on tiny-mixtral and exits non-zero against a perturbed reference', async () => {
    const model = join(checkpoints, 'tiny-mixtral');
    const good = await cli(['verify', model, '--reference', join(model, 'reference.safetensors'), '--json']);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ pass: true, routingAgreement: 1, generationMatch: true });
    // Same reference with one logit moved by 0.01: must fail on logits only.
    const bytes = await readFile(join(model, 'reference.safetensors'));
    const reference = parseSafetensors(bytes);
    const tensors: Record<string, TensorInput> = {};
    for (const name of reference.names()) {
      const tensor = reference.get(name);
      tensors[name] = { dtype: tensor.dtype, shape: tensor.shape, data: Uint8Array.from(tensor.data) };
    }
    const logits = new Float32Array((tensors.logits!.data as Uint8Array).buffer);
    logits[5] = logits[5]! + 0.01;
    const perturbed = join(dir, 'perturbed.safetensors');
    await writeFile(perturbed, serializeSafetensors(tensors));
    const bad = await cli(['verify', model, '--reference', perturbed, '--json']);
    expect(bad.code).toBe(5);
    const report = JSON.parse(bad.stdout);
    expect(report.pass).toBe(false);
    expect(report.maxAbsDiffLogits).toBeGreaterThan(0.009);
    expect(bad.stderr).toMatch(/verification failed: logits differ/);
  });

  it('generate --json returns the new tokens and their text, reproducibly for a seed', async () => {
    const args = [
      'generate',
      join(checkpoints, 'shakespeare-mixtral-8x2'),
      '--prompt',
      'ROMEO:',
      '--max-new-tokens',
      '12',
      '--temperature',
      '0.8',
      '--top-p',
      '0.9',
      '--seed',
      '5',
      '--json',
    ];
    const first = await cli(args);
    const second = await cli(args);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result.tokens).toHaveLength(12);
    expect(result.text).toBe(new TextDecoder().decode(Uint8Array.from(result.tokens)));
    expect(JSON.parse(second.stdout).tokens).toEqual(result.tokens);
  });

  it('trace reproduces the fixture trace on its first held-out chunks', async () => {
    const fixture = await readRoutingTrace(
      join(root, 'fixtures/traces/shakespeare-mixtral-8x2/heldout.safetensors'),
    );
    const out = join(dir, 'trace.safetensors');
    const { code } = await cli([
      'trace',
      join(checkpoints, 'shakespeare-mixtral-8x2'),
      '--text',
      join(root, 'fixtures/data/tinyshakespeare.txt'),
      '--out',
      out,
      '--start',
      String(fixture.meta.byte_offset),
      '--length',
      '1024',
      '--chunk',
      '256',
    ]);
    expect(code).toBe(0);
    const trace = await readRoutingTrace(out);
    expect(trace.numTokens).toBe(1024);
    expect(trace.attentionIds).toHaveLength(4 * 1024);
    let same = 0;
    for (let layer = 0; layer < 4; layer++) {
      for (let i = 0; i < 1024 * 2; i++)
        if (trace.topkIds[layer * 1024 * 2 + i] === fixture.topkIds[layer * fixture.numTokens * 2 + i])
          same++;
    }
    expect(same / (4 * 1024 * 2)).toBeGreaterThanOrEqual(0.999);
    expect(Array.from(trace.tokens)).toEqual(Array.from(fixture.tokens.subarray(0, 1024)));
  });

  it('names the unsupported architecture and lists the supported ones', async () => {
    const modelDir = join(dir, 'llama');
    await mkdir(modelDir);
    await writeFile(join(modelDir, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 8 }));
    const { code, stderr } = await cli(['inspect', modelDir]);
    expect(code).toBe(4);
    expect(stderr).toMatch(
      /UNSUPPORTED_ARCHITECTURE.*"llama".*supported: mixtral, qwen2_moe, qwen3_moe, olmoe, gpt_oss, deepseek_v3.*config\.json: model_type/,
    );
  });
});
