/**
 * Predictor benchmarks, one command: fitting throughput (token-layer observations per second, full
 * fit = counting + empirical Bayes + 4-fold cross-fitted interval calibration), online update
 * throughput, the latency of predicting one 10,240-token batch's load, and accuracy / interval
 * calibration on the held-out traces. Prints tables and writes bench-results/predictor.json.
 *
 *   pnpm --filter @switchyard/predictor bench [-- --quick]
 *   node --conditions=@switchyard/source --import tsx bench/predictor.ts [--quick]
 *
 * `--quick` runs every case once or a few times, to check the benchmark works; it prints the tables
 * but does not write bench-results/predictor.json (its timings are not figures).
 *
 * Timing: the machine may be shared, so every figure carries the load average, every case is
 * repeated, and throughput uses the median CPU time of the process (the minimum is printed too).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { median, type RoutingTrace, readRoutingTrace } from '@switchyard/core';
import {
  type EvaluationResult,
  evaluatePredictor,
  type FitOptions,
  fitPredictor,
  type Predictor,
} from '../src/index.js';

const root = resolve(import.meta.dirname, '../../..');
const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write(
    'usage: bench/predictor.ts [--quick]   (--quick: few repeats, no bench-results file)\n',
  );
  process.exit(0);
}
const quick = args.includes('--quick');
/** Timed repeats of a case (and untimed warm-ups), fewer with --quick. */
const repeatsOf = (full: number): number => (quick ? Math.min(full, 1) : full);
const load = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

interface Timing {
  wallMs: number[];
  cpuMs: number[];
}
function timeOnce(run: () => void, into: Timing): void {
  const cpu = process.cpuUsage();
  const start = performance.now();
  run();
  into.wallMs.push(performance.now() - start);
  const used = process.cpuUsage(cpu);
  into.cpuMs.push((used.user + used.system) / 1000);
}

interface TimingRow {
  case: string;
  strategy: string;
  experts: string;
  tokens: number;
  repeats: number;
  medianWallMs: number;
  medianCpuMs: number;
  minCpuMs: number;
  observationsPerSecond?: number;
  target: string;
  pass?: boolean;
  loadAverage: string;
}
const timingRows: TimingRow[] = [];

interface Traces {
  name: string;
  shape: string;
  calibration: RoutingTrace;
  heldout: RoutingTrace;
}

async function traces(name: string, shape: string): Promise<Traces> {
  const dir = resolve(root, 'fixtures/traces', name);
  return {
    name,
    shape,
    calibration: await readRoutingTrace(`${dir}/calibration.safetensors`),
    heldout: await readRoutingTrace(`${dir}/heldout.safetensors`),
  };
}

/**
 * Fits each strategy `repeats` times in a block (after one warm-up), default first, so one strategy's
 * garbage is not collected during the other's timed fits.
 */
function fitRows(set: Traces, repeats: number, target: boolean): Record<string, Predictor> {
  const strategies = ['default', 'paper'] as const;
  const timings = Object.fromEntries(strategies.map((s) => [s, { wallMs: [], cpuMs: [] } as Timing]));
  const fitted: Record<string, Predictor> = {};
  for (const strategy of strategies) {
    fitted[strategy] = fitPredictor(set.calibration, { strategy });
    for (let i = 0; i < repeats; i++)
      timeOnce(() => {
        fitted[strategy] = fitPredictor(set.calibration, { strategy });
      }, timings[strategy]!);
  }
  const observations = set.calibration.numTokens * set.calibration.numLayers;
  for (const strategy of strategies) {
    const timing = timings[strategy]!;
    const perSecond = observations / (median(timing.cpuMs) / 1000);
    const isTarget = target && strategy === 'default';
    timingRows.push({
      case: `fit ${set.name} (${set.calibration.numTokens} tokens × ${set.calibration.numLayers} layers; counts + EB + 4-fold calibration)`,
      strategy,
      experts: set.shape,
      tokens: set.calibration.numTokens,
      repeats,
      medianWallMs: median(timing.wallMs),
      medianCpuMs: median(timing.cpuMs),
      minCpuMs: Math.min(...timing.cpuMs),
      observationsPerSecond: perSecond,
      target: isTarget ? '≥ 1,000,000 obs/s' : 'info',
      pass: isTarget ? perSecond >= 1_000_000 : undefined,
      loadAverage: load(),
    });
  }
  // Online conjugate update: predictive log-likelihood, interval record and counting, default strategy.
  const predictor = fitPredictor(set.calibration);
  const batch = { tokens: set.calibration.tokens, topkIds: set.calibration.topkIds };
  const updates: Timing = { wallMs: [], cpuMs: [] };
  const updateRepeats = repeatsOf(3);
  for (let i = 0; i < updateRepeats; i++) timeOnce(() => predictor.observe(batch), updates);
  timingRows.push({
    case: `observe ${set.name} (log-likelihood + interval record + conjugate update)`,
    strategy: 'default',
    experts: set.shape,
    tokens: set.calibration.numTokens,
    repeats: updateRepeats,
    medianWallMs: median(updates.wallMs),
    medianCpuMs: median(updates.cpuMs),
    minCpuMs: Math.min(...updates.cpuMs),
    observationsPerSecond: observations / (median(updates.cpuMs) / 1000),
    target: 'info',
    loadAverage: load(),
  });
  return fitted;
}

function loadRows(set: Traces, fitted: Record<string, Predictor>, target: boolean): void {
  const T = 10_240;
  const held = set.heldout;
  const tokens = held.tokens.subarray(0, T);
  const topkIds = new Int16Array(held.numLayers * T * held.topK);
  const attentionIds = held.attentionIds ? new Int32Array(held.numLayers * T) : undefined;
  for (let layer = 0; layer < held.numLayers; layer++) {
    topkIds.set(
      held.topkIds.subarray(layer * held.numTokens * held.topK, (layer * held.numTokens + T) * held.topK),
      layer * T * held.topK,
    );
    attentionIds?.set(
      held.attentionIds!.subarray(layer * held.numTokens, layer * held.numTokens + T),
      layer * T,
    );
  }
  const modes = [
    { label: 'tokens only', batch: { tokens }, target },
    { label: "with previous layer's routing", batch: { tokens, topkIds }, target },
    ...(attentionIds
      ? [{ label: 'with routing and attention ids', batch: { tokens, topkIds, attentionIds }, target: false }]
      : []),
  ];
  for (const mode of modes)
    for (const [strategy, predictor] of Object.entries(fitted)) {
      for (let i = 0; i < repeatsOf(20); i++) predictor.predictLoad(mode.batch);
      const timing: Timing = { wallMs: [], cpuMs: [] };
      const loadRepeats = repeatsOf(41);
      for (let i = 0; i < loadRepeats; i++) timeOnce(() => predictor.predictLoad(mode.batch), timing);
      const cpuMs = median(timing.cpuMs);
      timingRows.push({
        case: `predictLoad ${set.name} 10,240 tokens (${mode.label})`,
        strategy,
        experts: set.shape,
        tokens: T,
        repeats: loadRepeats,
        medianWallMs: median(timing.wallMs),
        medianCpuMs: cpuMs,
        minCpuMs: Math.min(...timing.cpuMs),
        target: mode.target ? '≤ 5 ms' : 'info',
        pass: mode.target ? cpuMs <= 5 : undefined,
        loadAverage: load(),
      });
    }
}

interface AccuracyRow {
  trace: string;
  predictor: string;
  hitAtK: number;
  loadErr: number;
  intervalCoverage: number;
  relativeIntervalWidth: number;
  coveragePerLayer: string;
  target: string;
  pass?: boolean;
}
const accuracyRows: AccuracyRow[] = [];

function scoreAccuracy(set: Traces, fitted: Record<string, Predictor>): void {
  const tokenOnly: FitOptions = { contextTokens: 0, usePreviousLayer: false, useAttention: false };
  const results: [string, EvaluationResult][] = [
    ['token-id posterior', evaluatePredictor(fitPredictor(set.calibration, tokenOnly), set.heldout)],
    ['paper', evaluatePredictor(fitted.paper!, set.heldout)],
    ['default', evaluatePredictor(fitted.default!, set.heldout)],
  ];
  const baseline = results[0]![1];
  for (const [name, result] of results) {
    const isDefault = name === 'default';
    const calibrated = result.intervalCoverage >= 0.85 && result.intervalCoverage <= 0.95;
    const beats = result.hitAtK > baseline.hitAtK && result.loadErr < baseline.loadErr;
    accuracyRows.push({
      trace: set.name,
      predictor: name,
      hitAtK: result.hitAtK,
      loadErr: result.loadErr,
      intervalCoverage: result.intervalCoverage,
      relativeIntervalWidth: result.relativeIntervalWidth,
      coveragePerLayer: result.perLayer.map((layer) => layer.intervalCoverage.toFixed(3)).join(' '),
      target: isDefault ? 'coverage 0.85–0.95; beats token-id posterior' : 'info',
      pass: isDefault ? calibrated && beats : undefined,
    });
  }
}

function printTable(rows: object[], columns: string[]): void {
  const format = (value: unknown): string => {
    if (value === undefined) return '';
    if (typeof value === 'number') {
      if (Number.isInteger(value)) return value.toLocaleString('en-US');
      if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
      return value < 1 ? value.toFixed(4) : value.toFixed(2);
    }
    return String(value);
  };
  const cell = (row: object, column: string): string => format((row as Record<string, unknown>)[column]);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row, column).length)),
  );
  const line = (cells: string[]): void => {
    process.stdout.write(`${cells.map((value, i) => value.padEnd(widths[i]!)).join('  ')}\n`);
  };
  line(columns);
  line(widths.map((width) => '─'.repeat(width)));
  for (const row of rows) line(columns.map((column) => cell(row, column)));
}

const startLoad = load();
const shakespeare = await traces('shakespeare-mixtral-8x2', '4 × 8 top-2');
const olmoe = await traces('olmoe-64x8-random', '4 × 64 top-8');
const fittedShakespeare = fitRows(shakespeare, repeatsOf(9), true);
const fittedOlmoe = fitRows(olmoe, repeatsOf(5), false);
loadRows(olmoe, fittedOlmoe, true);
loadRows(shakespeare, fittedShakespeare, false);
scoreAccuracy(shakespeare, fittedShakespeare);
scoreAccuracy(olmoe, fittedOlmoe);

process.stdout.write(`load average at start: ${startLoad}; at end: ${load()} (1, 5, 15 min)\n\n`);
printTable(timingRows, [
  'case',
  'strategy',
  'experts',
  'medianCpuMs',
  'minCpuMs',
  'medianWallMs',
  'observationsPerSecond',
  'target',
  'pass',
  'loadAverage',
]);
process.stdout.write('\nfit on calibration, scored on held-out, B = 1024, nominal 90 % intervals\n');
printTable(accuracyRows, [
  'trace',
  'predictor',
  'hitAtK',
  'loadErr',
  'intervalCoverage',
  'relativeIntervalWidth',
  'coveragePerLayer',
  'target',
  'pass',
]);
if (quick) {
  process.stdout.write('--quick: bench-results/predictor.json not written\n');
  process.exit(0);
}
mkdirSync(resolve(root, 'bench-results'), { recursive: true });
const out = resolve(root, 'bench-results/predictor.json');
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      loadAverageAtStart: startLoad,
      loadAverageAtEnd: load(),
      note: 'observationsPerSecond and pass use the median CPU time of the process (the machine may be shared); relativeIntervalWidth = Σ(high − low) / Σ mean load',
      timing: timingRows,
      accuracy: accuracyRows,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`wrote ${out}\n`);
