import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitComputeProfile } from '@switchyard/cost-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuEngineRow, CpuEnginesResult } from './cpu-engine-results.js';
import { azureTrace, olmoeDomains, type PaperBenchResult, runPaperBench } from './paper-bench.js';
import { paperBenchInconsistencies } from './paper-check.js';
import { paperHeadlineMarkdown, replaceReadmeHeadline } from './paper-headline.js';

const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures');
const outDir = mkdtempSync(join(tmpdir(), 'paper-bench-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const compute = fitComputeProfile(
  [
    { threads: 1, tokens: 100, durationMs: 7 },
    { threads: 1, tokens: 1000, durationMs: 52 },
    { threads: 2, tokens: 100, durationMs: 4.5 },
    { threads: 2, tokens: 1000, durationMs: 31.5 },
  ],
  {
    subject: { model: 'tiny', hiddenSize: 768, intermediateSize: 3072, experts: 'test' },
    machine: { description: 'test', logicalCpus: 2 },
    createdAt: '2026-11-28T00:00:00Z',
  },
);

const runQuickPaperBench = (cpuEnginesFile: string, out: string) =>
  runPaperBench({
    fixturesDir,
    outDir: out,
    shapes: ['bert-moe-12x4'],
    compute,
    validation: false,
    quick: true,
    tokensPerBatch: 2048,
    maxEvaluations: 4,
    sloFactors: [1.1, 1.5],
    cpuEnginesFile,
    // The quantized rows profile three expert formats and evaluate the bundled model: the bench's job.
    quantized: false,
  });

let result: PaperBenchResult;
beforeAll(async () => {
  result = await runQuickPaperBench(join(outDir, 'no-such-cpu-engines.json'), outDir);
}, 120_000);

describe('runPaperBench', () => {
  it('reads the bundled OLMoE per-domain counts and the Azure trace', () => {
    const domains = olmoeDomains(fixturesDir);
    expect(domains.map((d) => d.name).sort()).toEqual(['arxiv', 'book', 'c4', 'github', 'wikipedia']);
    for (const domain of domains) {
      expect(domain.layers).toHaveLength(3);
      for (const layer of domain.layers) expect(layer).toHaveLength(64);
    }
    const trace = azureTrace(fixturesDir);
    expect(trace.arrivalS.length).toBe(8819 + 19366);
  });

  it('writes per shape every row, the SLO sweep, the CPU baselines with curves and the held-out bill', () => {
    const json = JSON.parse(readFileSync(join(outDir, 'paper.json'), 'utf8')) as PaperBenchResult;
    expect(json.quick).toBe(true);
    const [model] = json.models;
    expect(model!.model).toBe('paper:bert-moe-12x4');
    for (const key of [
      'switchyard',
      'paperOds',
      'paperExact',
      'lambdaml',
      'exactFixedKnobs',
      'switchyardNoPredictor',
    ])
      expect(model!.rows).toHaveProperty([key, 'billed', 'meanCostUsd']);
    expect(model!.sloSweep.map((point) => point.factor)).toEqual([1.1, 1.5]);
    const cpu = model!.cpu!;
    for (const key of ['static', 'rightSized', 'autoscaled']) {
      expect(cpu.headline.cpu).toHaveProperty([key, 'usd']);
      for (const curve of cpu.curves) expect(curve.breakEven).toHaveProperty([key, 'kind']);
    }
    expect(cpu.curves.map((curve) => curve.scenario)).toEqual(['trace', 'poisson']);
    // Without a cpu-engines.json the CPU rows run on the in-process engine and say so.
    expect(cpu.cpuEngine.engine).toMatch(/in-process/);
    expect(json.cpuEngines.note).toMatch(/missing/);
    const markdown = readFileSync(join(outDir, 'paper.md'), 'utf8');
    expect(markdown).toContain('QUICK RUN');
    expect(markdown).toContain('## Break-even per traffic scenario');
    expect(markdown).toContain('## Assumptions');
    expect(readFileSync(join(outDir, 'headline.md'), 'utf8')).toContain('Where Switchyard loses:');
    // The HTML report's cost section is the curve with its break-even points, not bars.
    const html = readFileSync(join(outDir, 'paper.html'), 'utf8');
    expect(html).toContain('Cost against the baselines over load');
    expect(html).not.toContain('data-chart="costs"');
    const svg = /<svg data-chart="cost-curve"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    const crossings = Object.values(cpu.curves[0]!.breakEven).filter((b) => b.kind === 'crossing').length;
    // One dot per rate scale for Switchyard and each of the three baselines, one line per crossing.
    expect((svg.match(/class="mark"/g) ?? []).length).toBe(4 * cpu.curves[0]!.points.length + crossings);
  });

  it('writes the headline from the figures and rewrites only the README block between its markers', () => {
    const headline = paperHeadlineMarkdown(result);
    const h = result.headline[0]!;
    expect(headline).toContain(`${(h.sizedToLoad.saving * 100).toFixed(1)} %`);
    expect(headline).toContain('75.7 %');
    const readme = join(outDir, 'README.md');
    writeFileSync(readme, 'intro\n<!-- paper-headline:start -->\nold\n<!-- paper-headline:end -->\noutro\n');
    const rewritten = replaceReadmeHeadline(readFileSync(readme, 'utf8'), headline);
    expect(rewritten.startsWith('intro\n<!-- paper-headline:start -->\n')).toBe(true);
    expect(rewritten.endsWith('<!-- paper-headline:end -->\noutro\n')).toBe(true);
    expect(rewritten).not.toContain('\nold\n');
    expect(() => replaceReadmeHeadline('no markers', headline)).toThrow(/no <!-- paper-headline:start -->/);
  });

  it('catches a figure that does not follow from the rows: a tampered row, a capped loss, a target-derived SLO', () => {
    expect(paperBenchInconsistencies(result)).toEqual([]);
    const model = result.models[0]!.model;
    // The paper's row billed 20 % dearer than the held-out batches cost: Switchyard's saving no longer follows.
    const dearer = structuredClone(result);
    const paperRow = dearer.models[0]!.rows.paperOds;
    paperRow.billed.meanCostUsd *= 1.2;
    paperRow.costUsdPerBatch = paperRow.billed.meanCostUsd;
    paperRow.costUsdPerMillionTokens = (paperRow.billed.meanCostUsd / 2048) * 1e6;
    expect(paperBenchInconsistencies(dearer)).toEqual([
      expect.stringMatching(new RegExp(`^${model}: savingVsPaper is .*, its rows give`)),
      expect.stringMatching(/contributions\.exactSolverInPaperBo is/),
      expect.stringMatching(/contributions\.paperBoOverOds is/),
      expect.stringMatching(/sloSweep\[1\.5\]\.savingVsPaper is/),
    ]);
    // A headline figure that is not the model's.
    const headline = structuredClone(result);
    headline.headline[0]!.sizedToLoad.saving += 0.1;
    expect(paperBenchInconsistencies(headline)).toEqual([
      'headline is not what the models give (paperHeadlines)',
    ]);
    // A throughput loss capped at the paper's 18.76 %, and an SLO taken from LambdaML and that target.
    const capped = structuredClone(result);
    const point = capped.models[0]!.sloSweep[1]!;
    point.throughputLossVsLambdaml.switchyard =
      Math.min(point.throughputLossVsLambdaml.switchyard, 0.1876) - 0.01;
    const lambdaml = capped.models[0]!.rows.lambdaml;
    capped.models[0]!.sloSweep[0]!.sloMs = Math.ceil(lambdaml.latencyMs / (1 - 0.1876)) + 1;
    expect(paperBenchInconsistencies(capped)).toEqual([
      expect.stringMatching(/sloSweep\[1\.1\]\.sloMs is/),
      expect.stringMatching(/sloSweep\[1\.5\]\.throughputLossVsLambdaml\.switchyard is/),
    ]);
  });

  it('the committed bench-results/paper/paper.json follows from its rows', () => {
    const file = resolve(fixturesDir, '..', 'bench-results', 'paper', 'paper.json');
    const committed = JSON.parse(readFileSync(file, 'utf8')) as PaperBenchResult;
    expect(committed.models.length).toBeGreaterThan(0);
    expect(paperBenchInconsistencies(committed)).toEqual([]);
  });
});

/** A cpu-engines.json measuring bert-moe-12x4 with llama.cpp at `ratio` × Switchyard's prefill speed (batch 8). */
function cpuEnginesFile(ratio: number, name: string): string {
  const runs = (tokensPerSecond: number) => ({
    tokensPerSecond,
    worstTokensPerSecond: tokensPerSecond,
    runs: [tokensPerSecond],
  });
  const row = (batch: number, llamaCppOverSwitchyard: number): CpuEngineRow => ({
    shape: 'bert-moe-12x4',
    layers: 4,
    threads: 1,
    batch,
    phase: 'prefill',
    tokens: batch * 128,
    switchyard: runs(100),
    llamaCpp: runs(100 * llamaCppOverSwitchyard),
    llamaCppOverSwitchyard,
    faster: llamaCppOverSwitchyard > 1 ? 'llama.cpp' : 'switchyard',
    expertFlopShare: 0.7,
    loadAverage1m: 1,
  });
  const engines: CpuEnginesResult = {
    createdAt: '2026-12-07T01:00:00.000Z',
    command: 'test',
    quick: true,
    machine: { cpu: 'test', logicalCpus: 2, loadAverage1mStart: 1, loadAverage1mEnd: 1 },
    settings: {
      promptTokens: 128,
      decodeSteps: 32,
      repetitions: 3,
      threads: [1],
      batches: [1, 8],
      ggufTensorType: 'F32',
      checkpointDtype: 'BF16',
      versions: {},
      notes: [],
    },
    logits: [],
    // Batch 1 points the other way: the largest batch's prefill is the row the CPU cluster is priced on.
    rows: [row(1, 1 / ratio), row(8, ratio)],
    wallTimeS: 1,
  };
  const path = join(outDir, `${name}.json`);
  writeFileSync(path, JSON.stringify(engines));
  return path;
}

describe('runPaperBench with a cpu-engines.json', () => {
  const cpuOf = (run: PaperBenchResult) => run.models[0]!.cpu!;
  const keys = ['static', 'rightSized', 'autoscaled'] as const;

  it('prices every CPU row at llama.cpp when it is faster, naming it and the ratio', async () => {
    const out = join(outDir, 'faster');
    mkdirSync(out);
    const faster = await runQuickPaperBench(cpuEnginesFile(2.5, 'llama-faster'), out);
    const cpu = cpuOf(faster);
    const inProcess = cpuOf(result).cpuEngine;
    expect(cpu.cpuEngine.engine).toBe('llama.cpp');
    expect(cpu.cpuEngine.tokensPerVcpuSecond).toBeCloseTo(inProcess.tokensPerVcpuSecond * 2.5, 6);
    expect(cpu.cpuEngine.source).toMatch(
      /× 2.500 \(llama.cpp ÷ Switchyard, bert-moe-12x4 4 layers, prefill batch 8/,
    );
    expect(cpu.engineSpeedRatio).toBeCloseTo(2.5, 12);
    expect(cpu.engines.map((engine) => engine.engine)).toEqual([inProcess.engine, 'llama.cpp']);
    // 2.5× the tokens per vCPU-second: the pool billed per vCPU-second costs 1/2.5 as much, and no
    // baseline costs more.
    expect(cpu.headline.cpu.rightSized.usd).toBeCloseTo(cpuOf(result).headline.cpu.rightSized.usd / 2.5, 6);
    for (const key of keys)
      expect(cpu.headline.cpu[key].usd).toBeLessThanOrEqual(cpuOf(result).headline.cpu[key].usd);
    expect(faster.cpuEngines.note).toMatch(/llama.cpp from .*llama-faster.json/);
    expect(faster.headline[0]).toMatchObject({ cpuEngine: 'llama.cpp' });
    expect(faster.headline[0]!.engineSpeedRatio).toBeCloseTo(2.5, 12);
    const markdown = readFileSync(join(out, 'paper.md'), 'utf8');
    expect(markdown).toMatch(/\| (paper:)?bert-moe-12x4 \| llama.cpp \(\d+; 2.50×\) \|/);
    expect(markdown).toMatch(
      /\* (paper:)?bert-moe-12x4: llama.cpp \(used\), \d+ tokens\/vCPU-s — in-process profile/,
    );
  }, 60_000);

  it('leaves the CPU rows on the in-process engine when llama.cpp is slower, with the ratio', async () => {
    const out = join(outDir, 'slower');
    mkdirSync(out);
    const slower = await runQuickPaperBench(cpuEnginesFile(0.4, 'llama-slower'), out);
    const cpu = cpuOf(slower);
    expect(cpu.cpuEngine).toEqual(cpuOf(result).cpuEngine);
    expect(cpu.engineSpeedRatio).toBeCloseTo(2.5, 12);
    expect(cpu.engines.map((engine) => engine.engine)).toEqual([cpuOf(result).cpuEngine.engine, 'llama.cpp']);
    for (const key of keys) expect(cpu.headline.cpu[key]).toEqual(cpuOf(result).headline.cpu[key]);
    expect(cpu.curves).toEqual(cpuOf(result).curves);
  }, 60_000);
});
