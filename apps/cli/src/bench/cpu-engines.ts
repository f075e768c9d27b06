import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRandom, median } from '@switchyard/core';
import { exportGguf, loadModel, type MoeModel } from '@switchyard/model';
import { paperShape } from '@switchyard/optimizer';
import { openLlamaCpp } from '@switchyard/testing/llama-cpp';
import {
  argmaxOf,
  compareLogProbabilities,
  logSoftmax,
  readReferenceLogProbabilities,
} from '@switchyard/testing/log-probabilities';
import { writeSyntheticCheckpoint } from '@switchyard/testing/synthetic-checkpoint';
import type { CpuEngineRow, CpuEnginesResult, LogitComparison } from './cpu-engine-results.js';

/**
 * Switchyard's in-process engine against llama.cpp on the CPU: the same checkpoint (a seeded
 * synthetic Mixtral at a paper shape, exported to GGUF by `exportGguf`), the same prompts, threads
 * and batches, both engines loaded side by side and timed alternately. Prefill = every sequence's
 * prompt in one call; decode = one greedy token per sequence per step.
 */
export interface CpuEngineBenchOptions {
  fixturesDir: string;
  /** Paper shapes (optimizer's `paperShape` names, e.g. `bert-moe-12x4-top2`) or explicit shapes. */
  shapes: readonly (string | CpuBenchShape)[];
  /** Run this many decoder layers instead of the shape's (same layer shape, shorter model). */
  layers?: number;
  threads: readonly number[];
  batches: readonly number[];
  promptTokens: number;
  decodeSteps: number;
  repetitions: number;
  ggufTensorType?: 'F32' | 'F16' | 'BF16';
  /** Where checkpoints and GGUF files are written (a fresh temporary directory by default). */
  workDir?: string;
  quick?: boolean;
  command?: string;
  onProgress?: (message: string) => void;
}

/** A Mixtral-layout shape to measure. */
export interface CpuBenchShape {
  name: string;
  hiddenSize: number;
  intermediateSize: number;
  numExperts: number;
  topK: number;
  layers: number;
  attentionHeads: number;
  vocabulary: number;
}

/** Share of one token's weight-matrix multiply-adds spent in its top-k routed experts. */
export function expertFlopShare(shape: CpuBenchShape): number {
  const H = shape.hiddenSize;
  const experts = shape.topK * 3 * H * shape.intermediateSize;
  const attention = 4 * H * H; // q, k, v, o (no grouped-query attention in these shapes)
  const router = shape.numExperts * H;
  const head = shape.vocabulary * H;
  return (shape.layers * experts) / (shape.layers * (experts + attention + router) + head);
}

/** Vocabulary of the paper's models: BERT's WordPiece, GPT-2's BPE. */
const vocabularies: Record<string, number> = {
  'bert-moe': 30_522,
  'gpt2-moe': 50_257,
  'bert2bert-moe': 30_522,
};

/** A paper shape as the benchmark runs it: hidden 768, FFN 3072, 12 heads (BERT/GPT-2 attention), its experts, top-k and layers. */
export function cpuBenchShape(name: string): CpuBenchShape {
  const shape = paperShape(name);
  return {
    name,
    hiddenSize: shape.hiddenSize,
    intermediateSize: shape.expertIntermediateSize,
    numExperts: shape.numExperts,
    topK: shape.topK,
    layers: shape.moeLayers.length,
    attentionHeads: 12,
    vocabulary: vocabularies[shape.architecture] ?? 30_522,
  };
}

/** The installed version of a dependency as `from` resolves it (its package.json above the entry point). */
function packageVersion(name: string, from: string = import.meta.url): string {
  const require = createRequire(from);
  let directory: string;
  try {
    directory = dirname(require.resolve(name));
  } catch {
    return 'not installed';
  }
  for (let depth = 0; depth < 6; depth++, directory = dirname(directory)) {
    try {
      const json = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === name) return json.version ?? 'unknown';
    } catch {
      // no package.json at this level
    }
  }
  return 'unknown';
}

function seededPrompts(batch: number, length: number, vocabulary: number, seed: number): number[][] {
  const random = createRandom(seed);
  return Array.from({ length: batch }, () => Array.from({ length }, () => Math.floor(random() * vocabulary)));
}

interface PhaseTimes {
  prefillSeconds: number;
  decodeSeconds: number;
  /** The greedy tokens of the first decode step per sequence (to check the engines compute the same model). */
  firstTokens: number[];
}

async function runSwitchyard(model: MoeModel, prompts: number[][], decodeSteps: number): Promise<PhaseTimes> {
  const sequences = prompts.map(() => model.createSequence());
  try {
    let started = performance.now();
    let { logits } = await model.forward(sequences.map((sequence, b) => ({ sequence, tokens: prompts[b]! })));
    const prefillSeconds = (performance.now() - started) / 1000;
    const firstTokens = logits.map((row) => argmaxOf(row));
    let next = firstTokens;
    started = performance.now();
    for (let step = 0; step < decodeSteps; step++) {
      ({ logits } = await model.forward(sequences.map((sequence, b) => ({ sequence, tokens: [next[b]!] }))));
      next = logits.map((row) => argmaxOf(row));
    }
    return { prefillSeconds, decodeSeconds: (performance.now() - started) / 1000, firstTokens };
  } finally {
    for (const sequence of sequences) model.releaseSequence(sequence);
  }
}

async function runLlamaCpp(
  runner: Awaited<ReturnType<typeof openLlamaCpp>>,
  prompts: number[][],
  decodeSteps: number,
): Promise<PhaseTimes> {
  await runner.reset();
  let started = performance.now();
  const firstTokens = await runner.step(prompts);
  const prefillSeconds = (performance.now() - started) / 1000;
  let next = firstTokens;
  started = performance.now();
  for (let step = 0; step < decodeSteps; step++) next = await runner.step(next.map((token) => [token]));
  return { prefillSeconds, decodeSeconds: (performance.now() - started) / 1000, firstTokens };
}

function summarise(runs: number[]) {
  return { tokensPerSecond: median(runs), worstTokensPerSecond: Math.min(...runs), runs };
}

/** Both engines on one checkpoint at one thread count: every batch, prefill and decode rows. */
async function measureCheckpoint(options: {
  shape: CpuBenchShape;
  layers: number;
  checkpointDir: string;
  ggufPath: string;
  vocabulary: number;
  threads: number;
  bench: CpuEngineBenchOptions;
}): Promise<{ rows: CpuEngineRow[]; firstTokenAgreement: number; firstTokens: number }> {
  const { bench } = options;
  const maxBatch = Math.max(...bench.batches);
  const model = await loadModel(options.checkpointDir, { threads: options.threads, eagerExperts: true });
  const runner = await openLlamaCpp(options.ggufPath, {
    threads: options.threads,
    sequences: maxBatch,
    contextSize: bench.promptTokens + bench.decodeSteps + 8,
    precision: 'default',
  }).catch(async (error: unknown) => {
    await model.close();
    throw error;
  });
  const rows: CpuEngineRow[] = [];
  let firstTokenAgreement = 0;
  let firstTokens = 0;
  try {
    for (const batch of bench.batches) {
      bench.onProgress?.(`${options.shape.name}: ${options.threads} thread(s), batch ${batch}`);
      const warmup = seededPrompts(batch, Math.min(8, bench.promptTokens), options.vocabulary, 1);
      await runSwitchyard(model, warmup, 1);
      await runLlamaCpp(runner, warmup, 1);
      const times: Record<'switchyard' | 'llamaCpp', PhaseTimes[]> = { switchyard: [], llamaCpp: [] };
      for (let repetition = 0; repetition < bench.repetitions; repetition++) {
        const prompts = seededPrompts(batch, bench.promptTokens, options.vocabulary, 100 + repetition);
        // Alternate which engine goes first so a load change hits both alike.
        const order =
          repetition % 2 === 0
            ? (['switchyard', 'llamaCpp'] as const)
            : (['llamaCpp', 'switchyard'] as const);
        for (const engine of order)
          times[engine].push(
            engine === 'switchyard'
              ? await runSwitchyard(model, prompts, bench.decodeSteps)
              : await runLlamaCpp(runner, prompts, bench.decodeSteps),
          );
        const ours = times.switchyard.at(-1)!.firstTokens;
        const theirs = times.llamaCpp.at(-1)!.firstTokens;
        firstTokens += ours.length;
        firstTokenAgreement += ours.filter((token, b) => token === theirs[b]).length;
      }
      for (const phase of ['prefill', 'decode'] as const) {
        const tokens = batch * (phase === 'prefill' ? bench.promptTokens : bench.decodeSteps);
        const rate = (t: PhaseTimes) => tokens / (phase === 'prefill' ? t.prefillSeconds : t.decodeSeconds);
        const switchyard = summarise(times.switchyard.map(rate));
        const llamaCpp = summarise(times.llamaCpp.map(rate));
        const ratio = llamaCpp.tokensPerSecond / switchyard.tokensPerSecond;
        rows.push({
          shape: options.shape.name,
          layers: options.layers,
          threads: options.threads,
          batch,
          phase,
          tokens,
          switchyard,
          llamaCpp,
          llamaCppOverSwitchyard: ratio,
          faster: ratio > 1 ? 'llama.cpp' : 'switchyard',
          expertFlopShare: expertFlopShare({ ...options.shape, layers: options.layers }),
          loadAverage1m: loadavg()[0] ?? 0,
        });
      }
    }
  } finally {
    await runner.close();
    await model.close();
  }
  return { rows, firstTokenAgreement, firstTokens };
}

/** The bundled model: each engine's next-token log-probabilities against transformers and each other. */
async function compareLogits(fixturesDir: string, workDir: string): Promise<LogitComparison[]> {
  const checkpointDir = join(fixturesDir, 'checkpoints/shakespeare-mixtral-8x2');
  const ggufPath = join(workDir, 'shakespeare-mixtral-8x2.gguf');
  await exportGguf(checkpointDir, ggufPath);
  const { prompts, rows: transformers, vocabulary } = await readReferenceLogProbabilities(checkpointDir);
  const batch = prompts.length;
  const model = await loadModel(checkpointDir, { threads: 1 });
  let switchyard: Float64Array[];
  try {
    const result = await model.forward(
      prompts.map((tokens) => ({ sequence: model.createSequence(), tokens })),
      { logits: 'all' },
    );
    switchyard = result.logits.flatMap((rows) =>
      Array.from({ length: prompts[0]!.length }, (_, t) =>
        logSoftmax(rows.subarray(t * vocabulary, (t + 1) * vocabulary)),
      ),
    );
  } finally {
    await model.close();
  }
  const comparisons: LogitComparison[] = [
    { pair: 'switchyard vs transformers', ...rename(compareLogProbabilities(transformers, switchyard)) },
  ];
  for (const precision of ['exact', 'default'] as const) {
    const runner = await openLlamaCpp(ggufPath, { threads: 1, sequences: batch, contextSize: 64, precision });
    try {
      const llamaCpp = (await runner.logProbabilities(prompts)).flat();
      comparisons.push(
        {
          pair: `llama.cpp (${precision}) vs transformers`,
          ...rename(compareLogProbabilities(transformers, llamaCpp)),
        },
        {
          pair: `llama.cpp (${precision}) vs switchyard`,
          ...rename(compareLogProbabilities(switchyard, llamaCpp)),
        },
      );
    } finally {
      await runner.close();
    }
  }
  return comparisons;
}

function rename(comparison: { maxAbsDelta: number; greedyAgreement: number; rows: number }) {
  return {
    maxAbsDeltaLogProbability: comparison.maxAbsDelta,
    greedyAgreement: comparison.greedyAgreement,
    rows: comparison.rows,
  };
}

export async function runCpuEngineBench(options: CpuEngineBenchOptions): Promise<CpuEnginesResult> {
  const started = performance.now();
  const loadAverage1mStart = loadavg()[0] ?? 0;
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'switchyard-cpu-engines-')));
  await mkdir(workDir, { recursive: true });
  const ggufTensorType = options.ggufTensorType ?? 'F32';
  const rows: CpuEngineRow[] = [];
  const notes: string[] = [];
  try {
    options.onProgress?.('logits: shakespeare-mixtral-8x2, both engines against the transformers reference');
    const logits = await compareLogits(options.fixturesDir, workDir);
    for (const requested of options.shapes) {
      const shape = typeof requested === 'string' ? cpuBenchShape(requested) : requested;
      const shapeName = shape.name;
      const layers = options.layers ?? shape.layers;
      const vocabulary = shape.vocabulary;
      const checkpointDir = join(workDir, shapeName);
      options.onProgress?.(`${shapeName}: writing a seeded ${layers}-layer checkpoint and its GGUF`);
      await writeSyntheticCheckpoint(checkpointDir, {
        modelType: 'mixtral',
        hiddenSize: shape.hiddenSize,
        intermediateSize: shape.intermediateSize,
        numLayers: layers,
        numExperts: shape.numExperts,
        topK: shape.topK,
        numAttentionHeads: shape.attentionHeads,
        numKeyValueHeads: shape.attentionHeads,
        vocabSize: vocabulary,
        maxPositionEmbeddings: 512,
        dtype: 'BF16',
        seed: 21,
      });
      const ggufPath = join(workDir, `${shapeName}.gguf`);
      await exportGguf(checkpointDir, ggufPath, { tensorType: ggufTensorType, name: shapeName });
      let agreement = 0;
      let compared = 0;
      for (const threads of options.threads) {
        const measured = await measureCheckpoint({
          shape,
          layers,
          checkpointDir,
          ggufPath,
          vocabulary,
          threads,
          bench: options,
        });
        rows.push(...measured.rows);
        agreement += measured.firstTokenAgreement;
        compared += measured.firstTokens;
      }
      notes.push(
        `${shapeName}: first greedy token after the prompt identical on both engines for ${agreement} of ${compared} sequences (llama.cpp at its default F16 KV cache).`,
      );
      await rm(checkpointDir, { recursive: true, force: true });
      await rm(ggufPath, { force: true });
    }
    return {
      createdAt: new Date().toISOString(),
      command: options.command ?? 'pnpm --filter @switchyard/cli bench:cpu-engines',
      quick: options.quick ?? false,
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        logicalCpus: cpus().length,
        loadAverage1mStart,
        loadAverage1mEnd: loadavg()[0] ?? 0,
      },
      settings: {
        promptTokens: options.promptTokens,
        decodeSteps: options.decodeSteps,
        repetitions: options.repetitions,
        threads: [...options.threads],
        batches: [...options.batches],
        ggufTensorType,
        checkpointDtype: 'BF16',
        versions: {
          'node-llama-cpp': packageVersion('node-llama-cpp'),
          // The in-process engine's onnxruntime is the one @switchyard/model resolves.
          'onnxruntime-node': packageVersion('onnxruntime-node', import.meta.resolve('@switchyard/model')),
          node: process.version,
        },
        notes: [
          'Checkpoints: seeded synthetic Mixtral (SwiGLU experts, 3 matrices: 1.5× the FLOPs of a BERT/GPT-2 FFN, as in the paper profile) at the paper shape (hidden 768, FFN 3072, 12 heads, no GQA, the shape’s experts/top-k/layers, BERT or GPT-2 vocabulary), stored BF16; Switchyard computes in float32 from it, llama.cpp from the GGUF export (ggufTensorType; F32 = the same values).',
          'Switchyard: loadModel (onnxruntime-node, eager experts, in-process MoE step), one forward call for the whole batch per step. llama.cpp: node-llama-cpp prebuilt CPU binary, its default context settings (F16 KV cache, flash attention when supported, n_batch 512), one sequence per batch entry evaluated together; greedy sampling in llama.cpp.',
          ...(options.layers === undefined
            ? []
            : [
                `Shortened: every shape runs ${options.layers} decoder layer(s) of its own layer shape instead of its full depth (the same model for both engines, to fit the run in time and memory); the ratio is a whole-model ratio at that depth — the "expert share of FLOPs" column says how much of it is the MoE layers.`,
              ]),
          'Each repetition times a prefill of promptTokens per sequence and decodeSteps greedy steps on both engines, alternating which goes first; rows give the median and the slowest repetition, ratio = llama.cpp median ÷ Switchyard median.',
          ...notes,
        ],
      },
      logits,
      rows,
      wallTimeS: (performance.now() - started) / 1000,
    };
  } finally {
    if (ownWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}

/** The table the benchmark prints (and writes beside the JSON as Markdown). */
export function cpuEnginesMarkdown(result: CpuEnginesResult): string {
  const tokensPerSecond = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
  return [
    `# CPU engines: Switchyard in-process vs llama.cpp (${result.createdAt.slice(0, 10)}${result.quick ? ', --quick' : ''})`,
    '',
    `Machine: ${result.machine.cpu}, ${result.machine.logicalCpus} logical CPUs, 1-min load ${result.machine.loadAverage1mStart.toFixed(2)} → ${result.machine.loadAverage1mEnd.toFixed(2)}. Prompt ${result.settings.promptTokens} tokens, ${result.settings.decodeSteps} decode steps, ${result.settings.repetitions} repetitions, GGUF ${result.settings.ggufTensorType}. Re-run: ${result.runs === undefined ? `\`${result.command}\`` : 'the runs below, one after another (the first without --merge)'}.`,
    '',
    '| shape | layers | expert share of FLOPs | threads | batch | phase | Switchyard tok/s (median / worst) | llama.cpp tok/s (median / worst) | llama.cpp ÷ Switchyard | faster | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.rows.map(
      (row) =>
        `| ${row.shape} | ${row.layers} | ${(row.expertFlopShare * 100).toFixed(0)} % | ${row.threads} | ${row.batch} | ${row.phase} | ${tokensPerSecond(row.switchyard.tokensPerSecond)} / ${tokensPerSecond(row.switchyard.worstTokensPerSecond)} | ${tokensPerSecond(row.llamaCpp.tokensPerSecond)} / ${tokensPerSecond(row.llamaCpp.worstTokensPerSecond)} | ${row.llamaCppOverSwitchyard.toFixed(2)} | ${row.faster} | ${row.loadAverage1m.toFixed(1)} |`,
    ),
    '',
    ...(result.runs === undefined
      ? []
      : [
          '## Runs merged into this file',
          '',
          '| finished (UTC) | shapes | 1-min load (start → end) | wall time | command |',
          '|---|---|---|---|---|',
          ...result.runs.map(
            (run) =>
              `| ${run.createdAt.slice(0, 16).replace('T', ' ')} | ${run.shapes.join(', ')} | ${run.loadAverage1mStart.toFixed(2)} → ${run.loadAverage1mEnd.toFixed(2)} | ${(run.wallTimeS / 60).toFixed(1)} min | \`${run.command}\` |`,
          ),
          '',
        ]),
    '## Logits on shakespeare-mixtral-8x2 (2 × 32 reference positions)',
    '',
    '| pair | max abs Δ log p | greedy agreement |',
    '|---|---|---|',
    ...result.logits.map(
      (c) =>
        `| ${c.pair} | ${c.maxAbsDeltaLogProbability.toExponential(2)} | ${c.greedyAgreement} / ${c.rows} |`,
    ),
    '',
    ...result.settings.notes.map((note) => `* ${note}`),
    '',
  ].join('\n');
}

/** Writes `cpu-engines.{json,md}` (the result and its printed table) into `outDir`. */
export async function writeCpuEngineResults(result: CpuEnginesResult, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'cpu-engines.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(outDir, 'cpu-engines.md'), cpuEnginesMarkdown(result));
}
