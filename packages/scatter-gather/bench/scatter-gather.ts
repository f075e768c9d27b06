/**
 * Scatter-gather benchmark: orchestration overhead, speed-up over sequential dispatch, β, hedging.
 *
 *   node --conditions=@switchyard/source --import tsx bench/scatter-gather.ts [--quick]
 *
 * Executor: in-process worker threads running real ONNX SwiGLU expert graphs (onnxruntime-node,
 * 1 thread per session; the wire decode/encode of the "function" side runs in the worker too), no
 * network and no processes — isolates the orchestrator's own cost. Prints a table and writes
 * bench-results/scatter-gather.json at the repo root. The local-runtime figures (real processes,
 * real Lambda API) are in bench/local-runtime.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSwigluGraph,
  createExpertRunner,
  createInProcessMoeStep,
  type ExpertRunner,
} from '@switchyard/model';
import { createFaultInjectingExecutor, createRemoteMoeStep } from '../src/index.js';
import { createJsExecutor, makePlan, randomRouting, seededRandom } from '../test/helpers.js';
import { createWorkerExecutor } from './worker-executor.js';

const quick = process.argv.includes('--quick');
/** Only the overhead section, at 1,024 and 10,240 tokens (results to scatter-gather-overhead.json). */
const overheadOnly = process.argv.includes('--overhead-only');
const hiddenSize = 768; // BERT-MoE shape from the paper (FFN 3072), as a SwiGLU expert
const intermediateSize = 3072;
const numExperts = 8;
const topK = 2;
const repeats = quick ? 2 : 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const random = seededRandom(17);
  const weights = (n: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * 0.05);
  const graphs: Uint8Array[] = [];
  const runners: ExpertRunner[] = [];
  for (let expert = 0; expert < numExperts; expert++) {
    const graph = buildSwigluGraph({
      hiddenSize,
      intermediateSize,
      gate: weights(intermediateSize * hiddenSize),
      up: weights(intermediateSize * hiddenSize),
      down: weights(hiddenSize * intermediateSize),
    });
    graphs.push(graph);
    runners.push(await createExpertRunner(graph, { threads: 1 }));
  }
  const inProcess = createInProcessMoeStep({ run: (_l, e, x, n) => runners[e]!.run(x, n) });
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    loadAverageAtStart: os.loadavg(),
    cpus: os.cpus().length,
    hiddenSize,
    intermediateSize,
    numExperts,
    topK,
    executor:
      'in-process: worker threads running real ONNX expert graphs (onnxruntime-node, 1 thread per session)',
  };

  // 1. Overhead: one compute lane, so the critical path of expert compute = Σ compute.
  const overhead: Record<string, unknown>[] = [];
  for (const numTokens of quick && !overheadOnly ? [1024] : [1024, 10240]) {
    const routing = randomRouting(numTokens, numTokens, hiddenSize, numExperts, topK);
    const request = { layer: 0, numTokens, hiddenSize, topK, ...routing };
    for (const beta of [256, 1024]) {
      const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta });
      const executor = await createWorkerExecutor({ plan, graphs, lanes: 1 });
      const step = createRemoteMoeStep({ plan, executor });
      await step(request); // warm-up
      const walls: number[] = [];
      const computes: number[] = [];
      let identical = true;
      const reference = await inProcess(request);
      for (let i = 0; i < repeats; i++) {
        executor.resetComputeMs();
        const started = performance.now();
        const out = await step(request);
        walls.push(performance.now() - started);
        computes.push(executor.computeMs());
        identical &&= Buffer.from(out.buffer).equals(Buffer.from(reference.buffer));
      }
      const inProcessWalls: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        await inProcess(request);
        inProcessWalls.push(performance.now() - started);
      }
      const wallMs = median(walls);
      const computeMs = median(computes);
      overhead.push({
        numTokens,
        beta,
        wallMs,
        computeCriticalPathMs: computeMs,
        overheadMs: wallMs - computeMs,
        overheadShare: (wallMs - computeMs) / computeMs,
        inProcessWallMs: median(inProcessWalls),
        bitIdenticalToInProcess: identical,
      });
      await executor.close();
      process.stderr.write(`overhead ${numTokens} tokens β ${beta} done\n`);
    }
  }
  results.overhead = overhead;
  if (overheadOnly) {
    console.table(overhead);
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    writeFileSync(
      join(root, 'bench-results', 'scatter-gather-overhead.json'),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    for (const r of runners) await r.close();
    return;
  }

  // 2. Speed-up over sequential dispatch: two compute lanes (2 cores here).
  const speedup: Record<string, unknown>[] = [];
  for (const numTokens of quick ? [1024] : [1024, 10240]) {
    const routing = randomRouting(numTokens + 1, numTokens, hiddenSize, numExperts, topK);
    const request = { layer: 0, numTokens, hiddenSize, topK, ...routing };
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta: 256 });
    const executor = await createWorkerExecutor({ plan, graphs, lanes: 2 });
    const time = async (maxInFlight: number) => {
      const step = createRemoteMoeStep({ plan, executor, maxInFlight });
      await step(request);
      const walls: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const started = performance.now();
        await step(request);
        walls.push(performance.now() - started);
      }
      return median(walls);
    };
    const sequentialMs = await time(1);
    const pipelinedMs = await time(64);
    speedup.push({ numTokens, sequentialMs, pipelinedMs, speedup: sequentialMs / pipelinedMs });
    await executor.close();
    process.stderr.write(`speed-up ${numTokens} tokens done\n`);
  }
  results.speedup = speedup;

  // 3. Hedging against stragglers: 5 % of invocations arrive 150 ms late (seeded), 2 replicas.
  //    (a) elastic executor: every invocation gets its own capacity, like Lambda (JS expert + a
  //        20 ms service time: simulated compute); (b) the real ONNX worker lanes, saturated.
  const hedging: Record<string, unknown>[] = [];
  const numTokens = 1024;
  for (const executorKind of [
    'elastic (simulated 20 ms service)',
    'ONNX worker lanes (2, saturated)',
  ] as const) {
    const calls = executorKind.startsWith('elastic') ? (quick ? 20 : 40) : quick ? 6 : 12;
    for (const hedge of [false, true]) {
      const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta: 64, replicas: 2 });
      const workers = executorKind.startsWith('ONNX')
        ? await createWorkerExecutor({ plan, graphs, lanes: 2 })
        : undefined;
      const inner = workers ?? createJsExecutor({ delayMs: () => 20 });
      const executor = createFaultInjectingExecutor(inner, { seed: 5, lateRate: 0.05, lateMs: 150 });
      const step = createRemoteMoeStep({
        plan,
        executor,
        hedge: { enabled: hedge, quantile: 0.95, minSamples: 32 },
      });
      const walls: number[] = [];
      for (let i = 0; i < calls + 2; i++) {
        const routing = randomRouting(1000 + i, numTokens, hiddenSize, numExperts, topK);
        const started = performance.now();
        await step({ layer: 0, numTokens, hiddenSize, topK, ...routing });
        if (i >= 2) walls.push(performance.now() - started); // first calls fill the latency window
      }
      const summary = step.summary();
      hedging.push({
        executor: executorKind,
        hedge,
        calls,
        p50Ms: quantile(walls, 0.5),
        p95Ms: quantile(walls, 0.95),
        p99Ms: quantile(walls, 0.99),
        maxMs: Math.max(...walls),
        hedges: summary.hedges,
        wastedInvocations: summary.wastedInvocations,
        invocations: summary.invocations,
      });
      await workers?.close();
      process.stderr.write(`hedging ${executorKind} ${hedge} done\n`);
    }
  }
  results.hedging = hedging;
  results.loadAverageAtEnd = os.loadavg();
  for (const r of runners) await r.close();

  console.log(
    `scatter-gather benchmark — ${results.executor}; expert ${hiddenSize}×${intermediateSize} SwiGLU, ${numExperts} experts, top-${topK}`,
  );
  console.log('\noverhead (single compute lane; critical path = Σ expert compute)');
  console.table(
    overhead.map((o) => ({
      tokens: o.numTokens,
      beta: o.beta,
      'wall ms': (o.wallMs as number).toFixed(1),
      'compute ms': (o.computeCriticalPathMs as number).toFixed(1),
      'overhead ms': (o.overheadMs as number).toFixed(1),
      'overhead %': ((o.overheadShare as number) * 100).toFixed(2),
      'in-process ms': (o.inProcessWallMs as number).toFixed(1),
      'bit-identical': o.bitIdenticalToInProcess,
    })),
  );
  console.log('\nspeed-up over sequential dispatch (maxInFlight 1 vs 64)');
  console.table(
    speedup.map((s) => ({
      tokens: s.numTokens,
      'sequential ms': (s.sequentialMs as number).toFixed(1),
      'concurrent ms': (s.pipelinedMs as number).toFixed(1),
      speedup: (s.speedup as number).toFixed(2),
    })),
  );
  console.log(
    '\nhedging vs stragglers (5 % of invocations +150 ms, 1,024 tokens per layer call, β 64, 2 replicas; p-quantiles of layer wall time)',
  );
  console.table(
    hedging.map((h) => ({
      hedge: h.hedge,
      'p50 ms': (h.p50Ms as number).toFixed(1),
      'p95 ms': (h.p95Ms as number).toFixed(1),
      'p99 ms': (h.p99Ms as number).toFixed(1),
      hedges: h.hedges,
      wasted: h.wastedInvocations,
    })),
  );
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'scatter-gather.json'), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
