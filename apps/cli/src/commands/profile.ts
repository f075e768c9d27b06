import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { basename, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  createRandom,
  type ExpertQuantization,
  expertProcessEnvironment,
  SwitchyardError,
} from '@switchyard/core';
import {
  type ComputePoint,
  checkComputeProfile,
  combineProcessPoints,
  fitComputeProfile,
  linearSummary,
  loadComputeProfile,
  measureComputePoints,
  parseComputeProfile,
} from '@switchyard/cost-model';
import {
  buildExpertGraph,
  createExpertRunner,
  type ExpertRunner,
  loadCheckpoint,
  summarizeCheckpoint,
} from '@switchyard/model';
import { Option } from 'commander';
import { addExamples, addJsonOption } from '../help.js';
import { resolveModelArgument } from '../model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import type { CommandRegistrar } from './index.js';
import { measureFunctionMemory, profileFunctionMemory } from './profile-memory.js';

const runFile = promisify(execFile);

interface ProfileFlags extends QuantizeFlags {
  model: string;
  memoryExperts: string;
  memoryChild?: string;
  out: string;
  threads: string;
  tokens: string;
  heldOut: string;
  processes: string;
  experts: string;
  rounds: string;
  maxRounds: string;
  maxSeconds: string;
  statistic: string;
  compare?: string;
  report?: string;
  child?: boolean;
  json?: boolean;
}

interface Settings {
  threads: number[];
  tokens: number[];
  heldOut: number[];
  processes: number;
  experts: number;
  rounds: number;
  maxRounds: number;
  maxSeconds: number;
  statistic: 'median' | 'min';
}

/** What one child process measured: every cell's points and the checkpoint's shape. */
interface ChildMeasurement {
  points: ComputePoint[];
  hiddenSize: number;
  intermediateSize: number;
  experts: string;
}

function invalid(flag: string, message: string): SwitchyardError {
  return new SwitchyardError({ code: 'INVALID_INPUT', message: `${flag}: ${message}`, location: flag });
}

function positiveIntegers(flag: string, text: string): number[] {
  const values = text.split(',').map((part) => part.trim());
  const numbers = values.map(Number);
  const bad = values.find((part, i) => part === '' || !Number.isInteger(numbers[i]) || numbers[i]! <= 0);
  if (bad !== undefined)
    throw invalid(flag, `expected a comma list of positive integers, got ${JSON.stringify(text)}`);
  if (new Set(numbers).size !== numbers.length) throw invalid(flag, `repeats a value (${text})`);
  return [...numbers].sort((a, b) => a - b);
}

function positiveInteger(flag: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > max)
    throw invalid(flag, `expected a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function statisticOf(text: string): 'median' | 'min' {
  if (text !== 'median' && text !== 'min')
    throw invalid('--statistic', `expected median or min, got ${JSON.stringify(text)}`);
  return text;
}

function settingsOf(flags: ProfileFlags): Settings {
  const threads = positiveIntegers('--threads', flags.threads);
  if (!threads.includes(1))
    throw invalid('--threads', 'must include 1 (every profile has a one-thread curve)');
  const tokens = positiveIntegers('--tokens', flags.tokens);
  if (tokens.length < 2) throw invalid('--tokens', 'needs at least two token counts (the curve’s knots)');
  const heldOut = flags.heldOut.trim() === '' ? [] : positiveIntegers('--held-out', flags.heldOut);
  for (const count of heldOut) {
    if (tokens.includes(count)) throw invalid('--held-out', `${count} is also a knot in --tokens`);
    if (count < tokens[0]! || count > tokens[tokens.length - 1]!)
      throw invalid(
        '--held-out',
        `${count} lies outside the knots ${tokens[0]}–${tokens[tokens.length - 1]}`,
      );
  }
  const rounds = positiveInteger('--rounds', flags.rounds);
  return {
    threads,
    tokens,
    heldOut,
    processes: positiveInteger('--processes', flags.processes, 50),
    experts: positiveInteger('--experts', flags.experts, 4096),
    rounds,
    maxRounds: Math.max(rounds, positiveInteger('--max-rounds', flags.maxRounds)),
    maxSeconds: positiveInteger('--max-seconds', flags.maxSeconds),
    statistic: statisticOf(flags.statistic),
  };
}

/**
 * The measurement inside one process: `experts` routed experts spread over the MoE layers, one
 * session per expert and thread count, run round-robin. Every session runs every cell three times
 * first (a session's first runs, and its first run at a larger call, are far slower), then rounds of
 * every cell in a seeded shuffled order until each cell's odd- and even-run statistics agree within
 * 3 % (at least `rounds`, at most `maxRounds` or `maxSeconds`); each cell keeps its median (or fastest) run.
 */
async function measureInThisProcess(
  dir: string,
  settings: Settings,
  index: number,
  quantization: ExpertQuantization | undefined,
): Promise<ChildMeasurement> {
  const checkpoint = await loadCheckpoint(dir);
  const { hiddenSize, expertIntermediateSize, moeLayers, numExperts } = checkpoint.config;
  const total = moeLayers.length * numExperts;
  const count = Math.min(settings.experts, total);
  const holder = { checkpoint };
  const graphs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const flat = Math.floor((i * total) / count);
    graphs.push(
      buildExpertGraph(holder, moeLayers[Math.floor(flat / numExperts)]!, flat % numExperts, {
        quantization,
      }),
    );
  }
  const pools = new Map<number, ExpertRunner[]>();
  for (const threads of settings.threads)
    pools.set(threads, await Promise.all(graphs.map((bytes) => createExpertRunner(bytes, { threads }))));
  const cells = [...settings.tokens, ...settings.heldOut].sort((a, b) => a - b);
  // Seeded activations, the same in every process.
  const activationSource = createRandom(20261128);
  const input = Float32Array.from(
    { length: cells[cells.length - 1]! * hiddenSize },
    () => activationSource() * 2 - 1,
  );
  let next = 0;
  const runExpert = async (tokens: number, threads: number): Promise<number> => {
    const pool = pools.get(threads)!;
    const runner = pool[next++ % pool.length]!;
    const started = performance.now();
    await runner.run(input.subarray(0, tokens * hiddenSize), tokens);
    return performance.now() - started;
  };
  try {
    for (const threads of settings.threads)
      for (const tokens of cells)
        for (let i = 0; i < 3 * graphs.length; i++) await runExpert(tokens, threads);
    const points = await measureComputePoints({
      runExpert,
      tokenCounts: cells,
      threadCounts: settings.threads,
      repetitions: settings.rounds,
      warmup: 0,
      statistic: settings.statistic,
      spread: true,
      interleave: true,
      maxRepetitions: settings.maxRounds,
      stableFraction: 0.03,
      maxDurationMs: settings.maxSeconds * 1000,
      random: createRandom(12345 + index),
    });
    return {
      points,
      hiddenSize,
      intermediateSize: expertIntermediateSize,
      experts: `${count} of ${total} routed experts (spread over layers ${moeLayers.join(',')}), ${quantization ? `${quantization.format}${quantization.format === 'int4' ? ` block ${quantization.blockSize}` : ''}` : 'float32'} SwiGLU graphs, round-robin`,
    };
  } finally {
    for (const pool of pools.values()) await Promise.all(pool.map((runner) => runner.close()));
  }
}

/** Re-runs this command as a child measurement process with the expert-process environment. */
async function measureInChild(argv: string[], index: number): Promise<ChildMeasurement> {
  const script = process.argv[1];
  if (!script)
    throw new SwitchyardError({ code: 'INTERNAL', message: 'cannot tell how this CLI was started' });
  try {
    const { stdout } = await runFile(process.execPath, [...process.execArgv, script, ...argv, '--child'], {
      env: { ...process.env, ...expertProcessEnvironment, SWITCHYARD_PROFILE_PROCESS: String(index) },
      maxBuffer: 1 << 26,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildMeasurement;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new SwitchyardError({
      code: 'INTERNAL',
      message: `measurement process ${index + 1} failed${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`,
      cause: error,
    });
  }
}

export const registerProfile: CommandRegistrar = (program, context) => {
  const command = program
    .command('profile')
    .description(
      "measure a checkpoint's expert FFNs on this machine into a compute profile (piecewise-linear per thread count) for `plan --compute-profile`",
    )
    .argument('[model]', 'checkpoint directory, or a hub id (org/name) in the local Hugging Face cache')
    .option('--model <dir>', 'the same as the positional model argument')
    .requiredOption('--out <file>', 'where to write the profile JSON')
    .option(
      '--threads <list>',
      'onnxruntime thread counts to measure (must include 1)',
      availableParallelism() > 1 ? '1,2' : '1',
    )
    .option('--tokens <list>', 'token counts of the curve’s knots', '16,32,64,128,256,512,1024,2048')
    .option(
      '--held-out <list>',
      'token counts measured but not used as knots: the profile’s own check (empty: none)',
      '24,48,96,192,384,768,1536',
    )
    .option('--processes <n>', 'separate measurement processes; each cell keeps the median over them', '5')
    .option('--experts <n>', 'routed experts to cycle over, spread over the MoE layers', '32')
    .option('--rounds <n>', 'timed runs per cell and process, at least', '100')
    .option(
      '--max-rounds <n>',
      'timed runs per cell and process while its odd/even-run statistics differ by > 3 %',
      '1000',
    )
    .option('--max-seconds <n>', 'per process: stop adding runs after this long', '60')
    .option(
      '--statistic <name>',
      'what a process keeps per cell: median (a typical call) or min (the fastest)',
      'median',
    )
    .option('--compare <profile>', 'also report how well this existing profile predicts the new measurements')
    .option('--report <file>', 'write every cell (measured, predicted, spread) as JSON here')
    .option(
      '--memory-experts <n>',
      "also measure an expert function's peak RSS with 1 and n experts (0: skip)",
      '4',
    )
    .addOption(new Option('--child').hideHelp())
    .addOption(new Option('--memory-child <n>').hideHelp());
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard profile --model fixtures/checkpoints/shakespeare-mixtral-8x2 --out profile.json',
      description: 'profile the bundled model at 1 and 2 threads (about a minute), then plan with it',
    },
    {
      command:
        'switchyard profile --model fixtures/checkpoints/shakespeare-mixtral-8x2 --quantize int8 --out profile-int8.json',
      description: 'profile its int8 experts (timing and a function’s peak RSS) for `plan --quantize int8`',
    },
    'switchyard profile --model ./my-moe --out my-moe.json --threads 1,2,4 --tokens 32,128,512,2048 --held-out 64,256,1024 --processes 3',
  ]);
  command.action(async (positional: string | undefined, flags: ProfileFlags) => {
    const settings = settingsOf(flags);
    const dir = resolveModelArgument(positional, flags.model, context.env).directory;
    const quantization = quantizationFromFlags(flags);
    const memoryExperts = Number(flags.memoryExperts);
    if (!Number.isInteger(memoryExperts) || memoryExperts < 0 || memoryExperts === 1)
      throw invalid(
        '--memory-experts',
        `expected 0 (skip) or a whole number ≥ 2, got ${JSON.stringify(flags.memoryExperts)}`,
      );
    if (flags.memoryChild) {
      const checkpoint = await loadCheckpoint(dir);
      const weightBytes = summarizeCheckpoint(checkpoint, 'profile', quantization).bytesPerExpert;
      const tokens = settings.tokens[settings.tokens.length - 1]!;
      process.stdout.write(
        `${JSON.stringify(await measureFunctionMemory(dir, Number(flags.memoryChild), tokens, quantization, weightBytes))}\n`,
      );
      return;
    }
    if (flags.child) {
      const index = Number(process.env.SWITCHYARD_PROFILE_PROCESS ?? 0);
      process.stdout.write(
        `${JSON.stringify(await measureInThisProcess(dir, settings, index, quantization))}\n`,
      );
      return;
    }
    // Bad input is reported here, not from inside a measurement process.
    const checkpoint = await loadCheckpoint(dir);
    if (checkpoint.config.moeLayers.length === 0 || checkpoint.config.numExperts === 0)
      throw invalid('--model', `${dir} has no routed experts to profile`);
    // Checks int4's block against the expert dimensions before any process starts.
    if (quantization) buildExpertGraph({ checkpoint }, checkpoint.config.moeLayers[0]!, 0, { quantization });
    const compare = flags.compare ? loadComputeProfile(flags.compare) : undefined;
    const started = performance.now();
    const loadBefore = loadavg()[0]!;
    const argv = process.argv.slice(2).filter((arg) => arg !== '--json');
    const progress = context.output.progress('profile processes', settings.processes);
    const children: ChildMeasurement[] = [];
    for (let index = 0; index < settings.processes; index++) {
      children.push(await measureInChild(argv, index));
      progress.tick(index + 1);
    }
    progress.done();
    const memory =
      memoryExperts >= 2
        ? await profileFunctionMemory(argv, {
            experts: memoryExperts,
            tokens: settings.tokens[settings.tokens.length - 1]!,
            hiddenSize: checkpoint.config.hiddenSize,
            intermediateSize: checkpoint.config.expertIntermediateSize,
          })
        : undefined;
    const loadAfter = loadavg()[0]!;
    const combined = combineProcessPoints(children.map((child) => child.points));
    const knots = combined.filter((point) => settings.tokens.includes(point.tokens));
    const checks = combined.filter((point) => settings.heldOut.includes(point.tokens));
    const runs = children.flatMap((child) => child.points.map((point) => point.repetitions ?? 0));
    const first = children[0]!;
    const profile = parseComputeProfile(
      fitComputeProfile(knots, {
        subject: {
          model: basename(resolve(dir)),
          hiddenSize: first.hiddenSize,
          intermediateSize: first.intermediateSize,
          experts: first.experts,
          quantization,
        },
        machine: {
          description: `${cpus()[0]?.model ?? 'unknown CPU'} (onnxruntime-node CPU)`,
          logicalCpus: cpus().length,
        },
        measurement: `median over ${settings.processes} processes of each one's ${settings.statistic === 'min' ? 'fastest' : 'median'} of ${Math.min(...runs)}–${Math.max(...runs)} interleaved runs per cell (seeded shuffled order, 3 warm-up runs per expert session), onnxruntime pools not spinning, ${Object.entries(
          expertProcessEnvironment,
        )
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}, load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`,
        checks,
      }),
    );
    if (memory) profile.memory = memory;
    await writeFile(flags.out, `${JSON.stringify(profile, null, 2)}\n`).catch((error: unknown) => {
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `cannot write the profile: ${(error as Error).message}`,
        location: flags.out,
        cause: error,
      });
    });
    const heldOut = checkComputeProfile(profile, checks);
    const earlier = compare ? checkComputeProfile(compare, combined) : undefined;
    const cellIndex = (point: ComputePoint) =>
      first.points.findIndex((p) => p.threads === point.threads && p.tokens === point.tokens);
    const rows = combined.map((point) => {
      const perProcess = children.map((child) => child.points[cellIndex(point)]?.durationMs ?? Number.NaN);
      const predictedMs = heldOut.rows.find(
        (r) => r.threads === point.threads && r.tokens === point.tokens,
      )?.predictedMs;
      return {
        set: settings.tokens.includes(point.tokens) ? 'knot' : 'held-out',
        threads: point.threads,
        tokens: point.tokens,
        measuredMs: point.durationMs,
        medianMs: point.medianMs ?? null,
        p90Ms: point.p90Ms ?? null,
        perProcessMs: perProcess,
        spreadPct: ((Math.max(...perProcess) - Math.min(...perProcess)) / Math.min(...perProcess)) * 100,
        predictedMs: predictedMs ?? null,
        errorPct:
          predictedMs === undefined ? null : ((predictedMs - point.durationMs) / point.durationMs) * 100,
      };
    });
    const summary = {
      out: flags.out,
      model: profile.subject.model,
      quantization: quantization ?? { format: 'none' },
      memory: memory ?? null,
      processes: settings.processes,
      elapsedSeconds: (performance.now() - started) / 1000,
      loadAverage: { before: loadBefore, after: loadAfter },
      heldOutMaxAbsErrorPctByThreads: heldOut.maxAbsErrorPctByThreads,
      compared:
        earlier && compare
          ? { createdAt: compare.createdAt, maxAbsErrorPctByThreads: earlier.maxAbsErrorPctByThreads }
          : undefined,
      rows,
    };
    if (flags.report) await writeFile(flags.report, `${JSON.stringify({ ...summary, profile }, null, 2)}\n`);
    context.output.result(summary, () => {
      const ms = (value: number | null) => (value === null ? '—' : value.toFixed(4));
      context.output.table(
        rows.map((row) => ({
          set: row.set,
          threads: row.threads,
          tokens: row.tokens,
          [`${settings.statistic} ms`]: ms(row.measuredMs),
          ...(settings.statistic === 'min' ? { 'median ms': ms(row.medianMs) } : { 'p90 ms': ms(row.p90Ms) }),
          'spread over processes': `${row.spreadPct.toFixed(1)} %`,
          'predicted ms': row.set === 'knot' ? '—' : ms(row.predictedMs),
          error: row.errorPct === null || row.set === 'knot' ? '—' : `${row.errorPct.toFixed(1)} %`,
        })),
        {
          title: `${profile.subject.model}: ${first.experts}, ${settings.processes} processes, ${summary.elapsedSeconds.toFixed(1)} s`,
        },
      );
      for (const threads of settings.threads) {
        const line = linearSummary(profile, threads);
        context.output.line(
          `threads ${threads}: ≈ ${line.fixedMs.toFixed(4)} ms + ${(line.perTokenMs * 1000).toFixed(3)} µs/token (summary; the profile is the measured curve)`,
        );
      }
      if (settings.heldOut.length > 0)
        context.output.line(
          `held-out max |error|: ${settings.threads.map((t) => `${t} thread${t > 1 ? 's' : ''} ${heldOut.maxAbsErrorPctByThreads[t]!.toFixed(1)} %`).join(', ')}`,
        );
      if (earlier && compare)
        context.output.line(
          `${flags.compare} (measured ${compare.createdAt}) against every cell of this run: max |error| ${settings.threads.map((t) => `${t} thread${t > 1 ? 's' : ''} ${(earlier.maxAbsErrorPctByThreads[t] ?? Number.NaN).toFixed(1)} %`).join(', ')}`,
        );
      if (memory)
        context.output.line(
          `function memory: peak RSS ${memory.peakRssOneExpertMB} MB with 1 expert, ${memory.peakRssMB} MB with ${memory.experts} (${memory.tokens} tokens each): ${(memory.residentBytesPerExpert / 1e6).toFixed(2)} MB resident per expert (${(memory.weightBytesPerExpert / 1e6).toFixed(2)} MB of weights), runtime ${memory.runtimeOverheadMB} MB`,
        );
      if (loadBefore > cpus().length)
        context.output.line(
          `load average ${loadBefore.toFixed(1)} on ${cpus().length} CPUs: oversubscribed, re-run on a quiet machine`,
        );
      context.output.line(`wrote ${flags.out}`);
    });
  });
};
