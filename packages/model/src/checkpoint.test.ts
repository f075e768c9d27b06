import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, SwitchyardError, serializeSafetensors, type TensorInput } from '@switchyard/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planAttentionGroups } from './attention-groups.js';
import { loadCheckpoint } from './checkpoint.js';
import { parseModelConfig } from './config.js';
import { buildExpertGraph } from './expert-graph.js';
import { loadModel } from './model.js';

const fixture = join(import.meta.dirname, '../../../fixtures/checkpoints/tiny-mixtral');

async function tensorsOf(path: string): Promise<Record<string, TensorInput>> {
  const file = parseSafetensors(await readFile(path));
  const tensors: Record<string, TensorInput> = {};
  for (const name of file.names()) {
    const tensor = file.get(name);
    tensors[name] = { dtype: tensor.dtype, shape: tensor.shape, data: Uint8Array.from(tensor.data) };
  }
  return tensors;
}

async function expectModelError(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(SwitchyardError.isInstance(error), `expected a SwitchyardError, got ${String(error)}`).toBe(true);
  expect((error as SwitchyardError).code).toBe(code);
  expect((error as Error).message).toMatch(pattern);
}

describe('checkpoint loading', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'switchyard-checkpoint-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function variant(
    name: string,
    edit: (tensors: Record<string, TensorInput>, config: Record<string, unknown>) => void,
  ): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir);
    const tensors = await tensorsOf(join(fixture, 'model.safetensors'));
    const config = JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8'));
    edit(tensors, config);
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  }

  it('loads a sharded checkpoint (model.safetensors.index.json) with the same results as one file', async () => {
    const dir = join(work, 'sharded');
    await mkdir(dir);
    const tensors = await tensorsOf(join(fixture, 'model.safetensors'));
    const names = Object.keys(tensors);
    const shards = [names.slice(0, names.length / 2), names.slice(names.length / 2)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(
        join(dir, file),
        serializeSafetensors(Object.fromEntries(shard.map((n) => [n, tensors[n]!]))),
      );
      for (const n of shard) weightMap[n] = file;
    }
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    await copyFile(join(fixture, 'config.json'), join(dir, 'config.json'));
    const sharded = await loadModel(dir);
    const single = await loadModel(fixture);
    const prompt = [1, 2, 3, 4, 5];
    const [a] = await sharded.generate([prompt], { maxNewTokens: 6, greedy: true });
    const [b] = await single.generate([prompt], { maxNewTokens: 6, greedy: true });
    expect(a!.tokens).toEqual(b!.tokens);
    expect(buildExpertGraph(sharded, 1, 3)).toEqual(buildExpertGraph(single, 1, 3));
    expect(sharded.summary.parameters).toEqual(single.summary.parameters);
    await sharded.close();
    await single.close();
  });

  it('names the file and tensor of a missing tensor', async () => {
    const dir = await variant('missing', (tensors) => {
      delete tensors['model.layers.1.self_attn.k_proj.weight'];
    });
    await expectModelError(
      loadModel(dir),
      'MODEL_LOAD_FAILED',
      /model\.safetensors: tensor model\.layers\.1\.self_attn\.k_proj\.weight/,
    );
  });

  it('names the tensor and both shapes of a mis-shaped tensor', async () => {
    const dir = await variant('misshaped', (tensors) => {
      tensors['model.norm.weight'] = { dtype: 'F32', shape: [32], data: new Float32Array(32) };
    });
    await expectModelError(
      loadModel(dir),
      'MODEL_LOAD_FAILED',
      /has shape \[32\], expected \[64\].*tensor model\.norm\.weight/,
    );
  });

  it('rejects non-float weights', async () => {
    const dir = await variant('int-weights', (tensors) => {
      tensors['model.norm.weight'] = { dtype: 'I32', shape: [64], data: new Int32Array(64) };
    });
    await expectModelError(
      loadModel(dir),
      'MODEL_LOAD_FAILED',
      /dtype I32; weights must be F32, BF16, F16, F8_E4M3, F8_E5M2.*model\.norm\.weight/,
    );
  });

  it('names the config field that is missing or wrong', async () => {
    const dir = await variant('bad-config', (_, config) => {
      delete config.num_local_experts;
    });
    await expectModelError(loadCheckpoint(dir), 'INVALID_CONFIG', /config\.json: num_local_experts/);
    expect(() => parseModelConfig({ ...JSON.parse('{"model_type":"mixtral"}'), hidden_size: -1 })).toThrow(
      /hidden_size/,
    );
    expect(() =>
      parseModelConfig({
        model_type: 'mixtral',
        hidden_size: 64,
        num_hidden_layers: 1,
        vocab_size: 8,
        num_attention_heads: 4,
        num_key_value_heads: 3,
        rms_norm_eps: 1e-6,
        num_experts_per_tok: 2,
        num_local_experts: 4,
        intermediate_size: 8,
        rope_theta: 1e4,
      }),
    ).toThrow(/not a multiple of num_key_value_heads/);
    expect(() =>
      parseModelConfig({
        model_type: 'mixtral',
        hidden_size: 64,
        num_hidden_layers: 1,
        vocab_size: 8,
        num_attention_heads: 4,
        rms_norm_eps: 1e-6,
        num_experts_per_tok: 2,
        num_local_experts: 4,
        intermediate_size: 8,
        rope_parameters: { rope_theta: 1e4, rope_type: 'dynamic' },
      }),
    ).toThrow(/rope_type "dynamic" is not supported/);
  });

  it('lists the supported architectures for an unknown model_type', () => {
    expect(() => parseModelConfig({ model_type: 'llama' }, 'x/config.json')).toThrow(
      /"llama" is not supported; supported: mixtral, qwen2_moe, qwen3_moe, olmoe, gpt_oss, deepseek_v3 \(at x\/config\.json: model_type\)/,
    );
  });

  it('reports a truncated weights file with its path', async () => {
    const dir = join(work, 'truncated');
    await mkdir(dir);
    await copyFile(join(fixture, 'config.json'), join(dir, 'config.json'));
    const bytes = await readFile(join(fixture, 'model.safetensors'));
    await writeFile(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    await expectModelError(
      loadCheckpoint(dir),
      'MODEL_LOAD_FAILED',
      /truncated.*truncated[/\\]model\.safetensors/,
    );
  });

  it('reads each tensor from disk when asked, equal to decoding the whole file (F32 and BF16)', async () => {
    for (const name of ['tiny-mixtral', 'shakespeare-mixtral-8x2']) {
      const source = join(fixture, '..', name);
      const dir = join(work, `on-demand-${name}`);
      await mkdir(dir);
      await copyFile(join(source, 'config.json'), join(dir, 'config.json'));
      await copyFile(join(source, 'model.safetensors'), join(dir, 'model.safetensors'));
      const whole = parseSafetensors(await readFile(join(dir, 'model.safetensors')));
      const checkpoint = await loadCheckpoint(dir);
      for (const tensor of whole.names()) {
        const { shape } = whole.get(tensor);
        const read = checkpoint.float32(tensor, shape);
        const decoded = whole.float32(tensor);
        expect(
          Buffer.from(read.buffer, read.byteOffset, read.byteLength).equals(Buffer.from(decoded.buffer)),
        ).toBe(true);
      }
      // Tensors are not held in memory: a file cut short after loading is reported when read.
      const bytes = await readFile(join(dir, 'model.safetensors'));
      await writeFile(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 64));
      const last = whole
        .names()
        .sort((a, b) => whole.get(b).data.byteOffset - whole.get(a).data.byteOffset)[0]!;
      expect(() => checkpoint.float32(last, whole.get(last).shape)).toThrow(
        /file ended at byte .*on-demand-.*model\.safetensors/,
      );
    }
  });

  it('never throws anything but a SwitchyardError on a damaged weights file, at load or when reading', async () => {
    const dir = join(work, 'damaged');
    await mkdir(dir);
    await copyFile(join(fixture, 'config.json'), join(dir, 'config.json'));
    const original = await readFile(join(fixture, 'model.safetensors'));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: original.length }),
        fc.array(fc.record({ at: fc.nat({ max: 4096 }), value: fc.nat({ max: 255 }) }), { maxLength: 8 }),
        async (length, edits) => {
          const bytes = Uint8Array.from(original.subarray(0, length));
          for (const { at, value } of edits) if (at < bytes.length) bytes[at] = value;
          await writeFile(join(dir, 'model.safetensors'), bytes);
          try {
            const checkpoint = await loadCheckpoint(dir);
            for (const file of checkpoint.files)
              for (const entry of file.entries.values()) checkpoint.float32(entry.name, entry.shape);
          } catch (error) {
            expect(SwitchyardError.isInstance(error), String(error)).toBe(true);
          }
        },
      ),
      { seed: 11, numRuns: 60 },
    );
  });

  it('never throws anything but a SwitchyardError on arbitrary index and config JSON', async () => {
    const dir = join(work, 'fuzz');
    await mkdir(dir);
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (index, config) => {
        await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: index }));
        await writeFile(join(dir, 'config.json'), JSON.stringify(config));
        const error = await loadCheckpoint(dir).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(SwitchyardError.isInstance(error)).toBe(true);
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});

describe('planAttentionGroups', () => {
  it('packs consecutive inputs while the mask is small and covers every input once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ newTokens: fc.integer({ min: 1, max: 600 }), past: fc.integer({ min: 0, max: 600 }) }),
          { maxLength: 20 },
        ),
        (inputs) => {
          const groups = planAttentionGroups(inputs, 1 << 14);
          let next = 0;
          for (const group of groups) {
            expect(group.first).toBe(next);
            expect(group.end).toBeGreaterThan(group.first);
            const members = inputs.slice(group.first, group.end);
            const rows = members.reduce((sum, m) => sum + m.newTokens, 0);
            const columns = members.reduce((sum, m) => sum + m.newTokens + m.past, 0);
            if (members.length > 1) expect(rows * columns).toBeLessThanOrEqual(1 << 14);
            next = group.end;
          }
          expect(next).toBe(inputs.length);
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });
});
