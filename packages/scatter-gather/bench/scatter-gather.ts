/**
 * Scatter-gather benchmark: orchestration overhead, speed-up over sequential dispatch, β, hedging.
 *
 *   node --conditions=@switchyard/source --import tsx bench/scatter-gather.ts [--quick]
 *
 * Executor: in-process, real ONNX SwiGLU expert graphs (onnxruntime-node, 1 thread per session),
 * no network and no processes — isolates the orchestrator's own cost. Prints a table and writes
 * bench-results/scatter-gather.json at the repo root. The local-runtime figures (real processes,
 * real Lambda API) are in bench/local-runtime.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSwigluGraph,
  combineExpertOutputs,
  createExpertRunner,
  createInProcessMoeStep,
  type ExpertRunner,
} from '@switchyard/model';
import { createFaultInjectingExecutor, createRemoteMoeStep } from '../src/index.js';
import { makePlan, randomRouting, seededRandom } from '../test/helpers.js';
import { createOnnxExecutor } from '../test/onnx-executor.js';

const quick = process.argv.includes('--quick');
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
  const runners: ExpertRunner[] = [];
  for (let expert = 0; expert < numExperts; expert++) {
    runners.push(
      await createExpertRunner(
        buildSwigluGraph({
          hiddenSize,
          intermediateSize,
          gate: weights(intermediateSize * hiddenSize),
          up: weights(intermediateSize * hiddenSize),
          down: weights(hiddenSize * intermediateSize),
        }),
        { threads: 1 },
      ),
    );
  }
  const runner = (_layer: number, expert: number) => runners[expert]!;
  const inProcess = createInProcessMoeStep({ run: (_l, e, x, n) => runners[e]!.run(x, n) });
  const results: Record<string, unknown> = {
    hiddenSize,
    intermediateSize,
    numExperts,
    topK,
    executor: 'in-process ONNX (onnxruntime-node, 1 thread per expert session)',
  };

  // 1. Overhead: one compute lane, so the critical path of expert compute = Σ compute.
  const overhead: Record<string, unknown>[] = [];
  for (const numTokens of quick ? [1024] : [1024, 10240]) {
    const routing = randomRouting(numTokens, numTokens, hiddenSize, numExperts, topK);
    const request = { layer: 0, numTokens, hiddenSize, topK, ...routing };
    for (const beta of [256, 1024]) {
      const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta });
      const executor = createOnnxExecutor({ plan, runner, singleLane: true });
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
    }
  }
  results.overhead = overhead;

  // 2. Speed-up over sequential dispatch: sessions run concurrently (2 cores here).
  const speedup: Record<string, unknown>[] = [];
  for (const numTokens of quick ? [1024] : [1024, 10240]) {
    const routing = randomRouting(numTokens + 1, numTokens, hiddenSize, numExperts, topK);
    const request = { layer: 0, numTokens, hiddenSize, topK, ...routing };
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta: 256 });
    const executor = createOnnxExecutor({ plan, runner });
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
  }
  results.speedup = speedup;

  // 3. Hedging against stragglers: 5 % of invocations arrive 150 ms late (seeded), 2 replicas.
  const hedging: Record<string, unknown>[] = [];
  const numTokens = 1024;
  const calls = quick ? 20 : 40;
  for (const hedge of [false, true]) {
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta: 64, replicas: 2 });
    const executor = createFaultInjectingExecutor(createOnnxExecutor({ plan, runner }), {
      seed: 5,
      lateRate: 0.05,
      lateMs: 150,
    });
    const step = createRemoteMoeStep({
      plan,
      executor,
      hedge: { enabled: hedge, quantile: 0.9, minSamples: 32 },
    });
    const walls: number[] = [];
    for (let i = 0; i < calls; i++) {
      const routing = randomRouting(1000 + i, numTokens, hiddenSize, numExperts, topK);
      const started = performance.now();
      await step({ layer: 0, numTokens, hiddenSize, topK, ...routing });
      walls.push(performance.now() - started);
    }
    const summary = step.summary();
    hedging.push({
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
  }
  results.hedging = hedging;
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
  console.log('\nhedging vs stragglers (5 % of invocations +150 ms, 1,024 tokens, β 64, 2 replicas)');
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
  void combineExpertOutputs;
}

await main();
