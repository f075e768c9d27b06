/**
 * Benchmarks for @switchyard/model. Prints tables and writes bench-results/model.json at the repo root.
 *   node --conditions=@switchyard/source --import tsx bench/model.ts [--quick] [--threads N]
 * 1. One expert FFN (SwiGLU graph from buildSwigluGraph, random weights) at 2048×1408 and 4096×14336
 *    for 1/64/256/1024 tokens, against one large plain MatMul measured in the same run (practical peak).
 * 2. Prefill and decode tokens/s of shakespeare-mixtral-8x2 with the share of time in expert FFNs.
 * 3. Peak RSS while loading a BF16 checkpoint (child process; synthetic mixtral checkpoint written here).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberToBfloat16Bits, serializeSafetensors, type TensorInput } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/graph-builder.js';
import { buildSwigluGraph, createExpertRunner, createRandom, loadModel, type MoeStep } from '../src/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const threadsIndex = args.indexOf('--threads');
const threads = threadsIndex >= 0 ? Number(args[threadsIndex + 1]) : 1;
const root = join(import.meta.dirname, '../../..');

function randomFloats(count: number, seed: number, scale: number): Float32Array {
  const random = createRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

async function timeRuns(run: () => Promise<unknown>, minimumMs: number, maxRuns: number): Promise<number> {
  await run(); // warm-up
  const times: number[] = [];
  const started = performance.now();
  while (times.length < maxRuns && (times.length < 2 || performance.now() - started < minimumMs)) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!; // median ms
}

async function expertBenchmark() {
  const rows: Record<string, unknown>[] = [];
  const shapes = quick
    ? [[2048, 1408]]
    : [
        [2048, 1408],
        [4096, 14336],
      ];
  for (const [H, I] of shapes as [number, number][]) {
    // Practical peak: one plain MatMul [1024, H] × [H, 3·I] (the expert's three matrices side by side),
    // re-measured next to every expert measurement so both see the same machine load.
    const peakGraph = new GraphBuilder('peak');
    const a = peakGraph.input('a', 'float', [1024, H]);
    peakGraph.output(
      peakGraph.matmul(a, peakGraph.weight('b', [H, 3 * I], randomFloats(H * 3 * I, 1, 0.02))),
      'c',
      'float',
      [1024, 3 * I],
    );
    const peakSession = await ort.InferenceSession.create(peakGraph.build(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
    const peakInput = new ort.Tensor('float32', randomFloats(1024 * H, 2, 1), [1024, H]);
    const runner = await createExpertRunner(
      buildSwigluGraph({
        hiddenSize: H,
        intermediateSize: I,
        gate: randomFloats(I * H, 3, 0.02),
        up: randomFloats(I * H, 4, 0.02),
        down: randomFloats(H * I, 5, 0.02),
      }),
      { threads },
    );
    for (const tokens of [1, 64, 256, 1024]) {
      const peakMs = await timeRuns(() => peakSession.run({ a: peakInput }), quick ? 500 : 1000, 3);
      const peakGflops = (2 * 1024 * H * 3 * I) / (peakMs * 1e6);
      const x = randomFloats(tokens * H, 6 + tokens, 1);
      const ms = await timeRuns(
        () => runner.run(x, tokens),
        quick ? 500 : 1000,
        tokens >= 256 && H >= 4096 ? 3 : 20,
      );
      const gflops = (2 * tokens * H * I * 3) / (ms * 1e6);
      rows.push({
        shape: `${H}×${I}`,
        tokens,
        ms: Number(ms.toFixed(3)),
        gflops: Number(gflops.toFixed(2)),
        peakGflops: Number(peakGflops.toFixed(2)),
        shareOfPeak: Number((gflops / peakGflops).toFixed(3)),
      });
    }
    await peakSession.release();
    await runner.close();
  }
  return rows;
}

async function shakespeareBenchmark() {
  const model = await loadModel(join(root, 'fixtures/checkpoints/shakespeare-mixtral-8x2'), {
    threads,
    eagerExperts: true,
  });
  let expertMs = 0;
  const timed: MoeStep = async (request) => {
    const t0 = performance.now();
    const out = await model.inProcessMoeStep(request);
    expertMs += performance.now() - t0;
    return out;
  };
  const text = new TextEncoder().encode(
    'ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is the sun.\n'.repeat(8),
  );
  const rows: Record<string, unknown>[] = [];
  for (const batch of [1, 8]) {
    const prompts = Array.from({ length: batch }, (_, b) => Array.from(text.subarray(b, b + 256)));
    // Prefill: 256 tokens per sequence.
    const sequences = prompts.map(() => model.createSequence());
    expertMs = 0;
    let t0 = performance.now();
    let { logits } = await model.forward(
      sequences.map((sequence, b) => ({ sequence, tokens: prompts[b]! })),
      { moeStep: timed },
    );
    const prefillMs = performance.now() - t0;
    const prefillExpertMs = expertMs;
    // Decode: 64 steps, one token per sequence per step.
    const steps = quick ? 16 : 64;
    expertMs = 0;
    t0 = performance.now();
    for (let step = 0; step < steps; step++) {
      ({ logits } = await model.forward(
        sequences.map((sequence, b) => ({ sequence, tokens: [argmax(logits[b]!)] })),
        { moeStep: timed },
      ));
    }
    const decodeMs = performance.now() - t0;
    for (const sequence of sequences) model.releaseSequence(sequence);
    rows.push({
      phase: 'prefill',
      batch,
      tokens: batch * 256,
      ms: Math.round(prefillMs),
      tokensPerSecond: Math.round((batch * 256 * 1000) / prefillMs),
      expertShare: Number((prefillExpertMs / prefillMs).toFixed(3)),
    });
    rows.push({
      phase: 'decode',
      batch,
      tokens: batch * steps,
      ms: Math.round(decodeMs),
      tokensPerSecond: Math.round((batch * steps * 1000) / decodeMs),
      expertShare: Number((expertMs / decodeMs).toFixed(3)),
    });
  }
  await model.close();
  return rows;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Writes a synthetic BF16 mixtral checkpoint and measures a child process's peak RSS while loading it. */
async function loadMemoryBenchmark() {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-bf16-'));
  const H = quick ? 256 : 512;
  const I = quick ? 704 : 1408;
  const E = 8;
  const L = 4;
  const V = 1024;
  const config = {
    model_type: 'mixtral',
    architectures: ['MixtralForCausalLM'],
    hidden_size: H,
    intermediate_size: I,
    num_hidden_layers: L,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    num_local_experts: E,
    num_experts_per_tok: 2,
    rms_norm_eps: 1e-5,
    rope_theta: 1e6,
    vocab_size: V,
    max_position_embeddings: 4096,
    tie_word_embeddings: false,
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const tensors: Record<string, TensorInput> = {};
  let parameters = 0;
  let seed = 100;
  const add = (name: string, shape: number[]) => {
    const count = shape.reduce((x, y) => x * y, 1);
    const values = randomFloats(count, seed++, 0.05);
    const bits = new Uint16Array(count);
    for (let i = 0; i < count; i++) bits[i] = numberToBfloat16Bits(values[i]!);
    tensors[name] = { dtype: 'BF16', shape, data: bits };
    parameters += count;
  };
  add('model.embed_tokens.weight', [V, H]);
  add('lm_head.weight', [V, H]);
  add('model.norm.weight', [H]);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [H]);
    add(`${p}.post_attention_layernorm.weight`, [H]);
    add(`${p}.self_attn.q_proj.weight`, [H, H]);
    add(`${p}.self_attn.k_proj.weight`, [H / 2, H]);
    add(`${p}.self_attn.v_proj.weight`, [H / 2, H]);
    add(`${p}.self_attn.o_proj.weight`, [H, H]);
    add(`${p}.block_sparse_moe.gate.weight`, [E, H]);
    for (let e = 0; e < E; e++) {
      add(`${p}.block_sparse_moe.experts.${e}.w1.weight`, [I, H]);
      add(`${p}.block_sparse_moe.experts.${e}.w3.weight`, [I, H]);
      add(`${p}.block_sparse_moe.experts.${e}.w2.weight`, [H, I]);
    }
  }
  await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
  const script = join(dir, 'load.mjs');
  await writeFile(
    script,
    `const { loadModel } = await import(${JSON.stringify(join(import.meta.dirname, '../src/index.ts'))});
const before = process.resourceUsage().maxRSS;
const model = await loadModel(${JSON.stringify(dir)}, { eagerExperts: true });
const after = process.resourceUsage().maxRSS;
await model.close();
console.log(JSON.stringify({ baselineKB: before, peakKB: after }));`,
  );
  const output = execFileSync(
    process.execPath,
    ['--conditions=@switchyard/source', '--import', 'tsx', script],
    { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' },
  );
  const { baselineKB, peakKB } = JSON.parse(output.trim().split('\n').pop()!);
  await rm(dir, { recursive: true, force: true });
  const float32MB = (parameters * 4) / 2 ** 20;
  const peakMB = peakKB / 1024;
  const limitMB = 1.5 * float32MB + 200;
  return [
    {
      parameters,
      bf16FileMB: Number(((parameters * 2) / 2 ** 20).toFixed(1)),
      float32MB: Number(float32MB.toFixed(1)),
      processBaselineMB: Number((baselineKB / 1024).toFixed(1)),
      peakRssMB: Number(peakMB.toFixed(1)),
      limitMB: Number(limitMB.toFixed(1)),
      withinLimit: peakMB <= limitMB,
    },
  ];
}

const experts = await expertBenchmark();
console.log(`\nExpert FFN vs one plain MatMul [1024,H]×[H,3I] (threads ${threads})`);
console.table(experts);
const shakespeare = await shakespeareBenchmark();
console.log(`\nshakespeare-mixtral-8x2 prefill/decode (threads ${threads})`);
console.table(shakespeare);
const memory = await loadMemoryBenchmark();
console.log('\nPeak RSS loading a BF16 checkpoint (eager expert graphs)');
console.table(memory);
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(
  join(root, 'bench-results/model.json'),
  `${JSON.stringify({ date: new Date().toISOString(), threads, quick, experts, shakespeare, memory }, null, 2)}\n`,
);
console.log(`\nwrote ${join(root, 'bench-results/model.json')}`);
