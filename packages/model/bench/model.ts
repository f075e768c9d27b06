/**
 * Benchmarks for @switchyard/model. Prints tables and writes bench-results/model.json at the repo root.
 *   node --conditions=@switchyard/source --import tsx bench/model.ts [--quick] [--threads N]
 *     [--only experts,shakespeare,memory,spinning]
 * 1. One expert FFN (SwiGLU graph from buildSwigluGraph, random weights) at 2048×1408 and 4096×14336
 *    for 1/64/256/1024 tokens, against one large plain MatMul measured in the same run (practical peak).
 * 2. Prefill and decode tokens/s of shakespeare-mixtral-8x2 with the share of time in expert FFNs.
 * 3. Peak RSS of a whole child process loading a synthetic BF16 mixtral checkpoint written here (280 MB
 *    and 558 MB as float32), with eager experts and on the default lazy path after every expert ran.
 * 4. The 32 shakespeare experts at 1 and 2 threads run round-robin in child processes with onnxruntime's
 *    default pool spinning and with this package's sessions (no spinning), alternately (bench/spinning.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRandom,
  type MoeStep,
  median,
  numberToBfloat16Bits,
  serializeSafetensors,
  type TensorInput,
} from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { swigluGraph } from '../src/expert-graph.js';
import { createSessionFromGraph, sessionOptions } from '../src/expert-runner.js';
import { GraphBuilder } from '../src/graph-builder.js';
import { createExpertRunner, loadModel } from '../src/index.js';
import { spinningBenchmark } from './spinning.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write(
    'usage: bench/model.ts [--quick] [--threads N] [--only experts,shakespeare,memory,spinning]\n' +
      '  writes bench-results/model.json (a partial run updates only its own sections)\n',
  );
  process.exit(0);
}
const quick = args.includes('--quick');
const threadsIndex = args.indexOf('--threads');
const threads = threadsIndex >= 0 ? Number(args[threadsIndex + 1]) : 1;
const onlyIndex = args.indexOf('--only');
const onlyParts = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '').split(',') : [];
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
  return median(times);
}

/** Times two runs alternately (each call of one followed by one of the other); median ms of each. */
async function timeAlternately(
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
  minimumMs: number,
  maxRuns: number,
): Promise<[number, number]> {
  await first(); // warm-up
  await second();
  const times: [number[], number[]] = [[], []];
  const started = performance.now();
  while (times[0].length < maxRuns && (times[0].length < 2 || performance.now() - started < minimumMs)) {
    for (const [index, run] of [first, second].entries()) {
      const t0 = performance.now();
      await run();
      times[index]!.push(performance.now() - t0);
    }
  }
  return [median(times[0]), median(times[1])];
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
    const peakSession = await ort.InferenceSession.create(peakGraph.build(), sessionOptions(threads));
    const peakInput = new ort.Tensor('float32', randomFloats(1024 * H, 2, 1), [1024, H]);
    const expert = swigluGraph({
      hiddenSize: H,
      intermediateSize: I,
      gate: randomFloats(I * H, 3, 0.02),
      up: randomFloats(I * H, 4, 0.02),
      down: randomFloats(H * I, 5, 0.02),
    });
    // The expert function's way (ONNX bytes, `createExpertRunner`) and the in-process model's way
    // (external-data file, `createSessionFromGraph`), timed alternately: same session options, so
    // the same kernels and bits; this shows the loading path costs no speed.
    const runner = await createExpertRunner(expert.build(), { threads });
    const inProcessSession = await createSessionFromGraph(expert, threads, 'bench expert');
    const runInProcess = (x: Float32Array, n: number) =>
      inProcessSession.run({ hidden_states: new ort.Tensor('float32', x, [n, H]) });
    for (const tokens of [1, 64, 256, 1024]) {
      const peakMs = await timeRuns(() => peakSession.run({ a: peakInput }), quick ? 500 : 1000, 3);
      const peakGflops = (2 * 1024 * H * 3 * I) / (peakMs * 1e6);
      const x = randomFloats(tokens * H, 6 + tokens, 1);
      const [ms, inProcessMs] = await timeAlternately(
        () => runner.run(x, tokens),
        () => runInProcess(x, tokens),
        quick ? 500 : 1000,
        tokens >= 256 && H >= 4096 ? 3 : 20,
      );
      const gflops = (2 * tokens * H * I * 3) / (ms * 1e6);
      const inProcessGflops = (2 * tokens * H * I * 3) / (inProcessMs * 1e6);
      rows.push({
        shape: `${H}×${I}`,
        tokens,
        ms: Number(ms.toFixed(3)),
        gflops: Number(gflops.toFixed(2)),
        peakGflops: Number(peakGflops.toFixed(2)),
        shareOfPeak: Number((gflops / peakGflops).toFixed(3)),
        inProcessGflops: Number(inProcessGflops.toFixed(2)),
        inProcessShareOfPeak: Number((inProcessGflops / peakGflops).toFixed(3)),
        load1m: Number(loadavg()[0]!.toFixed(1)),
      });
    }
    await peakSession.release();
    await runner.close();
    await inProcessSession.release();
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

interface CheckpointShape {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
}

/** Writes a synthetic BF16 mixtral checkpoint (8 experts, top-2) and returns its parameter count. */
async function writeBf16Checkpoint(dir: string, shape: CheckpointShape): Promise<number> {
  const { hiddenSize: H, intermediateSize: I, numLayers: L } = shape;
  const E = 8;
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
    const random = createRandom(seed++);
    const bits = new Uint16Array(count);
    for (let i = 0; i < count; i++) bits[i] = numberToBfloat16Bits((random() * 2 - 1) * 0.05);
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
  return parameters;
}

/**
 * The child process that loads the checkpoint. Peak RSS is the kernel's high-water mark of the child's
 * own address space (VmHWM in /proc/self/status): `process.resourceUsage().maxRSS` (getrusage) is not
 * usable here because Linux carries the parent's high-water mark over fork + exec, which is what
 * made the old "baseline" of 360–489 MB. Phases are sampled from the model's debug log lines.
 */
const childScript = (modelIndex: string, dir: string, mode: 'eager' | 'lazy') => `
import { readFileSync } from 'node:fs';
const { loadModel } = await import(${JSON.stringify(modelIndex)});
const memory = () => {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key) => Number(new RegExp(key + ':\\\\s+(\\\\d+)').exec(status)[1]);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024, source: 'VmHWM' };
  } catch {
    return { rssMB: process.memoryUsage().rss / 2 ** 20, peakMB: process.resourceUsage().maxRSS / 1024, source: 'maxRSS' };
  }
};
const phases = [];
const mark = (phase) => phases.push({ phase, ...memory() });
mark('before loadModel (node, tsx, onnxruntime, @switchyard/model imported)');
let lastLayer = -1;
const logger = {
  debug(message, fields) {
    if (message === 'checkpoint headers read') mark('checkpoint headers read');
    if (message === 'graph loaded' && fields.graph === 'head graph') mark('dense graphs loaded (embedding, layers, head)');
    const expert = /^layer (\\d+) expert (\\d+) graph$/.exec(fields?.graph ?? '');
    if (message === 'graph loaded' && expert && Number(expert[2]) === 7) mark('experts of layer ' + expert[1] + ' loaded');
  },
  warn() {},
  error() {},
};
const started = performance.now();
const model = await loadModel(${JSON.stringify(dir)}, { eagerExperts: ${mode === 'eager'}, logger });
const loadMs = performance.now() - started;
mark('loadModel returned');
const { config } = model;
const sequence = model.createSequence();
await model.forward([{ sequence, tokens: Array.from({ length: 64 }, (_, i) => (i * 37) % config.vocabSize) }]);
mark('forward over 64 tokens');
for (const layer of config.moeLayers)
  for (let e = 0; e < config.numExperts; e++)
    await model.runExpert(layer, e, new Float32Array(config.hiddenSize), 1);
mark('every expert run once');
await model.close();
console.log(JSON.stringify({ loadMs, phases }));
`;

/** Peak RSS of a child process loading a BF16 checkpoint: eager experts, and the default lazy path. */
async function loadMemoryBenchmark() {
  const shapes: (CheckpointShape & { label: string })[] = quick
    ? [{ label: 'quick', hiddenSize: 256, intermediateSize: 704, numLayers: 4 }]
    : [
        { label: 'standard', hiddenSize: 512, intermediateSize: 1408, numLayers: 4 },
        { label: 'large', hiddenSize: 1024, intermediateSize: 2816, numLayers: 2 },
      ];
  const rows: Record<string, unknown>[] = [];
  const phaseRows: Record<string, unknown>[] = [];
  for (const shape of shapes) {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-bf16-'));
    try {
      const parameters = await writeBf16Checkpoint(dir, shape);
      const float32MB = (parameters * 4) / 2 ** 20;
      const limitMB = 1.5 * float32MB + 200;
      for (const mode of ['eager', 'lazy'] as const) {
        const script = join(dir, `load-${mode}.mjs`);
        await writeFile(script, childScript(join(import.meta.dirname, '../src/index.ts'), dir, mode));
        const output = execFileSync(
          process.execPath,
          ['--conditions=@switchyard/source', '--import', 'tsx', script],
          { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', maxBuffer: 1 << 24 },
        );
        const { loadMs, phases } = JSON.parse(output.trim().split('\n').pop()!) as {
          loadMs: number;
          phases: { phase: string; rssMB: number; peakMB: number; source: string }[];
        };
        const peakMB = Math.max(...phases.map((p) => p.peakMB));
        rows.push({
          checkpoint: `${shape.label} ${shape.hiddenSize}×${shape.intermediateSize}×${shape.numLayers}L`,
          experts: mode === 'eager' ? 'eagerExperts: true' : 'default (lazy), then every expert run',
          parameters,
          bf16FileMB: round1((parameters * 2) / 2 ** 20),
          float32MB: round1(float32MB),
          limitMB: round1(limitMB),
          baselineRssMB: round1(phases[0]!.rssMB),
          peakRssMB: round1(peakMB),
          peakOverFloat32: Number((peakMB / float32MB).toFixed(2)),
          withinLimit: peakMB <= limitMB,
          loadMs: Math.round(loadMs),
          load1m: Number(loadavg()[0]!.toFixed(1)),
          peakSource: phases[0]!.source,
        });
        for (const p of phases)
          phaseRows.push({
            checkpoint: shape.label,
            experts: mode,
            phase: p.phase,
            rssMB: round1(p.rssMB),
            peakRssMB: round1(p.peakMB),
          });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { rows, phases: phaseRows };
}

function round1(value: number): number {
  return Number(value.toFixed(1));
}

const only = (part: string) => onlyParts.length === 0 || onlyParts.includes(part);
const results: Record<string, unknown> = {};
if (only('experts')) {
  const experts = await expertBenchmark();
  console.log(`\nExpert FFN vs one plain MatMul [1024,H]×[H,3I] (threads ${threads})`);
  console.table(experts);
  results.experts = experts;
}
if (only('shakespeare')) {
  const shakespeare = await shakespeareBenchmark();
  console.log(`\nshakespeare-mixtral-8x2 prefill/decode (threads ${threads})`);
  console.table(shakespeare);
  results.shakespeare = shakespeare;
}
if (only('memory')) {
  const memory = await loadMemoryBenchmark();
  console.log('\nPeak RSS of a whole process loading a BF16 checkpoint (limit 1.5 × float32 size + 200 MB)');
  console.table(memory.rows);
  console.log('\nRSS by phase (peak = high-water mark so far)');
  console.table(memory.phases);
  results.memory = memory.rows;
  results.memoryPhases = memory.phases;
}
if (only('spinning')) {
  const spinning = await spinningBenchmark({ pairs: quick ? 1 : 3, rounds: quick ? 10 : 30 });
  console.log(
    `\nonnxruntime pool spinning, 32 experts × {1, 2} threads round-robin, ${spinning.pairs} child pair(s) run alternately, ${spinning.callsPerCellPerChild} calls per cell per child (medians over children)`,
  );
  console.table(spinning.rows);
  console.log(
    `whole workload: wall ${spinning.wallMs.off} ms without spinning, ${spinning.wallMs.on} ms with (${spinning.wallMs.ratioOnOverOff}×); CPU ${spinning.cpuMs.off} vs ${spinning.cpuMs.on} ms (${spinning.cpuMs.ratioOnOverOff}×)`,
  );
  results.spinning = spinning;
}
mkdirSync(join(root, 'bench-results'), { recursive: true });
// A partial run (--only) updates its own sections and keeps the others from the last full run.
const resultPath = join(root, 'bench-results/model.json');
const previous = existsSync(resultPath)
  ? (JSON.parse(readFileSync(resultPath, 'utf8')) as Record<string, unknown>)
  : {};
writeFileSync(
  resultPath,
  `${JSON.stringify({ ...previous, date: new Date().toISOString(), threads, quick, load1m: loadavg()[0], ...results }, null, 2)}\n`,
);
console.log(`\nwrote ${resultPath}`);
