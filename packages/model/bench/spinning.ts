/**
 * Why every session here runs with `session.intra_op.allow_spinning = 0`: the workload of an expert
 * function or of the in-process model (many sessions, run one after another) timed in child processes
 * with onnxruntime's default (pool threads spin after a run) and with this package's `sessionOptions`
 * (no spinning), alternately, so both see the same machine. A spinning pool only hurts other sessions,
 * so the two settings cannot share one process.
 *
 * Each child loads the 32 routed experts of fixtures/checkpoints/shakespeare-mixtral-8x2 at 1 and at 2
 * threads and runs rounds of every (threads, tokens) cell in a seeded shuffled order, each cell once on
 * the next expert and then in a burst of 8 calls over the next experts (a layer's experts back to back).
 *
 *   pnpm --filter @switchyard/model bench -- --only spinning      (part of the model benchmark)
 *   node --conditions=@switchyard/source --import tsx bench/spinning.ts --child on|off   (one child)
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createRandom, median, quantile } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../src/expert-runner.js';
import { buildExpertGraph, loadModel } from '../src/index.js';

const tokenCounts = [16, 64, 256, 1024];
const threadCounts = [1, 2];
const burst = 8;

interface ChildCell {
  threads: number;
  tokens: number;
  minMs: number;
  medianMs: number;
  p90Ms: number;
}
interface ChildResult {
  spinning: boolean;
  wallMs: number;
  cpuMs: number;
  cells: ChildCell[];
}

/** One child: the round-robin workload with or without spinning; prints its result as JSON. */
async function child(spinning: boolean, rounds: number): Promise<ChildResult> {
  const model = await loadModel(
    join(import.meta.dirname, '../../../fixtures/checkpoints/shakespeare-mixtral-8x2'),
  );
  const H = model.config.hiddenSize;
  const graphs = model.summary.moeLayers.flatMap((layer) =>
    Array.from({ length: model.summary.numExperts }, (_, expert) => buildExpertGraph(model, layer, expert)),
  );
  const options = (threads: number): ort.InferenceSession.SessionOptions => ({
    ...sessionOptions(threads),
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  });
  const pools = new Map<number, ort.InferenceSession[]>();
  for (const threads of threadCounts)
    pools.set(
      threads,
      await Promise.all(graphs.map((g) => ort.InferenceSession.create(g, options(threads)))),
    );
  const random = createRandom(20261206);
  const input = Float32Array.from({ length: Math.max(...tokenCounts) * H }, () => random() * 2 - 1);
  let next = 0;
  const call = async (threads: number, tokens: number): Promise<number> => {
    const pool = pools.get(threads)!;
    const session = pool[next++ % pool.length]!;
    const x = new ort.Tensor('float32', input.subarray(0, tokens * H), [tokens, H]);
    const started = performance.now();
    await session.run({ hidden_states: x });
    return performance.now() - started;
  };
  const cells = threadCounts.flatMap((threads) =>
    tokenCounts.map((tokens) => ({ threads, tokens, times: [] as number[] })),
  );
  for (const cell of cells) for (let i = 0; i < 3; i++) await call(cell.threads, cell.tokens);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (let j = cells.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [cells[j], cells[k]] = [cells[k]!, cells[j]!];
    }
    for (const cell of cells)
      for (let i = 0; i <= burst; i++) cell.times.push(await call(cell.threads, cell.tokens));
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  for (const pool of pools.values()) await Promise.all(pool.map((session) => session.release()));
  return {
    spinning,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cells: cells
      .sort((a, b) => a.threads - b.threads || a.tokens - b.tokens)
      .map(({ threads, tokens, times }) => {
        return {
          threads,
          tokens,
          minMs: Math.min(...times),
          medianMs: median(times),
          p90Ms: quantile(times, 0.9),
        };
      }),
  };
}

/** Runs children alternately (off, on, off, on, …) and compares: ratios of spinning to not spinning. */
export async function spinningBenchmark(options: { pairs: number; rounds: number }) {
  const runs: ChildResult[] = [];
  for (let pair = 0; pair < options.pairs; pair++)
    for (const spinning of [false, true]) {
      const output = execFileSync(
        process.execPath,
        [
          ...process.execArgv,
          import.meta.filename,
          '--child',
          spinning ? 'on' : 'off',
          '--rounds',
          String(options.rounds),
        ],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      runs.push(JSON.parse(output.trim().split('\n').at(-1)!) as ChildResult);
    }
  const of = (spinning: boolean) => runs.filter((run) => run.spinning === spinning);
  const [off, on] = [of(false), of(true)];
  const rows = off[0]!.cells.map((cell, index) => {
    const offMedian = median(off.map((run) => run.cells[index]!.medianMs));
    const onMedian = median(on.map((run) => run.cells[index]!.medianMs));
    return {
      threads: cell.threads,
      tokens: cell.tokens,
      offMinMs: Number(median(off.map((run) => run.cells[index]!.minMs)).toFixed(4)),
      offMedianMs: Number(offMedian.toFixed(4)),
      offP90Ms: Number(median(off.map((run) => run.cells[index]!.p90Ms)).toFixed(4)),
      onMinMs: Number(median(on.map((run) => run.cells[index]!.minMs)).toFixed(4)),
      onMedianMs: Number(onMedian.toFixed(4)),
      onP90Ms: Number(median(on.map((run) => run.cells[index]!.p90Ms)).toFixed(4)),
      medianRatioOnOverOff: Number((onMedian / offMedian).toFixed(2)),
    };
  });
  const wall = { off: median(off.map((run) => run.wallMs)), on: median(on.map((run) => run.wallMs)) };
  const cpu = { off: median(off.map((run) => run.cpuMs)), on: median(on.map((run) => run.cpuMs)) };
  return {
    pairs: options.pairs,
    rounds: options.rounds,
    callsPerCellPerChild: options.rounds * (burst + 1),
    wallMs: {
      off: Math.round(wall.off),
      on: Math.round(wall.on),
      ratioOnOverOff: Number((wall.on / wall.off).toFixed(2)),
    },
    cpuMs: {
      off: Math.round(cpu.off),
      on: Math.round(cpu.on),
      ratioOnOverOff: Number((cpu.on / cpu.off).toFixed(2)),
    },
    rows,
  };
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  const roundsIndex = process.argv.indexOf('--rounds');
  const rounds = roundsIndex >= 0 ? Number(process.argv[roundsIndex + 1]) : 40;
  const result = await child(process.argv[childIndex + 1] === 'on', rounds);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
