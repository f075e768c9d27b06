import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { openLlamaCpp } from '@switchyard/testing/llama-cpp';
import {
  compareLogProbabilities,
  logSoftmax,
  readReferenceLogProbabilities,
} from '@switchyard/testing/log-probabilities';
import { writeSyntheticCheckpoint } from '@switchyard/testing/synthetic-checkpoint';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../checkpoint.js';
import { ModelError } from '../errors.js';
import { loadModel } from '../model.js';
import { exportGguf } from './export-gguf.js';
import { byteToUnicode, interleaveRopeRows, llamaCppArchitectures } from './llama-cpp-layout.js';

const fixtures = join(import.meta.dirname, '../../../../fixtures/checkpoints');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-gguf-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** llama.cpp's next-token log-probabilities on the reference prompts vs the transformers reference. */
async function compareWithReference(name: string) {
  const checkpointDir = join(fixtures, name);
  const path = join(dir, `${name}.gguf`);
  await exportGguf(checkpointDir, path);
  const { prompts, rows: expected, reference } = await readReferenceLogProbabilities(checkpointDir);
  const runner = await openLlamaCpp(path, {
    threads: 1,
    sequences: prompts.length,
    contextSize: 256,
    precision: 'exact',
  });
  try {
    const actual = (await runner.logProbabilities(prompts)).flat();
    return { ...compareLogProbabilities(expected, actual), runner, prompts, reference };
  } catch (error) {
    await runner.close();
    throw error;
  }
}

describe('exportGguf', () => {
  it('lays the shakespeare checkpoint out as llama.cpp names it (read back with @huggingface/gguf)', async () => {
    const path = join(dir, 'layout.gguf');
    const result = await exportGguf(join(fixtures, 'shakespeare-mixtral-8x2'), path);
    expect(result.architecture).toBe('llama');
    const parsed = await gguf(path, { allowLocalFile: true });
    const md = parsed.metadata as Record<string, unknown>;
    expect(md).toMatchObject({
      'general.architecture': 'llama',
      'general.name': 'shakespeare-mixtral-8x2',
      'general.file_type': 0,
      'llama.block_count': 4,
      'llama.embedding_length': 128,
      'llama.feed_forward_length': 256,
      'llama.attention.head_count': 4,
      'llama.attention.head_count_kv': 2,
      'llama.rope.dimension_count': 32,
      'llama.rope.freq_base': 1_000_000,
      'llama.expert_count': 8,
      'llama.expert_used_count': 2,
      'llama.vocab_size': 256,
      'llama.context_length': 512,
      'tokenizer.ggml.model': 'gpt2',
    });
    expect((md['llama.attention.layer_norm_rms_epsilon'] as number) / 1e-6).toBeCloseTo(1, 6);
    expect((md['tokenizer.ggml.tokens'] as string[]).length).toBe(256);
    const shapes = Object.fromEntries(parsed.tensorInfos.map((t) => [t.name, t.shape.map(Number)]));
    expect(Object.keys(shapes)).toHaveLength(2 + 4 * 10 + 1);
    expect(shapes).toMatchObject({
      'token_embd.weight': [128, 256],
      'output.weight': [128, 256],
      'output_norm.weight': [128],
      'blk.3.attn_q.weight': [128, 128],
      'blk.3.attn_k.weight': [128, 64],
      'blk.3.ffn_gate_inp.weight': [128, 8],
      'blk.3.ffn_gate_exps.weight': [128, 256, 8],
      'blk.3.ffn_up_exps.weight': [128, 256, 8],
      'blk.3.ffn_down_exps.weight': [256, 128, 8],
    });
    // Expert 5's w2 sits at its place inside the stacked down tensor, value for value.
    const checkpoint = await loadCheckpoint(join(fixtures, 'shakespeare-mixtral-8x2'));
    const w2 = checkpoint.float32('model.layers.2.block_sparse_moe.experts.5.w2.weight', [128, 256]);
    const info = parsed.tensorInfos.find((t) => t.name === 'blk.2.ffn_down_exps.weight')!;
    const bytes = await readFile(path);
    const start = Number(parsed.tensorDataOffset + info.offset) + 5 * 128 * 256 * 4;
    const stored = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + w2.byteLength),
    );
    expect(stored).toEqual(w2);
  });

  it('stores a BF16 checkpoint as BF16 without changing a value', async () => {
    const path = join(dir, 'bf16.gguf');
    await exportGguf(join(fixtures, 'shakespeare-mixtral-8x2'), path, { tensorType: 'BF16', name: 'bf16' });
    const parsed = await gguf(path, { allowLocalFile: true });
    expect((parsed.metadata as Record<string, unknown>)['general.file_type']).toBe(32);
    const types = Object.fromEntries(parsed.tensorInfos.map((t) => [t.name, t.dtype]));
    expect(types['blk.0.ffn_up_exps.weight']).toBe(30);
    expect(types['blk.0.attn_norm.weight']).toBe(0); // norms stay F32
    expect(types['blk.0.ffn_gate_inp.weight']).toBe(0); // and the router
    const checkpoint = await loadCheckpoint(join(fixtures, 'shakespeare-mixtral-8x2'));
    const embed = checkpoint.float32('model.embed_tokens.weight', [256, 128]);
    const info = parsed.tensorInfos.find((t) => t.name === 'token_embd.weight')!;
    const bytes = await readFile(path);
    const view = new DataView(bytes.buffer, bytes.byteOffset + Number(parsed.tensorDataOffset + info.offset));
    const widened = Float32Array.from({ length: embed.length }, (_, i) => {
      const buffer = new DataView(new ArrayBuffer(4));
      buffer.setUint32(0, view.getUint16(2 * i, true) << 16);
      return buffer.getFloat32(0);
    });
    expect(widened).toEqual(embed);
  });

  it('interleaveRopeRows is a per-head permutation taking hub row j·d/2 + i to 2i + j (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (heads, half, columns) => {
          const headDim = 2 * half;
          const rows = heads * headDim;
          const weight = Float32Array.from({ length: rows * columns }, (_, i) => i);
          const out = interleaveRopeRows(weight, heads, columns);
          for (let head = 0; head < heads; head++)
            for (let i = 0; i < half; i++)
              for (let j = 0; j < 2; j++)
                for (let c = 0; c < columns; c++)
                  expect(out[(head * headDim + 2 * i + j) * columns + c]).toBe(
                    weight[(head * headDim + j * half + i) * columns + c],
                  );
          expect([...out].sort((a, b) => a - b)).toEqual([...weight]);
        },
      ),
      { seed: 21 },
    );
  });

  it.each(['shakespeare-mixtral-8x2', 'tiny-mixtral', 'tiny-qwen2-moe', 'tiny-qwen3-moe'])(
    'llama.cpp running the exported %s matches the transformers reference (log-probabilities ≤ 1e-4, every greedy token)',
    async (name) => {
      const { maxAbsDelta, greedyAgreement, rows, runner } = await compareWithReference(name);
      try {
        expect(greedyAgreement).toBe(rows);
        expect(maxAbsDelta).toBeLessThan(1e-4);
      } finally {
        await runner.close();
      }
    },
  );

  it('llama.cpp continues the shakespeare prompts greedily exactly as transformers did, and tokenizes text into bytes', async () => {
    const { runner, prompts, reference } = await compareWithReference('shakespeare-mixtral-8x2');
    try {
      const generated = reference.int32('generated');
      const [batch, total] = reference.get('generated').shape as [number, number];
      const promptLength = prompts[0]!.length;
      await runner.reset();
      let next = await runner.step(prompts);
      const continuation: number[][] = prompts.map(() => []);
      for (let step = promptLength; step < total; step++) {
        for (const [b, token] of next.entries()) continuation[b]!.push(token);
        if (step + 1 < total) next = await runner.step(next.map((token) => [token]));
      }
      for (let b = 0; b < batch; b++)
        expect(continuation[b]).toEqual(
          Array.from(generated.subarray(b * total + promptLength, (b + 1) * total)),
        );
      const text = 'ROMEO:\nWhat light — ä?';
      expect(runner.model.tokenize(text)).toEqual([...new TextEncoder().encode(text)]);
      expect(runner.model.detokenize([...new TextEncoder().encode(text)] as never)).toBe(text);
    } finally {
      await runner.close();
    }
  });

  it('writes olmoe in llama.cpp’s olmoe layout: on a synthetic checkpoint llama.cpp agrees with Switchyard’s engine', async () => {
    const checkpointDir = join(dir, 'olmoe-synthetic');
    await writeSyntheticCheckpoint(checkpointDir, {
      modelType: 'olmoe',
      hiddenSize: 64,
      intermediateSize: 32,
      numLayers: 2,
      numExperts: 4,
      topK: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 4,
      vocabSize: 300,
      dtype: 'F32',
      seed: 21,
    });
    const path = join(dir, 'olmoe.gguf');
    expect((await exportGguf(checkpointDir, path)).architecture).toBe('olmoe');
    const prompt = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % 300);
    const model = await loadModel(checkpointDir, { threads: 1 });
    const runner = await openLlamaCpp(path, {
      threads: 1,
      sequences: 1,
      contextSize: 64,
      precision: 'exact',
    });
    try {
      const { logits } = await model.forward([{ sequence: model.createSequence(), tokens: prompt }], {
        logits: 'all',
      });
      const ours = Array.from({ length: prompt.length }, (_, t) =>
        logSoftmax(logits[0]!.subarray(t * 300, (t + 1) * 300)),
      );
      const [theirs] = await runner.logProbabilities([prompt]);
      const { maxAbsDelta, greedyAgreement } = compareLogProbabilities(ours, theirs!);
      expect(greedyAgreement).toBe(prompt.length);
      expect(maxAbsDelta).toBeLessThan(1e-4);
    } finally {
      await runner.close();
      await model.close();
    }
  });

  it('refuses what llama.cpp would compute differently, naming the field', async () => {
    const olmoe = await exportGguf(join(fixtures, 'tiny-olmoe'), join(dir, 'x.gguf')).catch(
      (e: unknown) => e,
    );
    expect(ModelError.isInstance(olmoe)).toBe(true);
    expect((olmoe as ModelError).code).toBe('UNSUPPORTED_ARCHITECTURE');
    expect((olmoe as Error).message).toMatch(/key\/value heads.*\(2 ≠ 4\).*num_key_value_heads/);
    for (const name of ['tiny-gpt-oss', 'tiny-deepseek-v3']) {
      const error = await exportGguf(join(fixtures, name), join(dir, 'x.gguf')).catch((e: unknown) => e);
      expect((error as ModelError).code).toBe('UNSUPPORTED_ARCHITECTURE');
      expect((error as Error).message).toMatch(
        new RegExp(
          `no GGUF layout for model_type .*exportable: ${Object.keys(llamaCppArchitectures).join(', ')}`,
        ),
      );
    }
    const options = await exportGguf(join(fixtures, 'tiny-mixtral'), join(dir, 'x.gguf'), {
      tensorType: 'Q4_0' as 'F32',
    }).catch((e: unknown) => e);
    expect((options as ModelError).code).toBe('INVALID_INPUT');
    expect((options as Error).message).toMatch(/tensorType/);
  });

  it('byteToUnicode gives 256 distinct printable characters, the printable Latin-1 bytes as themselves', () => {
    const table = byteToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table[65]).toBe('A');
    expect(table[32]).toBe('Ġ');
    expect(table[10]).toBe('Ċ');
    expect(table[255]).toBe('ÿ');
  });
});
