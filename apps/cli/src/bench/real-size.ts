/**
 * Real-size MoE layers end to end (issue #18): writes seeded random synthetic checkpoints with the
 * layer shapes of OLMoE-1B-7B (hidden 2048, 64 experts, intermediate 1024, top-8), Qwen3-30B-A3B
 * (2048, 128 experts, 768, top-8) and Mixtral-8x7B (4096, 8 experts, 14336, top-2) — a few decoder
 * layers each, byte-level vocabulary, BF16 weights in 1 GB shards — and runs each in float32, int8 and
 * int4, in process and on the embedded Lambda runtime (`--target local`). Each run is its own child
 * process, so its peak RSS is the orchestrator's alone; the expert functions' peak memory comes from
 * the runtime's REPORT lines. The checkpoints are scratch (not committed); the results go to
 * bench-results/real-size.json.
 *
 *   node --conditions=@switchyard/source --import tsx apps/cli/src/bench/real-size.ts \
 *     [--shapes olmoe,qwen3,mixtral] [--formats none,int8,int4] [--targets in-process,local]
 *     [--layers olmoe=2,qwen3=2,mixtral=1] [--prefill 256] [--decode 16] [--dir /tmp/switchyard-real-size]
 *     [--out bench-results/real-size.json] [--merge]   (--merge keeps the out file's rows of other
 *        (shape, format, target) runs, so the shapes can be run one after another)
 *     [--quick]   (one OLMoE layer, int8 only, 64 prefill and 4 decode tokens: checks the script runs)
 *
 * Memory first: float32 experts of one layer take 1.6 GB (OLMoE), 2.4 GB (Qwen3) and 5.6 GB (Mixtral)
 * in each process that holds them, and the in-process run and the functions each hold a copy, so the
 * default is 2, 2 and 1 layers on a 24 GB machine shared with other work.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  createRandom,
  type DeploymentPlan,
  deploymentPlanSchema,
  type ExpertQuantization,
  expertProcessEnvironment,
  lambdaLimits,
  numberToBfloat16Bits,
  serializeSafetensors,
  type TensorInput,
} from '@switchyard/core';
import { billFromReports, defaultPriceTable, resolveRates } from '@switchyard/cost-model';
import { deployPlan, LambdaExecutor, undeployPlan } from '@switchyard/lambda-executor';
import { startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, loadModel, type MoeModel } from '@switchyard/model';
import { argmax } from '@switchyard/model/internal';
import { createRemoteMoeStep } from '@switchyard/scatter-gather';
import { type MemoryMeasurement, measureFunctionMemory, ownPeakRssMB } from '../commands/profile-memory.js';
import { recordBilling } from '../demo/record-billing.js';

/** The embedded runtime's INIT limit here: a cold start of a 100+ MB expert under load takes minutes. */
const initTimeoutS = 600;

const runFile = promisify(execFile);
const root = resolve(import.meta.dirname, '../../../..');

const shapes = {
  olmoe: {
    model: 'OLMoE-1B-7B',
    hidden: 2048,
    experts: 64,
    intermediate: 1024,
    topK: 8,
    heads: 16,
    kvHeads: 16,
  },
  qwen3: {
    model: 'Qwen3-30B-A3B',
    hidden: 2048,
    experts: 128,
    intermediate: 768,
    topK: 8,
    heads: 32,
    kvHeads: 4,
  },
  mixtral: {
    model: 'Mixtral-8x7B',
    hidden: 4096,
    experts: 8,
    intermediate: 14336,
    topK: 2,
    heads: 32,
    kvHeads: 8,
  },
} as const;
type ShapeName = keyof typeof shapes;
const formats = {
  none: undefined,
  int8: { format: 'int8' },
  int4: { format: 'int4', blockSize: 32 },
} as const;
type FormatName = keyof typeof formats;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const quick = args.includes('--quick');
const scratch = resolve(option('--dir') ?? '/tmp/switchyard-real-size');

/** A mixtral-layout checkpoint (qwen3/olmoe shapes use the same tensors; routing is softmax top-k). */
function writeCheckpoint(name: ShapeName, layers: number): string {
  const shape = shapes[name];
  const dir = join(scratch, `${name}-${layers}l`);
  if (existsSync(join(dir, 'config.json'))) return dir;
  mkdirSync(dir, { recursive: true });
  const H = shape.hidden;
  const I = shape.intermediate;
  const headDim = H / shape.heads;
  const random = createRandom(18);
  // BF16 values ~ U(−a, a) with a = 1/√fan-in, so activations keep their scale through the layers.
  const bf16 = (count: number, fanIn: number): Uint8Array => {
    const scale = 1 / Math.sqrt(fanIn);
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = numberToBfloat16Bits((random() * 2 - 1) * scale);
    return new Uint8Array(out.buffer);
  };
  const ones = (count: number): Uint8Array => new Uint8Array(new Uint16Array(count).fill(0x3f80).buffer);
  const shards: Array<Record<string, TensorInput>> = [{}];
  let shardBytes = 0;
  const add = (tensorName: string, dims: number[], data: Uint8Array) => {
    if (shardBytes + data.byteLength > 1 << 30) {
      shards.push({});
      shardBytes = 0;
    }
    shards[shards.length - 1]![tensorName] = { dtype: 'BF16', shape: dims, data };
    shardBytes += data.byteLength;
  };
  const vocab = 256;
  add('model.embed_tokens.weight', [vocab, H], bf16(vocab * H, 1));
  for (let layer = 0; layer < layers; layer++) {
    const p = `model.layers.${layer}`;
    add(`${p}.input_layernorm.weight`, [H], ones(H));
    add(`${p}.post_attention_layernorm.weight`, [H], ones(H));
    add(`${p}.self_attn.q_proj.weight`, [shape.heads * headDim, H], bf16(shape.heads * headDim * H, H));
    add(`${p}.self_attn.k_proj.weight`, [shape.kvHeads * headDim, H], bf16(shape.kvHeads * headDim * H, H));
    add(`${p}.self_attn.v_proj.weight`, [shape.kvHeads * headDim, H], bf16(shape.kvHeads * headDim * H, H));
    add(`${p}.self_attn.o_proj.weight`, [H, shape.heads * headDim], bf16(H * shape.heads * headDim, H));
    add(`${p}.block_sparse_moe.gate.weight`, [shape.experts, H], bf16(shape.experts * H, H));
    for (let e = 0; e < shape.experts; e++) {
      const q = `${p}.block_sparse_moe.experts.${e}`;
      add(`${q}.w1.weight`, [I, H], bf16(I * H, H));
      add(`${q}.w3.weight`, [I, H], bf16(I * H, H));
      add(`${q}.w2.weight`, [H, I], bf16(H * I, I));
    }
  }
  add('model.norm.weight', [H], ones(H));
  add('lm_head.weight', [vocab, H], bf16(vocab * H, H));
  const weightMap: Record<string, string> = {};
  shards.forEach((tensors, index) => {
    const file = `model-${String(index + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    writeFileSync(join(dir, file), serializeSafetensors(tensors));
    for (const tensorName of Object.keys(tensors)) weightMap[tensorName] = file;
  });
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  // The layer shapes of the real model on mixtral's layout (the runtime treats the three alike).
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['MixtralForCausalLM'],
      model_type: 'mixtral',
      hidden_size: H,
      intermediate_size: I,
      num_hidden_layers: layers,
      num_attention_heads: shape.heads,
      num_key_value_heads: shape.kvHeads,
      head_dim: headDim,
      num_local_experts: shape.experts,
      num_experts_per_tok: shape.topK,
      vocab_size: vocab,
      max_position_embeddings: 4096,
      rms_norm_eps: 1e-6,
      rope_theta: 1e6,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
    }),
  );
  return dir;
}

/**
 * Functions of `perFunction` experts each, at `memoryMB` (sized from a measured function process,
 * `functionMemoryMB`).
 */
function groupedPlan(model: MoeModel, perFunction: number, memoryMB: number): DeploymentPlan {
  const s = model.summary;
  return deploymentPlanSchema.parse({
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: new Date().toISOString(),
    strategy: 'manual',
    model: {
      name: s.name.replace(/[^A-Za-z0-9]/g, '').slice(0, 20),
      fingerprint: s.fingerprint,
      architecture: s.architecture,
      hiddenSize: s.hiddenSize,
      expertIntermediateSize: s.expertIntermediateSize,
      numExperts: s.numExperts,
      topK: s.topK,
      bytesPerExpert: s.bytesPerExpert,
      quantization: s.quantization,
    },
    workload: { tokensPerBatch: 256, sloMs: 60_000 },
    priceTable: { version: defaultPriceTable.version, date: defaultPriceTable.date },
    layers: s.moeLayers.map((layer) => {
      const functions = [];
      for (let first = 0; first < s.numExperts; first += perFunction) {
        const name = `rs${layer}-${first}`;
        functions.push({
          name,
          experts: Array.from({ length: Math.min(perFunction, s.numExperts - first) }, (_, i) => first + i),
          memoryMB,
          replicas: 1,
          functionNames: [`${name}-r0`],
        });
      }
      return {
        layer,
        method: 'direct',
        beta: 4096,
        functions,
        experts: Array.from({ length: s.numExperts }, (_, expert) => ({
          expert,
          functionIndex: Math.floor(expert / perFunction),
          predictedTokens: 1,
          predictedTokensLow: 1,
          predictedTokensHigh: 1,
        })),
      };
    }),
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
  });
}

/** Runs this script again in a child process with the expert-process environment; its last stdout line as JSON. */
async function runThisScript<T>(childArgs: string[]): Promise<T> {
  const { stdout } = await runFile(process.execPath, [...process.execArgv, process.argv[1]!, ...childArgs], {
    env: { ...process.env, ...expertProcessEnvironment },
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

/**
 * The memory one expert function of `experts` experts gets: its peak RSS measured in a fresh process
 * running the expert function's own code (profile-memory.ts: the graphs in the format, one request
 * of `tokens` tokens per expert), plus 25 % headroom, in Lambda's 64 MB steps. Over Lambda's
 * 10,240 MB the run stops here with an error naming the limit (instead of functions that cannot
 * start).
 */
async function functionMemoryMB(
  dir: string,
  format: FormatName,
  experts: number,
  tokens: number,
  bytesPerExpert: number,
): Promise<{ measuredPeakRssMB: number; memoryMB: number }> {
  const { peakRssMB: measured } = await runThisScript<MemoryMeasurement>([
    '--memory-child',
    dir,
    format,
    String(experts),
    String(tokens),
    String(bytesPerExpert),
  ]);
  const memoryMB = Math.ceil((measured * 1.25) / 64) * 64;
  if (memoryMB > lambdaLimits.maxMemoryMB)
    throw new Error(
      `an expert function of ${experts} ${format} expert(s) needs ${memoryMB} MB (measured peak RSS ${measured.toFixed(0)} MB + 25 %), over Lambda's ${lambdaLimits.maxMemoryMB} MB memory limit: put fewer experts in a function or quantize`,
    );
  return { measuredPeakRssMB: measured, memoryMB };
}

/** One (shape, format, target) run inside this process; prints its JSON result as the last line. */
async function child(dir: string, format: FormatName, target: string, prefill: number, decode: number) {
  const quantization = formats[format] as ExpertQuantization | undefined;
  const loadStarted = performance.now();
  // In process every expert session is built (and quantized) up front, so the timed runs do not
  // include graph building; on the runtime the functions load theirs at INIT, before the warm-up.
  const model = await loadModel(dir, { threads: 1, quantization, eagerExperts: target !== 'local' });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const random = createRandom(5);
  const prompt = Array.from({ length: prefill }, () => Math.floor(random() * 256));
  let moeStep: ReturnType<typeof createRemoteMoeStep> | undefined;
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>> | undefined;
  let executor: ReturnType<typeof recordBilling> | undefined;
  let plan: DeploymentPlan | undefined;
  let memory: { measuredPeakRssMB: number; memoryMB: number } | undefined;
  try {
    if (target === 'local') {
      const perFunction = model.summary.numExperts >= 64 ? model.summary.numExperts / 8 : 1;
      memory = await functionMemoryMB(dir, format, perFunction, prefill, model.summary.bytesPerExpert);
      runtime = await startLocalRuntime({ port: 0, s3Port: 0, initTimeoutMs: initTimeoutS * 1000 });
      plan = groupedPlan(model, perFunction, memory.memoryMB);
      await deployPlan(plan, {
        target: 'local',
        endpoint: runtime.endpoint,
        timeoutSeconds: lambdaLimits.maxTimeoutS,
        graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
      });
      // One attempt, outliving the function's INIT and its longest invoke: a retried attempt while the
      // first one's instance is still busy (a cold start of a large expert on a loaded machine takes
      // minutes) makes the runtime start another instance of the same function, as Lambda does — the
      // default 60 s × 4 attempts piled up three ~600 MB instances per Mixtral function within three
      // minutes until memory ran out. A failure here is an error in the row, never a pile-up.
      executor = recordBilling(
        new LambdaExecutor({
          endpoint: runtime.endpoint,
          credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
          timeoutMs: (initTimeoutS + lambdaLimits.maxTimeoutS) * 1000,
          maxAttempts: 1,
        }),
      );
      moeStep = createRemoteMoeStep({ plan, executor });
      // Warm-up: every function's INIT (graph load) happens here, outside the timed run.
      const warm = model.createSequence();
      await model.forward([{ sequence: warm, tokens: prompt.slice(0, 8) }], { moeStep });
      model.releaseSequence(warm);
      executor.reset();
    } else {
      const warm = model.createSequence();
      await model.forward([{ sequence: warm, tokens: prompt.slice(0, 8) }]);
      model.releaseSequence(warm);
    }
    const sequence = model.createSequence();
    let started = performance.now();
    let { logits } = await model.forward([{ sequence, tokens: prompt }], { moeStep });
    const prefillMs = performance.now() - started;
    started = performance.now();
    for (let step = 0; step < decode; step++)
      ({ logits } = await model.forward([{ sequence, tokens: [argmax(logits[0]!)] }], { moeStep }));
    const decodeMs = performance.now() - started;
    const reports = executor?.reports ?? [];
    const bill =
      reports.length > 0 ? billFromReports(reports, resolveRates({}, defaultPriceTable)) : undefined;
    const tokens = prefill + decode;
    return {
      loadSeconds,
      prefillTokensPerS: (prefill * 1000) / prefillMs,
      decodeMsPerToken: decodeMs / decode,
      bytesPerExpert: model.summary.bytesPerExpert,
      gbSecondsPer1000Tokens: bill ? (bill.gbSeconds * 1000) / tokens : null,
      usdPer1000Tokens: bill ? (bill.totalUsd * 1000) / tokens : null,
      invocations: bill?.invocations ?? 0,
      functionMemoryMB: plan?.layers[0]?.functions[0]?.memoryMB ?? null,
      functionMeasuredPeakRssMB: memory?.measuredPeakRssMB ?? null,
      functionPeakMemoryMB: reports.length > 0 ? Math.max(...reports.map((r) => r.maxMemoryUsedMB)) : null,
      orchestratorPeakRssMB: ownPeakRssMB(),
    };
  } finally {
    if (runtime && plan)
      await undeployPlan(plan, { target: 'local', endpoint: runtime.endpoint }).catch(() => {});
    await executor?.close?.();
    await runtime?.stop();
    await model.close();
  }
}

async function main() {
  const memoryChild = args.indexOf('--memory-child');
  if (memoryChild >= 0) {
    const [dir, format, experts, tokens, bytesPerExpert] = args.slice(memoryChild + 1);
    const quantization = formats[format as FormatName] as ExpertQuantization | undefined;
    const result = await measureFunctionMemory(
      dir!,
      Number(experts),
      Number(tokens),
      quantization,
      Number(bytesPerExpert),
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const childIndex = args.indexOf('--child');
  if (childIndex >= 0) {
    const [dir, format, target, prefill, decode] = args.slice(childIndex + 1);
    const result = await child(dir!, format as FormatName, target!, Number(prefill), Number(decode));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const shapeNames = (option('--shapes') ?? (quick ? 'olmoe' : 'olmoe,qwen3,mixtral')).split(
    ',',
  ) as ShapeName[];
  const formatNames = (option('--formats') ?? (quick ? 'int8' : 'none,int8,int4')).split(',') as FormatName[];
  const targets = (option('--targets') ?? 'in-process,local').split(',');
  const layerCounts: Record<string, number> = { olmoe: quick ? 1 : 2, qwen3: 2, mixtral: 1 };
  for (const part of (option('--layers') ?? '').split(',').filter(Boolean)) {
    const [name, count] = part.split('=');
    layerCounts[name!] = Number(count);
  }
  const prefill = Number(option('--prefill') ?? (quick ? 64 : 256));
  const decode = Number(option('--decode') ?? (quick ? 4 : 16));
  process.stdout.write(
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GB total, ${(freemem() / 2 ** 30).toFixed(1)} GB free; load ${loadavg()[0]!.toFixed(1)}\n`,
  );
  const out = resolve(option('--out') ?? join(root, 'bench-results/real-size.json'));
  const previousRows =
    args.includes('--merge') && existsSync(out)
      ? (JSON.parse(readFileSync(out, 'utf8')) as { rows: Record<string, unknown>[] }).rows
      : [];
  /** Writes the out file; after every row (`complete: false` until the last), so a stopped run keeps its rows. */
  const writeResults = (complete: boolean) => {
    const key = (row: Record<string, unknown>) => `${row.shape}/${row.format}/${row.target}`;
    const ran = new Set(rows.map(key));
    const kept = previousRows.filter((row) => !ran.has(key(row)));
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          createdAt: new Date().toISOString(),
          machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GB`,
          loadAverage1m: loadavg()[0],
          quick,
          complete,
          prefillTokens: prefill,
          decodeTokens: decode,
          note: 'synthetic BF16 checkpoints with the real layer shapes (byte-level vocabulary, seeded random weights); one child process per row; function peak memory from the runtime REPORT lines',
          rows: [...kept, ...rows],
        },
        null,
        2,
      )}\n`,
    );
  };
  const rows: Record<string, unknown>[] = [];
  for (const name of shapeNames) {
    const dir = writeCheckpoint(name, layerCounts[name]!);
    for (const format of formatNames)
      for (const target of targets) {
        const started = performance.now();
        try {
          const result = await runThisScript<Record<string, unknown>>([
            '--child',
            dir,
            format,
            target,
            String(prefill),
            String(decode),
          ]);
          rows.push({
            shape: name,
            model: shapes[name].model,
            layers: layerCounts[name],
            format,
            target,
            prefillTokens: prefill,
            decodeTokens: decode,
            ...result,
            load1m: Number(loadavg()[0]!.toFixed(1)),
            wallSeconds: Math.round((performance.now() - started) / 1000),
          });
        } catch (error) {
          // The child's error line (an uncaught error ends its stderr with the error's fields and
          // the Node.js version, so the last lines alone do not say what failed).
          const lines = (error as { stderr?: string }).stderr?.trim().split('\n') ?? [];
          const stderr = [
            ...lines.filter((line) => /error|killed|heap/i.test(line)).slice(0, 3),
            ...lines.slice(-2),
          ].join(' ');
          rows.push({
            shape: name,
            model: shapes[name].model,
            layers: layerCounts[name],
            format,
            target,
            load1m: Number(loadavg()[0]!.toFixed(1)),
            wallSeconds: Math.round((performance.now() - started) / 1000),
            error: `${(error as Error).message.split('\n')[0]} ${stderr}`,
          });
        }
        writeResults(false);
        process.stdout.write(
          `${name} ${format} ${target}: ${JSON.stringify(rows.at(-1))} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
        );
      }
  }
  console.table(
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([key, value]) => [
          key,
          typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value,
        ]),
      ),
    ),
  );
  writeResults(true);
  process.stdout.write(`wrote ${out}\n`);
}

await main();
