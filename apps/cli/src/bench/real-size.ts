/**
 * Real-size MoE layers end to end (issue #18): writes seeded random synthetic checkpoints with the
 * layer shapes of OLMoE-1B-7B (hidden 2048, 64 experts, intermediate 1024, top-8), Qwen3-30B-A3B
 * (2048, 128 experts, 768, top-8) and Mixtral-8x7B (4096, 8 experts, 14336, top-2) — a few decoder
 * layers each, byte-level vocabulary, BF16 weights in 1 GB shards — and runs each in float32, int8 and
 * int4, in process and on the embedded Lambda runtime (`--target local`). Each run is its own child
 * process, so its peak RSS is the orchestrator's alone (the graphs are built and deployed by a
 * further child that exits before the run, as a deployment is not the orchestrator's work); the
 * expert functions' peak memory comes from the runtime's REPORT lines. A function whose graphs are
 * over Lambda's 250 MB code limit (float32 of Qwen3's 16-expert functions and of Mixtral's experts)
 * gets them from S3 at INIT, as on AWS: a moto server holds them (`deployPlan` with a weights bucket
 * and `s3Endpoint`, the runtime's `functionS3Endpoint`). The checkpoints are scratch (not committed);
 * the results go to bench-results/real-size.json and a table of them to bench-results/real-size.md.
 *
 *   node --conditions=@switchyard/source --import tsx apps/cli/src/bench/real-size.ts \
 *     [--shapes olmoe,qwen3,mixtral] [--formats none,int8,int4] [--targets in-process,local]
 *     [--layers olmoe=1,qwen3=1,mixtral=1] [--prefill 128] [--decode 8] [--dir /tmp/switchyard-real-size]
 *     [--repeats 3]   (timed runs of the same prompt per row after the warm-up: median and worst)
 *     [--max-total-gb 12]   (a row whose processes — orchestrator, functions, moto — hold more RSS
 *        together is stopped, all of them killed, and recorded as failed)
 *     [--markdown-only]   (rewrite the .md from the out file's rows; runs nothing)
 *     [--out bench-results/real-size.json] [--merge]   (--merge keeps the out file's rows of other
 *        (shape, format, target) runs, so the shapes can be run one after another)
 *     [--quick]   (one OLMoE layer, int8 only, 32 prefill and 4 decode tokens: checks the script runs)
 *
 * Memory first: float32 experts of one layer take 1.6 GB (OLMoE), 2.4 GB (Qwen3) and 5.6 GB (Mixtral)
 * in each process that holds them, and the in-process run and the functions each hold a copy; a
 * Mixtral float32 function peaks at ~1.7 GB while it loads its 704 MB expert, so one Mixtral layer's
 * eight functions alone come near the 12 GB a run may take on this 24 GB machine shared with other
 * work. The default is one layer per shape.
 */
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  createRandom,
  type DeploymentPlan,
  deploymentPlanSchema,
  type ExpertQuantization,
  expertProcessEnvironment,
  lambdaLimits,
  median,
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
import { type MotoServer, motoCredentials, startMotoServer } from '@switchyard/testing/moto';
import { type MemoryMeasurement, measureFunctionMemory, ownPeakRssMB } from '../commands/profile-memory.js';
import { recordBilling } from '../demo/record-billing.js';

/** The embedded runtime's INIT limit here: a cold start of a 100+ MB expert under load takes minutes. */
const initTimeoutS = 600;
/**
 * Idle instances live this long (Lambda keeps them for minutes; the runtime's default 60 s would
 * reclaim a function that a slow decode does not route to for a minute, and the timed run would pay
 * its cold start again).
 */
const idleTimeoutMs = 900_000;
/** The weights bucket in moto for graphs over the code limit. */
const weightsBucket = 'switchyard-real-size';

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

/** The RSS (MB) of `root` and every process below it, and how many there are (from /proc). */
function treeRss(root: number): { rssMB: number; processes: number; pids: number[] } {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after its last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process ended meanwhile.
    }
  }
  const pids: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    pids.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  let rssKB = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rssKB += Number(match?.[1] ?? 0);
    } catch {
      // Ended meanwhile.
    }
  }
  return { rssMB: rssKB / 1024, processes: pids.length, pids };
}

/**
 * Runs one row in a child process (its own process group), sampling every second the RSS of the
 * child and everything it started (functions, moto, its own children). Over `maxTotalMB` the row is
 * stopped: every process of it is killed and the error says how much they held.
 */
function runRow(
  childArgs: string[],
  maxTotalMB: number,
): Promise<{ result: Record<string, unknown>; peakTotalRssMB: number; peakProcesses: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...childArgs], {
      env: { ...process.env, ...expertProcessEnvironment },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
    });
    let peakTotalRssMB = 0;
    let peakProcesses = 0;
    let stopped: string | undefined;
    const sampler = setInterval(() => {
      if (child.pid === undefined) return;
      const tree = treeRss(child.pid);
      peakTotalRssMB = Math.max(peakTotalRssMB, tree.rssMB);
      peakProcesses = Math.max(peakProcesses, tree.processes);
      if (tree.rssMB > maxTotalMB && stopped === undefined) {
        stopped = `stopped: the run's ${tree.processes} processes held ${tree.rssMB.toFixed(0)} MB RSS together, over --max-total-gb ${maxTotalMB / 1024}`;
        for (const pid of tree.pids.reverse()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Ended meanwhile.
          }
        }
      }
    }, 1000);
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      // Whatever the row left behind in its group (none when it ended cleanly).
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is empty.
      }
      if (code === 0 && stopped === undefined) {
        resolvePromise({
          result: JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>,
          peakTotalRssMB,
          peakProcesses,
        });
        return;
      }
      const error = new Error(stopped ?? `the row's process exited with ${signal ?? `code ${code}`}`);
      Object.assign(error, { stderr, peakTotalRssMB, peakProcesses });
      reject(error);
    });
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
 * of `tokens` tokens per expert), plus the graphs' bytes when the function fetches them from S3 (it
 * holds them beside its sessions: Qwen3's float32 functions, sized without them, ran out of memory
 * at INIT), plus 25 % headroom, in Lambda's 64 MB steps. Over Lambda's
 * 10,240 MB the run stops here with an error naming the limit (instead of functions that cannot
 * start).
 */
async function functionMemoryMB(
  dir: string,
  format: FormatName,
  experts: number,
  tokens: number,
  bytesPerExpert: number,
  fetchedBytes: number,
): Promise<{ measuredPeakRssMB: number; memoryMB: number }> {
  const { peakRssMB: measured } = await runThisScript<MemoryMeasurement>([
    '--memory-child',
    dir,
    format,
    String(experts),
    String(tokens),
    String(bytesPerExpert),
  ]);
  const memoryMB = Math.ceil(((measured + fetchedBytes / 2 ** 20) * 1.25) / 64) * 64;
  if (memoryMB > lambdaLimits.maxMemoryMB)
    throw new Error(
      `an expert function of ${experts} ${format} expert(s) needs ${memoryMB} MB (measured peak RSS ${measured.toFixed(0)} MB + 25 %), over Lambda's ${lambdaLimits.maxMemoryMB} MB memory limit: put fewer experts in a function or quantize`,
    );
  return { measuredPeakRssMB: measured, memoryMB };
}

const fixed = (value: unknown, digits: number) =>
  typeof value === 'number'
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';

/** `median (worst)` of a row's figure, or the figure alone for a row of one run. */
const withWorst = (row: Record<string, unknown>, key: string, digits: number) =>
  row[`${key}Worst`] == null || row.repeats === 1
    ? fixed(row[key], digits)
    : `${fixed(row[key], digits)} (${fixed(row[`${key}Worst`], digits)})`;

/** The .md beside the JSON: the rows as one table, the failed cells and why, how to regenerate. */
function realSizeMarkdown(rows: Record<string, unknown>[], out: string): string {
  const tokenCounts = [...new Set(rows.map((row) => `${row.prefillTokens} + ${row.decodeTokens}`))];
  const loads = rows.map((row) => row.load1m as number).filter((load) => typeof load === 'number');
  const failed = rows.filter((row) => typeof row.error === 'string');
  const file = out.replace(`${root}/`, '');
  return [
    '# Real-size MoE layers end to end (float32, int8, int4; in process and on the embedded Lambda runtime)',
    '',
    `Written by \`apps/cli/src/bench/real-size.ts\` (${file} beside this file) on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GB. Synthetic checkpoints with the real layer shapes (seeded random BF16 weights, byte-level vocabulary of 256), mixtral layout, one child process per row (cell); after the warm-up each row times the same prompt ${rows.find((row) => typeof row.repeats === 'number')?.repeats ?? 1} times: figures are the median (worst) of those runs.`,
    `Every row: ${tokenCounts.join(' / ')} prefill + decode tokens${tokenCounts.length > 1 ? ' (NOT the same in every row: rows of different token counts are not comparable)' : ''}, 1-min load ${loads.length > 0 ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : '—'} at the end of the rows (column "load").`,
    '',
    '| model | layers | format | target | graphs | prefill tokens/s | decode ms/token | GB-s / 1,000 tokens | $ / 1,000 tokens | orchestrator peak RSS MB | one function: peak MB (REPORT) / memory MB | all processes peak RSS MB | load | wall s |',
    '|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) =>
      row.error
        ? `| ${row.model} | ${row.layers} | ${row.format === 'none' ? 'float32' : row.format} | ${row.target} | — | failed (below) | | | | | | ${fixed(row.runPeakTotalRssMB, 0)} | ${fixed(row.load1m, 1)} | ${row.wallSeconds} |`
        : `| ${row.model} | ${row.layers} | ${row.format === 'none' ? 'float32' : row.format} | ${row.target} | ${row.graphsIn ?? (row.target === 'local' ? 'code' : 'in process')} | ${withWorst(row, 'prefillTokensPerS', 1)} | ${withWorst(row, 'decodeMsPerToken', 0)} | ${withWorst(row, 'gbSecondsPer1000Tokens', 1)} | ${withWorst(row, 'usdPer1000Tokens', 5)} | ${fixed(row.orchestratorPeakRssMB, 0)} | ${row.functionPeakMemoryMB == null ? '—' : `${row.functionPeakMemoryMB} / ${row.functionMemoryMB}`} | ${fixed(row.runPeakTotalRssMB, 0)} | ${fixed(row.load1m, 1)} | ${row.wallSeconds} |`,
    ),
    '',
    "Columns: prefill tokens/s over the whole prompt in one forward; decode ms/token over the greedy decode steps after it; GB-s and $ per 1,000 (prefill + decode) tokens billed from the runtime's REPORT lines (memory × billed duration, plus requests; default price table) — in process there is no bill; orchestrator peak RSS is the row process's own VmHWM (graphs are built and deployed by a separate child that exits first); one function's peak is the largest \"Max Memory Used\" of the timed invocations, beside the memory it was given (its own measured peak RSS + 25 %, in 64 MB steps); all processes: the largest sum of RSS of the row's process tree (orchestrator, functions, moto) sampled every second. graphs: `code` = in the function's code, `s3` = over Lambda's 250 MB code limit, so in a bucket on a moto server, fetched by each function at INIT as on AWS. Before the timed run every function is warmed (INIT) one at a time by a forward over the whole prompt; instances idle for up to 15 minutes are kept.",
    '',
    failed.length > 0 ? '## Failed cells' : '## Failed cells: none',
    '',
    ...(failed.length > 0
      ? [
          'What each error means, with the memory arithmetic: architecture/quantization.md, "Real-size layers end to end".',
          '',
        ]
      : []),
    ...failed.map(
      (row) =>
        `- ${row.model} ${row.format === 'none' ? 'float32' : row.format} ${row.target}: ${String(row.error)
          .replace(/^(stopped: .*? over --max-total-gb [\d.]+) .*$/s, '$1')
          .replace(/\s+/g, ' ')
          .slice(0, 600)}`,
    ),
    ...(failed.length > 0 ? [''] : []),
    '## Regenerate',
    '',
    "One shape at a time on an otherwise idle machine, merged into one file (Mixtral's float32 row on the",
    'runtime holds ~16.5 GB across its processes, over the default 12 GB stop, so it needs',
    '`--max-total-gb 20` and a 24 GB machine):',
    '',
    '```sh',
    'for shape in olmoe qwen3 mixtral; do',
    '  node --conditions=@switchyard/source --import tsx apps/cli/src/bench/real-size.ts \\',
    `    --shapes $shape --prefill ${rows[0]?.prefillTokens ?? 128} --decode ${rows[0]?.decodeTokens ?? 8} --merge --max-total-gb 20`,
    'done',
    '```',
    '',
    "The checkpoints (0.8 / 1.2 / 2.8 GB for one layer) are written to /tmp/switchyard-real-size on first use; float32 local rows of Qwen3 and Mixtral need moto (`pip install 'moto[server]'`).",
    '',
  ].join('\n');
}

/** One (shape, format, target) run inside this process; prints its JSON result as the last line. */
async function child(
  dir: string,
  format: FormatName,
  target: string,
  prefill: number,
  decode: number,
  repeats: number,
) {
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
  let moto: MotoServer | undefined;
  let executor: ReturnType<typeof recordBilling> | undefined;
  let plan: DeploymentPlan | undefined;
  let memory: { measuredPeakRssMB: number; memoryMB: number } | undefined;
  let graphsIn: 'code' | 's3' | undefined;
  const work = mkdtempSync(join(tmpdir(), 'switchyard-real-size-run-'));
  try {
    if (target === 'local') {
      const perFunction = model.summary.numExperts >= 64 ? model.summary.numExperts / 8 : 1;
      // Graphs over Lambda's 250 MB code limit go to S3 (moto), fetched by the functions at INIT.
      const graphBytes = perFunction * model.summary.bytesPerExpert;
      graphsIn = graphBytes > lambdaLimits.unzippedCodeBytes ? 's3' : 'code';
      memory = await functionMemoryMB(
        dir,
        format,
        perFunction,
        prefill,
        model.summary.bytesPerExpert,
        graphsIn === 's3' ? graphBytes : 0,
      );
      if (graphsIn === 's3') {
        moto = await startMotoServer();
        const s3 = new S3Client({
          endpoint: moto.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: motoCredentials,
        });
        await s3.send(new CreateBucketCommand({ Bucket: weightsBucket }));
        s3.destroy();
      }
      runtime = await startLocalRuntime({
        port: 0,
        s3Port: 0,
        initTimeoutMs: initTimeoutS * 1000,
        idleTimeoutMs,
        ...(moto ? { functionS3Endpoint: moto.endpoint } : {}),
      });
      plan = groupedPlan(model, perFunction, memory.memoryMB);
      const planFile = join(work, 'plan.json');
      writeFileSync(planFile, JSON.stringify(plan));
      // A child builds and deploys the graphs and exits: the orchestrator never holds their bytes.
      await runThisScript([
        '--deploy-child',
        dir,
        format,
        planFile,
        runtime.endpoint,
        moto?.endpoint ?? '-',
        join(work, 'stage'),
      ]);
      // One attempt, outliving the function's INIT and its longest invoke: a retried attempt while the
      // first one's instance is still busy (a cold start of a large expert on a loaded machine takes
      // minutes) makes the runtime start another instance of the same function, as Lambda does — the
      // default 60 s × 4 attempts piled up three ~600 MB instances per Mixtral function within three
      // minutes until memory ran out. A failure here is an error in the row, never a pile-up.
      const executorOptions = {
        endpoint: runtime.endpoint,
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
        timeoutMs: (initTimeoutS + lambdaLimits.maxTimeoutS) * 1000,
        maxAttempts: 1,
      };
      // Warm-up over the whole prompt (so every function is reached), one invoke at a time: every
      // function's INIT (graph load, its memory peak) happens here, one after another, outside the
      // timed run.
      const warmExecutor = new LambdaExecutor({ ...executorOptions, maxConcurrency: 1 });
      const warm = model.createSequence();
      await model.forward([{ sequence: warm, tokens: prompt }], {
        moeStep: createRemoteMoeStep({ plan, executor: warmExecutor }),
      });
      model.releaseSequence(warm);
      await warmExecutor.close();
      executor = recordBilling(new LambdaExecutor(executorOptions));
      moeStep = createRemoteMoeStep({ plan, executor });
    } else {
      const warm = model.createSequence();
      await model.forward([{ sequence: warm, tokens: prompt.slice(0, 8) }]);
      model.releaseSequence(warm);
    }
    // `repeats` timed runs of the same prompt, each on a fresh sequence with its own bill.
    const tokens = prefill + decode;
    const runs: Array<{
      prefillTokensPerS: number;
      decodeMsPerToken: number;
      gbSecondsPer1000Tokens: number | null;
      usdPer1000Tokens: number | null;
      invocations: number;
      functionPeakMemoryMB: number | null;
    }> = [];
    for (let run = 0; run < repeats; run++) {
      executor?.reset();
      const sequence = model.createSequence();
      let started = performance.now();
      let { logits } = await model.forward([{ sequence, tokens: prompt }], { moeStep });
      const prefillMs = performance.now() - started;
      started = performance.now();
      for (let step = 0; step < decode; step++)
        ({ logits } = await model.forward([{ sequence, tokens: [argmax(logits[0]!)] }], { moeStep }));
      const decodeMs = performance.now() - started;
      model.releaseSequence(sequence);
      const reports = executor?.reports ?? [];
      const bill =
        reports.length > 0 ? billFromReports(reports, resolveRates({}, defaultPriceTable)) : undefined;
      runs.push({
        prefillTokensPerS: (prefill * 1000) / prefillMs,
        decodeMsPerToken: decodeMs / decode,
        gbSecondsPer1000Tokens: bill ? (bill.gbSeconds * 1000) / tokens : null,
        usdPer1000Tokens: bill ? (bill.totalUsd * 1000) / tokens : null,
        invocations: bill?.invocations ?? 0,
        functionPeakMemoryMB: reports.length > 0 ? Math.max(...reports.map((r) => r.maxMemoryUsedMB)) : null,
      });
    }
    /** The median and the worst (lowest for a rate, highest for a time or a bill) over the runs. */
    const figure = (key: Exclude<keyof (typeof runs)[number], 'invocations'>, worst: 'min' | 'max') => {
      const known = runs.map((run) => run[key]).filter((value): value is number => value !== null);
      if (known.length === 0) return { median: null, worst: null };
      return { median: median(known), worst: worst === 'min' ? Math.min(...known) : Math.max(...known) };
    };
    const prefillFigures = figure('prefillTokensPerS', 'min');
    const decodeFigures = figure('decodeMsPerToken', 'max');
    const gbSecondFigures = figure('gbSecondsPer1000Tokens', 'max');
    const usdFigures = figure('usdPer1000Tokens', 'max');
    const peaks = runs.map((run) => run.functionPeakMemoryMB).filter((peak): peak is number => peak !== null);
    return {
      loadSeconds,
      repeats,
      prefillTokensPerS: prefillFigures.median,
      prefillTokensPerSWorst: prefillFigures.worst,
      decodeMsPerToken: decodeFigures.median,
      decodeMsPerTokenWorst: decodeFigures.worst,
      bytesPerExpert: model.summary.bytesPerExpert,
      gbSecondsPer1000Tokens: gbSecondFigures.median,
      gbSecondsPer1000TokensWorst: gbSecondFigures.worst,
      usdPer1000Tokens: usdFigures.median,
      usdPer1000TokensWorst: usdFigures.worst,
      invocations: runs[0]?.invocations ?? 0,
      functionMemoryMB: plan?.layers[0]?.functions[0]?.memoryMB ?? null,
      functionMeasuredPeakRssMB: memory?.measuredPeakRssMB ?? null,
      functionPeakMemoryMB: peaks.length > 0 ? Math.max(...peaks) : null,
      runs,
      graphsIn: graphsIn ?? null,
      orchestratorPeakRssMB: ownPeakRssMB(),
    };
  } finally {
    if (runtime && plan)
      await undeployPlan(plan, {
        target: 'local',
        endpoint: runtime.endpoint,
        ...(moto ? { s3Endpoint: moto.endpoint, bucket: weightsBucket } : {}),
      }).catch(() => {});
    await executor?.close?.();
    await runtime?.stop();
    await moto?.stop();
    await model.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds the plan's graphs in the format and deploys them to the runtime (and moto's bucket). */
async function deployChild(
  dir: string,
  format: FormatName,
  planFile: string,
  endpoint: string,
  s3Endpoint: string | undefined,
  stageDir: string,
) {
  const quantization = formats[format] as ExpertQuantization | undefined;
  const model = await loadModel(dir, { threads: 1, quantization });
  try {
    const plan = deploymentPlanSchema.parse(JSON.parse(readFileSync(planFile, 'utf8')));
    await deployPlan(plan, {
      target: 'local',
      endpoint,
      stageDir,
      ...(s3Endpoint ? { s3Endpoint, bucket: weightsBucket } : {}),
      timeoutSeconds: lambdaLimits.maxTimeoutS,
      graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
    });
  } finally {
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
  const deployIndex = args.indexOf('--deploy-child');
  if (deployIndex >= 0) {
    const [dir, format, planFile, endpoint, s3Endpoint, stageDir] = args.slice(deployIndex + 1);
    await deployChild(
      dir!,
      format as FormatName,
      planFile!,
      endpoint!,
      s3Endpoint === '-' ? undefined : s3Endpoint,
      stageDir!,
    );
    process.stdout.write('{}\n');
    return;
  }
  const childIndex = args.indexOf('--child');
  if (childIndex >= 0) {
    const [dir, format, target, prefill, decode, repeats] = args.slice(childIndex + 1);
    const result = await child(
      dir!,
      format as FormatName,
      target!,
      Number(prefill),
      Number(decode),
      Number(repeats),
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const shapeNames = (option('--shapes') ?? (quick ? 'olmoe' : 'olmoe,qwen3,mixtral')).split(
    ',',
  ) as ShapeName[];
  const formatNames = (option('--formats') ?? (quick ? 'int8' : 'none,int8,int4')).split(',') as FormatName[];
  const targets = (option('--targets') ?? 'in-process,local').split(',');
  const layerCounts: Record<string, number> = { olmoe: 1, qwen3: 1, mixtral: 1 };
  for (const part of (option('--layers') ?? '').split(',').filter(Boolean)) {
    const [name, count] = part.split('=');
    layerCounts[name!] = Number(count);
  }
  const prefill = Number(option('--prefill') ?? (quick ? 32 : 128));
  const decode = Number(option('--decode') ?? (quick ? 4 : 8));
  const maxTotalMB = Number(option('--max-total-gb') ?? 12) * 1024;
  const repeats = Number(option('--repeats') ?? (quick ? 1 : 3));
  process.stdout.write(
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GB total, ${(freemem() / 2 ** 30).toFixed(1)} GB free; load ${loadavg()[0]!.toFixed(1)}\n`,
  );
  const out = resolve(option('--out') ?? join(root, 'bench-results/real-size.json'));
  if (args.includes('--markdown-only')) {
    // Rewrites the .md from the JSON's rows, running nothing.
    const { rows: saved } = JSON.parse(readFileSync(out, 'utf8')) as { rows: Record<string, unknown>[] };
    writeFileSync(out.replace(/\.json$/, '.md'), realSizeMarkdown(saved, out));
    process.stdout.write(`wrote ${out.replace(/\.json$/, '.md')}\n`);
    return;
  }
  const previousRows =
    args.includes('--merge') && existsSync(out)
      ? (JSON.parse(readFileSync(out, 'utf8')) as { rows: Record<string, unknown>[] }).rows
      : [];
  /** Writes the out file; after every row (`complete: false` until the last), so a stopped run keeps its rows. */
  const writeResults = (complete: boolean) => {
    const key = (row: Record<string, unknown>) => `${row.shape}/${row.format}/${row.target}`;
    const ran = new Set(rows.map(key));
    const kept = previousRows.filter((row) => !ran.has(key(row)));
    const order = (row: Record<string, unknown>) =>
      Object.keys(shapes).indexOf(row.shape as string) * 100 +
      Object.keys(formats).indexOf(row.format as string) * 10 +
      (row.target === 'local' ? 1 : 0);
    const all = [...kept, ...rows].sort((a, b) => order(a) - order(b));
    writeFileSync(out.replace(/\.json$/, '.md'), realSizeMarkdown(all, out));
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
          rows: all,
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
          const { result, peakTotalRssMB, peakProcesses } = await runRow(
            ['--child', dir, format, target, String(prefill), String(decode), String(repeats)],
            maxTotalMB,
          );
          rows.push({
            shape: name,
            model: shapes[name].model,
            layers: layerCounts[name],
            format,
            target,
            prefillTokens: prefill,
            decodeTokens: decode,
            ...result,
            runPeakTotalRssMB: Math.round(peakTotalRssMB),
            runPeakProcesses: peakProcesses,
            load1m: Number(loadavg()[0]!.toFixed(1)),
            wallSeconds: Math.round((performance.now() - started) / 1000),
          });
        } catch (error) {
          // The child's error line (an uncaught error ends its stderr with the error's fields and
          // the Node.js version, so the last lines alone do not say what failed).
          const failed = error as { stderr?: string; peakTotalRssMB?: number; peakProcesses?: number };
          // A row stopped for its memory says so; its stderr is whatever it printed until then.
          const lines = (error as Error).message.startsWith('stopped:')
            ? []
            : (failed.stderr?.trim().split('\n') ?? []);
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
            prefillTokens: prefill,
            decodeTokens: decode,
            runPeakTotalRssMB: Math.round(failed.peakTotalRssMB ?? 0),
            runPeakProcesses: failed.peakProcesses ?? 0,
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
