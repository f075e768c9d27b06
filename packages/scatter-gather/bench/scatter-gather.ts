/**
 * Scatter-gather benchmark: orchestration overhead, speed-up over sequential dispatch, β and
 * hedging vs tail latency.
 *
 *   node --conditions=@switchyard/source --import tsx bench/scatter-gather.ts [--quick] [--overhead-only]
 *
 * Executor: in-process worker threads running real ONNX SwiGLU expert graphs (onnxruntime-node,
 * 1 thread per session; the wire decode/encode of the "function" side runs in the worker too), no
 * network and no processes — isolates the orchestrator's own cost from the local runtime's HTTP and
 * process hop (benchmarked in lambda-executor). Prints tables and writes
 * bench-results/scatter-gather.json (or scatter-gather-overhead.json with --overhead-only).
 *
 * Overhead = wall time of the MoeStep call (request in → combined [T×H] output returned) minus the
 * critical path of expert compute, measured in the same call: each worker lane serves one request
 * at a time, so a lane's compute is the sum of its measured session.run times, and the critical
 * path is the largest lane sum (with one lane: the sum of all of them). Beside it, the same share of
 * uncontended compute: the warm-up call's requests replayed one at a time after each measured call,
 * with no orchestrator running (critical path Σ for one lane, max(Σ ÷ lanes, longest call) for more).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, delay, type Executor, type InvokeRequest, median, quantile } from '@switchyard/core';
import {
  buildSwigluGraph,
  createExpertRunner,
  createInProcessMoeStep,
  type ExpertRunner,
} from '@switchyard/model';
import { createFaultInjectingExecutor, createRemoteMoeStep } from '../src/index.js';
import { createJsExecutor, makePlan, randomRouting } from '../test/helpers.js';
import { threadCpuMs } from './thread-cpu.js';
import { createWorkerExecutor } from './worker-executor.js';

const quick = process.argv.includes('--quick');
/** Only the overhead section (results to scatter-gather-overhead.json). */
const overheadOnly = process.argv.includes('--overhead-only');
const hiddenSize = 768; // BERT-MoE shape from the paper (FFN 3072), as a SwiGLU expert
const intermediateSize = 3072;
const numExperts = 8;
const topK = 2;
const overheadRepeats = quick ? 3 : 7;
const repeats = quick ? 2 : 3;

// Statistics are core's. The committed figures' medians are over odd counts (7 overhead runs, 3
// speed-up runs), where core's median is the middle run, as the bench's former copy took it (with
// --quick the 2-run speed-up median is now the mean of both); `quantile` is nearest-rank as before.
const load = (): string =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
/** CPU time of the main thread (the orchestrator), ms; see thread-cpu.ts. */
const mainThreadCpuMs = threadCpuMs;

/**
 * Lambda-like elastic capacity: every invocation runs at once, taking `fixedMs + perTokenMs ×
 * tokens` (simulated service time; the JS stand-in expert computes the rows).
 */
function createElasticExecutor(fixedMs: number, perTokenMs: number): Executor {
  const inner = createJsExecutor();
  return {
    async invoke(request) {
      const view = new DataView(request.payload.buffer, request.payload.byteOffset, 16);
      await delay(fixedMs + perTokenMs * view.getUint32(12, true), request.signal);
      return inner.invoke(request);
    },
  };
}

async function main(): Promise<void> {
  const random = createRandom(17);
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
    node: process.version,
    hiddenSize,
    intermediateSize,
    numExperts,
    topK,
    executor:
      'in-process: worker threads running real ONNX expert graphs (onnxruntime-node, 1 thread per session)',
    command: `node --conditions=@switchyard/source --import tsx packages/scatter-gather/bench/scatter-gather.ts${overheadOnly ? ' --overhead-only' : ''}${quick ? ' --quick' : ''}`,
  };

  // 1. Overhead. Remote and in-process calls interleave; every figure is a median over repeats.
  const overhead: Record<string, unknown>[] = [];
  // The plans are `direct`, which is cut only at the payload limit (one invocation per replica
  // otherwise; dispatch-layer.ts), so β does not change their mini-batches: one β per row.
  const overheadCases: { numTokens: number; beta: number; lanes: number }[] = [];
  for (const lanes of [1, 2])
    for (const numTokens of [1024, 10240]) overheadCases.push({ numTokens, beta: 256, lanes });
  for (const { numTokens, beta, lanes } of overheadCases) {
    const loadBefore = load();
    const routing = randomRouting(numTokens, numTokens, hiddenSize, numExperts, topK);
    const request = { layer: 0, numTokens, hiddenSize, topK, ...routing };
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta });
    const executor = await createWorkerExecutor({ plan, graphs, lanes });
    // The warm-up call's requests are recorded: the same calls, replayed later with no
    // orchestrator running, give the uncontended per-call compute.
    const recorded: InvokeRequest[] = [];
    let recording = true;
    const recordingExecutor: Executor = {
      invoke(call) {
        if (recording) recorded.push({ functionName: call.functionName, payload: call.payload.slice() });
        return executor.invoke(call);
      },
      recycle: (payload) => executor.recycle?.(payload),
    };
    const step = createRemoteMoeStep({ plan, executor: recordingExecutor });
    await step(request); // warm-up: sessions, buffer pools
    recording = false;
    /**
     * Uncontended compute: every recorded call sent alone (one in flight, the main thread only
     * waiting), its session.run time summed; the critical path over `lanes` lanes is at least the
     * balanced share of that sum and at least the longest call.
     */
    const uncontendedCompute = async (): Promise<{
      criticalPathMs: number;
      sumMs: number;
      sumCpuMs: number;
    }> => {
      executor.resetComputeMs();
      const calls: number[] = [];
      for (const call of recorded) {
        const answer = await executor.invoke(call);
        calls.push(answer.billing.durationMs);
        executor.recycle?.(answer.payload);
      }
      const sum = calls.reduce((total, ms) => total + ms, 0);
      const sumCpuMs = executor.laneTimes().reduce((total, lane) => total + lane.computeCpuMs, 0);
      return { criticalPathMs: lanes === 1 ? sum : Math.max(sum / lanes, ...calls), sumMs: sum, sumCpuMs };
    };
    const reference = await inProcess(request);
    const runs: {
      wallMs: number;
      criticalPathMs: number;
      sumComputeMs: number;
      functionWireMs: number;
      leadMs: number;
      gapsMs: number;
      tailMs: number;
      mainBusyMs: number;
      inProcessMs: number;
      uncontendedMs: number;
      uncontendedSumMs: number;
      uncontendedSumCpuMs: number;
      expertCpuMs: number;
      mainCpuMs: number | undefined;
      reusedWallMs: number;
      reusedMainCpuMs: number | undefined;
    }[] = [];
    let identical = true;
    // Side by side with each measured call: the same call writing into a caller-provided output
    // (`MoeStepRequest.output`, one buffer handed back every time) instead of a fresh T × H array.
    const reusedOutput = new Float32Array(numTokens * hiddenSize);
    const reusedCall = async (): Promise<{ wallMs: number; mainCpuMs: number | undefined }> => {
      const cpuBefore = mainThreadCpuMs();
      const started = performance.now();
      const out = await step({ ...request, output: reusedOutput });
      const wallMs = performance.now() - started;
      const cpuAfter = mainThreadCpuMs();
      identical &&= out === reusedOutput && Buffer.from(out.buffer).equals(Buffer.from(reference.buffer));
      return {
        wallMs,
        mainCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      };
    };
    await step({ ...request, output: reusedOutput }); // its warm-up: the buffer's pages faulted in once
    for (let i = 0; i < overheadRepeats; i++) {
      // Alternate which of the two goes first, so neither always inherits the other's garbage.
      const reusedFirst = i % 2 === 1 ? await reusedCall() : undefined;
      executor.resetComputeMs();
      const elu = performance.eventLoopUtilization();
      const cpuBefore = mainThreadCpuMs();
      const startedAt = performance.timeOrigin + performance.now();
      const started = performance.now();
      const out = await step(request);
      const wallMs = performance.now() - started;
      const endedAt = performance.timeOrigin + performance.now();
      const mainBusyMs = performance.eventLoopUtilization(elu).active;
      const cpuAfter = mainThreadCpuMs();
      const lanesTimes = executor.laneTimes();
      identical &&= Buffer.from(out.buffer).equals(Buffer.from(reference.buffer));
      const inProcessStarted = performance.now();
      await inProcess(request);
      const inProcessMs = performance.now() - inProcessStarted;
      const reused = reusedFirst ?? (await reusedCall());
      const uncontended = await uncontendedCompute();
      runs.push({
        reusedWallMs: reused.wallMs,
        reusedMainCpuMs: reused.mainCpuMs,
        wallMs,
        criticalPathMs: Math.max(...lanesTimes.map((lane) => lane.computeMs)),
        sumComputeMs: lanesTimes.reduce((sum, lane) => sum + lane.computeMs, 0),
        functionWireMs: Math.max(...lanesTimes.map((lane) => lane.decodeMs + lane.encodeMs)),
        // Where the non-compute time sits on the busiest lane's timeline: before its first
        // session.run, between runs (function-side decode/encode, thread hops, waiting for
        // work), after its last run (response, last fold).
        ...(() => {
          const busiest = lanesTimes.reduce((a, b) => (b.computeMs > a.computeMs ? b : a));
          return {
            leadMs: Math.min(...lanesTimes.map((lane) => lane.firstComputeAt)) - startedAt,
            gapsMs: busiest.lastComputeEndAt - busiest.firstComputeAt - busiest.computeMs,
            tailMs: endedAt - Math.max(...lanesTimes.map((lane) => lane.lastComputeEndAt)),
          };
        })(),
        mainBusyMs,
        inProcessMs,
        uncontendedMs: uncontended.criticalPathMs,
        uncontendedSumMs: uncontended.sumMs,
        uncontendedSumCpuMs: uncontended.sumCpuMs,
        expertCpuMs: lanesTimes.reduce((sum, lane) => sum + lane.computeCpuMs, 0),
        mainCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      });
    }
    const shares = runs.map((run) => (run.wallMs - run.criticalPathMs) / run.criticalPathMs);
    const uncontendedShares = runs.map((run) => (run.wallMs - run.uncontendedMs) / run.uncontendedMs);
    const mainCpu = runs.map((run) => run.mainCpuMs).filter((ms) => ms !== undefined);
    // When the lanes fill every core (two lanes on a 2-core machine), each ms of orchestrator CPU
    // is a ms no expert ran: wall ≥ (Σ compute + main CPU) ÷ lanes, so main-thread CPU ÷ Σ
    // compute is the overhead the orchestrator's own work adds. Both in CPU time (the experts' from
    // the uncontended replay), so neither grows while a thread waits for a core: it holds under load.
    const cpuShares = runs.flatMap((run) =>
      run.mainCpuMs === undefined || run.uncontendedSumCpuMs <= 0
        ? []
        : [run.mainCpuMs / run.uncontendedSumCpuMs],
    );
    const reusedUncontendedShares = runs.map(
      (run) => (run.reusedWallMs - run.uncontendedMs) / run.uncontendedMs,
    );
    const reusedCpu = runs.map((run) => run.reusedMainCpuMs).filter((ms) => ms !== undefined);
    const reusedCpuShares = runs.flatMap((run) =>
      run.reusedMainCpuMs === undefined || run.uncontendedSumCpuMs <= 0
        ? []
        : [run.reusedMainCpuMs / run.uncontendedSumCpuMs],
    );
    const row = {
      numTokens,
      beta,
      lanes,
      miniBatches: step.summary().layers[0]!.miniBatches / step.summary().layerCalls,
      wallMs: median(runs.map((run) => run.wallMs)),
      computeCriticalPathMs: median(runs.map((run) => run.criticalPathMs)),
      overheadMs: median(runs.map((run) => run.wallMs - run.criticalPathMs)),
      overheadShare: median(shares),
      overheadShareMin: Math.min(...shares),
      overheadShareMax: Math.max(...shares),
      // Against the same calls' compute measured alone (no orchestrator beside them): the
      // orchestrator's CPU no longer counts as compute. Every run, the median and the worst.
      uncontendedCriticalPathMs: median(runs.map((run) => run.uncontendedMs)),
      overheadShareUncontendedRuns: uncontendedShares,
      overheadShareUncontended: median(uncontendedShares),
      overheadShareUncontendedWorst: Math.max(...uncontendedShares),
      functionSideWireMs: median(runs.map((run) => run.functionWireMs)),
      leadMs: median(runs.map((run) => run.leadMs)),
      gapsMs: median(runs.map((run) => run.gapsMs)),
      tailMs: median(runs.map((run) => run.tailMs)),
      mainThreadBusyMs: median(runs.map((run) => run.mainBusyMs)),
      // CPU time of the orchestrator's thread per call (/proc, 10 ms ticks; absent off Linux).
      ...(mainCpu.length > 0
        ? {
            mainThreadCpuMsRuns: mainCpu,
            mainThreadCpuMs: median(mainCpu),
            // Σ CPU time of the experts' session.run calls: in the measured call and in the replay.
            expertCpuMs: median(runs.map((run) => run.expertCpuMs)),
            uncontendedExpertCpuMs: median(runs.map((run) => run.uncontendedSumCpuMs)),
            mainThreadCpuShareOfExpertCpuRuns: cpuShares,
            mainThreadCpuShareOfExpertCpu: median(cpuShares),
            mainThreadCpuShareOfExpertCpuWorst: Math.max(...cpuShares),
          }
        : {}),
      // The same call with a caller-provided output buffer (MoeStepRequest.output), side by side.
      reusedOutput: {
        wallMs: median(runs.map((run) => run.reusedWallMs)),
        overheadShareUncontendedRuns: reusedUncontendedShares,
        overheadShareUncontended: median(reusedUncontendedShares),
        overheadShareUncontendedWorst: Math.max(...reusedUncontendedShares),
        ...(reusedCpu.length > 0
          ? {
              mainThreadCpuMsRuns: reusedCpu,
              mainThreadCpuMs: median(reusedCpu),
              mainThreadCpuShareOfExpertCpuRuns: reusedCpuShares,
              mainThreadCpuShareOfExpertCpu: median(reusedCpuShares),
              mainThreadCpuShareOfExpertCpuWorst: Math.max(...reusedCpuShares),
            }
          : {}),
      },
      uncontendedSumComputeMs: median(runs.map((run) => run.uncontendedSumMs)),
      sumComputeMs: median(runs.map((run) => run.sumComputeMs)),
      inProcessWallMs: median(runs.map((run) => run.inProcessMs)),
      bitIdenticalToInProcess: identical,
      repeats: overheadRepeats,
      loadBefore,
      loadAfter: load(),
    };
    overhead.push(row);
    await executor.close();
    process.stderr.write(
      `overhead ${numTokens} tokens β ${beta} ${lanes} lane(s): ${(row.overheadShare * 100).toFixed(2)} % of in-call compute, ${(row.overheadShareUncontended * 100).toFixed(2)} % of uncontended compute, main thread ${row.mainThreadCpuMs?.toFixed(0) ?? '–'} ms CPU = ${row.mainThreadCpuShareOfExpertCpu === undefined ? '–' : (row.mainThreadCpuShareOfExpertCpu * 100).toFixed(2)} % of expert CPU; caller's output buffer: ${row.reusedOutput.mainThreadCpuMs?.toFixed(0) ?? '–'} ms = ${row.reusedOutput.mainThreadCpuShareOfExpertCpu === undefined ? '–' : (row.reusedOutput.mainThreadCpuShareOfExpertCpu * 100).toFixed(2)} % (load ${row.loadAfter})\n`,
    );
  }
  results.overhead = overhead;
  const printOverhead = (): void => {
    console.log(
      '\noverhead = wall − critical path of expert compute (max over lanes of Σ session.run), median of',
      overheadRepeats,
      'interleaved calls; share of the critical path',
    );
    console.table(
      overhead.map((o) => ({
        tokens: o.numTokens,
        beta: o.beta,
        lanes: o.lanes,
        batches: o.miniBatches,
        'wall ms': (o.wallMs as number).toFixed(1),
        'compute ms': (o.computeCriticalPathMs as number).toFixed(1),
        'overhead ms': (o.overheadMs as number).toFixed(1),
        'overhead %': ((o.overheadShare as number) * 100).toFixed(2),
        'min–max %': `${((o.overheadShareMin as number) * 100).toFixed(1)}–${((o.overheadShareMax as number) * 100).toFixed(1)}`,
        'uncontended compute ms': (o.uncontendedCriticalPathMs as number).toFixed(1),
        'overhead % of uncontended': ((o.overheadShareUncontended as number) * 100).toFixed(2),
        'worst %': ((o.overheadShareUncontendedWorst as number) * 100).toFixed(1),
        'lead ms': (o.leadMs as number).toFixed(1),
        'gaps ms': (o.gapsMs as number).toFixed(1),
        'tail ms': (o.tailMs as number).toFixed(1),
        'fn wire ms': (o.functionSideWireMs as number).toFixed(1),
        'main busy ms': (o.mainThreadBusyMs as number).toFixed(1),
        'main cpu ms': o.mainThreadCpuMs === undefined ? '–' : (o.mainThreadCpuMs as number).toFixed(0),
        'main cpu % of expert cpu':
          o.mainThreadCpuShareOfExpertCpu === undefined
            ? '–'
            : ((o.mainThreadCpuShareOfExpertCpu as number) * 100).toFixed(1),
        'in-process ms': (o.inProcessWallMs as number).toFixed(1),
        'main cpu % (caller output)': (() => {
          const share = (o.reusedOutput as { mainThreadCpuShareOfExpertCpu?: number })
            .mainThreadCpuShareOfExpertCpu;
          return share === undefined ? '–' : (share * 100).toFixed(1);
        })(),
        'bit-identical': o.bitIdenticalToInProcess,
        load: o.loadAfter,
      })),
    );
  };
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const write = (name: string): void => {
    mkdirSync(join(root, 'bench-results'), { recursive: true });
    writeFileSync(join(root, 'bench-results', name), `${JSON.stringify(results, null, 2)}\n`);
  };
  if (overheadOnly) {
    results.loadAverageAtEnd = os.loadavg();
    printOverhead();
    write('scatter-gather-overhead.json');
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
    const sequential = createRemoteMoeStep({ plan, executor, maxInFlight: 1 });
    const concurrent = createRemoteMoeStep({ plan, executor, maxInFlight: 64 });
    await sequential(request);
    await concurrent(request);
    const sequentialWalls: number[] = [];
    const concurrentWalls: number[] = [];
    for (let i = 0; i < repeats; i++) {
      let started = performance.now();
      await sequential(request);
      sequentialWalls.push(performance.now() - started);
      started = performance.now();
      await concurrent(request);
      concurrentWalls.push(performance.now() - started);
    }
    const sequentialMs = median(sequentialWalls);
    const pipelinedMs = median(concurrentWalls);
    speedup.push({ numTokens, sequentialMs, pipelinedMs, speedup: sequentialMs / pipelinedMs, load: load() });
    await executor.close();
    process.stderr.write(`speed-up ${numTokens} tokens done\n`);
  }
  results.speedup = speedup;

  // 3. β and hedging vs tail latency: 5 % of invocations arrive 150 ms late (seeded), 2 replicas,
  //    1,024 tokens per layer call. (a) elastic executor: every invocation gets its own capacity,
  //    like Lambda (simulated service time 2 ms + 0.08 ms per token, ≈ the ONNX expert's per-row
  //    cost); (b) the real ONNX worker lanes (2, saturated).
  const tail: Record<string, unknown>[] = [];
  const numTokens = 1024;
  const betas = quick ? [64, 256, 1024] : [64, 128, 256, 512, 1024];
  for (const executorKind of ['elastic', 'onnx-2-lanes'] as const) {
    const calls = executorKind === 'elastic' ? (quick ? 20 : 60) : quick ? 6 : 16;
    for (const beta of betas) {
      for (const hedge of [false, true]) {
        const plan = makePlan({ layers: [0], numExperts, hiddenSize, beta, replicas: 2 });
        const workers =
          executorKind === 'onnx-2-lanes'
            ? await createWorkerExecutor({ plan, graphs, lanes: 2 })
            : undefined;
        const inner = workers ?? createElasticExecutor(2, 0.08);
        const executor = createFaultInjectingExecutor(inner, { seed: 5, lateRate: 0.05, lateMs: 150 });
        const step = createRemoteMoeStep({
          plan,
          executor,
          hedge: { enabled: hedge, quantile: 0.95, minSamples: 16 },
        });
        const walls: number[] = [];
        const warmup = 3; // the first calls fill the latency window the hedge quantile reads
        for (let i = 0; i < calls + warmup; i++) {
          const routing = randomRouting(1000 + i, numTokens, hiddenSize, numExperts, topK);
          const started = performance.now();
          await step({ layer: 0, numTokens, hiddenSize, topK, ...routing });
          if (i >= warmup) walls.push(performance.now() - started);
        }
        const summary = step.summary();
        tail.push({
          executor: executorKind,
          beta,
          hedge,
          calls,
          miniBatchesPerCall: summary.layers[0]!.miniBatches / summary.layerCalls,
          p50Ms: quantile(walls, 0.5),
          p95Ms: quantile(walls, 0.95),
          p99Ms: quantile(walls, 0.99),
          maxMs: Math.max(...walls),
          hedges: summary.hedges,
          wastedInvocations: summary.wastedInvocations,
          invocations: summary.invocations,
          load: load(),
        });
        await workers?.close();
      }
      process.stderr.write(`tail ${executorKind} β ${beta} done (load ${load()})\n`);
    }
  }
  results.tail = tail;
  results.loadAverageAtEnd = os.loadavg();
  for (const r of runners) await r.close();

  console.log(
    `scatter-gather benchmark — ${results.executor}; expert ${hiddenSize}×${intermediateSize} SwiGLU, ${numExperts} experts, top-${topK}; load at start ${(results.loadAverageAtStart as number[]).map((v) => v.toFixed(2)).join(' ')}`,
  );
  printOverhead();
  console.log('\nspeed-up over sequential dispatch (2 lanes, β 256; maxInFlight 1 vs 64, interleaved)');
  console.table(
    speedup.map((s) => ({
      tokens: s.numTokens,
      'sequential ms': (s.sequentialMs as number).toFixed(1),
      'concurrent ms': (s.pipelinedMs as number).toFixed(1),
      speedup: (s.speedup as number).toFixed(2),
      load: s.load,
    })),
  );
  console.log(
    '\nβ and hedging vs tail latency (5 % of invocations +150 ms, 1,024 tokens per layer call, 2 replicas; quantiles of layer wall time)',
  );
  console.table(
    tail.map((h) => ({
      executor: h.executor,
      beta: h.beta,
      hedge: h.hedge,
      calls: h.calls,
      batches: (h.miniBatchesPerCall as number).toFixed(0),
      'p50 ms': (h.p50Ms as number).toFixed(1),
      'p95 ms': (h.p95Ms as number).toFixed(1),
      'p99 ms': (h.p99Ms as number).toFixed(1),
      hedges: h.hedges,
      wasted: h.wastedInvocations,
      load: h.load,
    })),
  );
  write('scatter-gather.json');
}

await main();
