import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwitchyardError } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CpuEngineRow,
  type CpuEnginesResult,
  checkCpuEngineMerge,
  cpuEnginesResultSchema,
  fasterCpuEngine,
  llamaCppTokensPerVcpuSecond,
  mergeCpuEngineResults,
  readCpuEngineResults,
} from './cpu-engine-results.js';
import {
  cpuBenchShape,
  cpuEnginesMarkdown,
  expertFlopShare,
  runCpuEngineBench,
  writeCpuEngineResults,
} from './cpu-engines.js';
import { paperBenchShapes } from './paper-bench.js';

const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures');
let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'cpu-engines-test-'));
});
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('runCpuEngineBench', () => {
  it('measures both engines on the same checkpoint and writes results readCpuEngineResults accepts', async () => {
    const result = await runCpuEngineBench({
      fixturesDir,
      shapes: [
        {
          name: 'tiny-top2',
          hiddenSize: 64,
          intermediateSize: 96,
          numExperts: 4,
          topK: 2,
          layers: 2,
          attentionHeads: 4,
          vocabulary: 300,
        },
      ],
      threads: [1],
      batches: [1, 2],
      promptTokens: 8,
      decodeSteps: 2,
      repetitions: 2,
      quick: true,
    });
    await writeCpuEngineResults(result, outDir);
    const read = readCpuEngineResults(join(outDir, 'cpu-engines.json'));
    expect(read).toEqual(result);
    expect(result.settings.versions['node-llama-cpp']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(result.settings.versions['onnxruntime-node']).toMatch(/^\d+\.\d+\.\d+$/);

    // One prefill and one decode row per batch, each with every repetition of both engines.
    expect(result.rows.map((r) => `${r.batch}:${r.phase}`)).toEqual([
      '1:prefill',
      '1:decode',
      '2:prefill',
      '2:decode',
    ]);
    for (const row of result.rows) {
      expect(row.tokens).toBe(row.batch * (row.phase === 'prefill' ? 8 : 2));
      for (const engine of [row.switchyard, row.llamaCpp]) {
        expect(engine.runs).toHaveLength(2);
        expect(engine.worstTokensPerSecond).toBe(Math.min(...engine.runs));
        expect(engine.tokensPerSecond).toBeGreaterThanOrEqual(engine.worstTokensPerSecond);
      }
      expect(row.llamaCppOverSwitchyard).toBeCloseTo(
        row.llamaCpp.tokensPerSecond / row.switchyard.tokensPerSecond,
        12,
      );
      expect(row.faster).toBe(row.llamaCppOverSwitchyard > 1 ? 'llama.cpp' : 'switchyard');
    }
    // Both engines run the same exported weights: the first greedy token agrees on every sequence.
    expect(result.settings.notes.at(-1)).toMatch(
      /tiny-top2: first greedy token .* identical on both engines for 6 of 6 sequences/,
    );

    // Logits on the bundled model: Switchyard and exact llama.cpp match transformers and each other.
    const byPair = Object.fromEntries(result.logits.map((c) => [c.pair, c]));
    for (const pair of [
      'switchyard vs transformers',
      'llama.cpp (exact) vs transformers',
      'llama.cpp (exact) vs switchyard',
    ]) {
      expect(byPair[pair]!.maxAbsDeltaLogProbability).toBeLessThan(1e-4);
      expect(byPair[pair]!.greedyAgreement).toBe(64);
      expect(byPair[pair]!.rows).toBe(64);
    }
    expect(byPair['llama.cpp (default) vs transformers']).toBeDefined();
    expect(cpuEnginesMarkdown(result)).toMatch(/\| tiny-top2 \| 2 \| \d+ % \| 1 \| 2 \| decode \|/);
    // 2 layers × 2 experts × 3 × 64 × 96 against 2 × (that + 4 × 64² + 4 × 64) + 300 × 64.
    expect(result.rows[0]!.expertFlopShare).toBeCloseTo(73_728 / (2 * (36_864 + 16_384 + 256) + 19_200), 12);
  });

  it('runs the paper shapes at their published layer shapes', () => {
    // bert-moe-12x4 top-1: 12 × 7,077,888 expert MACs against 12 × (that + 2,359,296 + 3,072) + 23,440,896.
    expect(expertFlopShare(cpuBenchShape('bert-moe-12x4'))).toBeCloseTo(
      (12 * 7_077_888) / (12 * (7_077_888 + 2_359_296 + 3_072) + 23_440_896),
      12,
    );
    expect(paperBenchShapes.map((name) => cpuBenchShape(name))).toContainEqual({
      name: 'bert-moe-12x16-top2',
      hiddenSize: 768,
      intermediateSize: 3072,
      numExperts: 16,
      topK: 2,
      layers: 12,
      attentionHeads: 12,
      vocabulary: 30_522,
    });
    expect(cpuBenchShape('gpt2-moe-12x4').vocabulary).toBe(50_257);
    expect(cpuBenchShape('bert2bert-moe-24x4').layers).toBe(24);
  });
});

function row(overrides: Partial<CpuEngineRow>): CpuEngineRow {
  const switchyard = overrides.switchyard?.tokensPerSecond ?? 100;
  const llamaCpp = overrides.llamaCpp?.tokensPerSecond ?? 100;
  return {
    shape: 'bert-moe-12x4',
    layers: 12,
    threads: 1,
    batch: 1,
    phase: 'prefill',
    tokens: 128,
    switchyard: { tokensPerSecond: switchyard, worstTokensPerSecond: switchyard, runs: [switchyard] },
    llamaCpp: { tokensPerSecond: llamaCpp, worstTokensPerSecond: llamaCpp, runs: [llamaCpp] },
    llamaCppOverSwitchyard: llamaCpp / switchyard,
    faster: llamaCpp > switchyard ? 'llama.cpp' : 'switchyard',
    expertFlopShare: 0.6,
    loadAverage1m: 0,
    ...overrides,
  };
}

const engines = (tokensPerSecond: number) => ({
  tokensPerSecond,
  worstTokensPerSecond: tokensPerSecond,
  runs: [tokensPerSecond],
});

describe('fasterCpuEngine', () => {
  const result = {
    rows: [
      row({ batch: 1, switchyard: engines(100), llamaCpp: engines(250), llamaCppOverSwitchyard: 2.5 }),
      row({ batch: 8, switchyard: engines(400), llamaCpp: engines(200), llamaCppOverSwitchyard: 0.5 }),
      row({
        batch: 8,
        phase: 'decode',
        switchyard: engines(10),
        llamaCpp: engines(30),
        llamaCppOverSwitchyard: 3,
      }),
      row({
        threads: 2,
        batch: 8,
        switchyard: engines(100),
        llamaCpp: engines(150),
        llamaCppOverSwitchyard: 1.5,
      }),
    ],
  } as CpuEnginesResult;

  it('takes the prefill row with the largest batch by default, and says which engine and by how much', () => {
    const choice = fasterCpuEngine(result, { shape: 'bert-moe-12x4', threads: 1 });
    expect(choice).toMatchObject({ engine: 'switchyard', speedup: 2, llamaCppOverSwitchyard: 0.5 });
    expect(choice.row.batch).toBe(8);
    expect(fasterCpuEngine(result, { shape: 'bert-moe-12x4', threads: 1, batch: 1 })).toMatchObject({
      engine: 'llama.cpp',
      speedup: 2.5,
    });
    expect(fasterCpuEngine(result, { shape: 'bert-moe-12x4', threads: 1, phase: 'decode' }).engine).toBe(
      'llama.cpp',
    );
    expect(fasterCpuEngine(result, { shape: 'bert-moe-12x4', threads: 2 }).speedup).toBe(1.5);
  });

  it('puts llama.cpp in tokens per vCPU-second by scaling the in-process figure by the measured ratio', () => {
    const engine = llamaCppTokensPerVcpuSecond(
      { ...result, createdAt: '2026-12-06T00:00:00Z' },
      { shape: 'bert-moe-12x4', threads: 2, inProcessTokensPerVcpuSecond: 400 },
    );
    expect(engine.engine).toBe('llama.cpp');
    expect(engine.tokensPerVcpuSecond).toBe(600);
    expect(engine.source).toMatch(/× 1.500 .*prefill batch 8/);
  });

  it('names the missing row and what was measured', () => {
    const error = (() => {
      try {
        fasterCpuEngine(result, { shape: 'bert-moe-12x16', threads: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect((error as SwitchyardError).code).toBe('NOT_FOUND');
    expect((error as Error).message).toMatch(
      /no prefill row for bert-moe-12x16 at 1 thread.*measured: bert-moe-12x4@1, bert-moe-12x4@2/,
    );
  });

  it('readCpuEngineResults rejects a file that is not a result, naming the field', async () => {
    const path = join(outDir, 'bad.json');
    const valid = cpuEnginesResultSchema.parse({
      createdAt: 'x',
      command: 'x',
      quick: true,
      machine: { cpu: 'x', logicalCpus: 2, loadAverage1mStart: 0, loadAverage1mEnd: 0 },
      settings: {
        promptTokens: 1,
        decodeSteps: 1,
        repetitions: 1,
        threads: [1],
        batches: [1],
        ggufTensorType: 'F32',
        checkpointDtype: 'BF16',
        versions: {},
        notes: [],
      },
      logits: [],
      rows: [row({})],
      wallTimeS: 1,
    });
    await writeFile(
      path,
      JSON.stringify({ ...valid, rows: [{ ...valid.rows[0], llamaCppOverSwitchyard: -1 }] }),
    );
    expect(() => readCpuEngineResults(path)).toThrow(
      /not a CPU-engine result.*bad.json: rows.0.llamaCppOverSwitchyard/,
    );
    expect(() => readCpuEngineResults(join(outDir, 'missing.json'))).toThrow(
      /run the cpu-engines benchmark first/,
    );
  });
});

function engineResult(rows: CpuEngineRow[], overrides: Partial<CpuEnginesResult> = {}): CpuEnginesResult {
  return cpuEnginesResultSchema.parse({
    createdAt: '2026-12-07T01:00:00.000Z',
    command: 'bench:cpu-engines -- --shapes a',
    quick: false,
    machine: { cpu: 'AMD EPYC', logicalCpus: 2, loadAverage1mStart: 1, loadAverage1mEnd: 2 },
    settings: {
      promptTokens: 128,
      decodeSteps: 32,
      repetitions: 3,
      threads: [1, 2],
      batches: [1, 8],
      ggufTensorType: 'F32',
      checkpointDtype: 'BF16',
      versions: { 'node-llama-cpp': '3.21.1' },
      notes: ['general note'],
    },
    logits: [],
    rows,
    wallTimeS: 60,
    ...overrides,
  });
}

describe('mergeCpuEngineResults', () => {
  const first = engineResult(
    [row({ shape: 'bert-moe-12x4' }), row({ shape: 'bert-moe-12x8', llamaCpp: engines(300) })],
    {
      machine: { cpu: 'AMD EPYC', logicalCpus: 2, loadAverage1mStart: 1.5, loadAverage1mEnd: 2.5 },
      settings: {
        ...engineResult([]).settings,
        notes: ['general note', 'bert-moe-12x4: agreed 8 of 8', 'bert-moe-12x8: agreed 7 of 8'],
      },
    },
  );
  const second = engineResult([row({ shape: 'bert-moe-12x8' }), row({ shape: 'gpt2-moe-12x4' })], {
    createdAt: '2026-12-07T01:30:00.000Z',
    machine: { cpu: 'AMD EPYC', logicalCpus: 2, loadAverage1mStart: 3, loadAverage1mEnd: 4 },
    settings: {
      ...engineResult([]).settings,
      notes: ['general note', 'bert-moe-12x8: agreed 8 of 8', 'gpt2-moe-12x4: agreed 6 of 8'],
    },
    wallTimeS: 90,
  });

  it('keeps the shapes the new run did not measure, replaces the ones it did, and lists both runs', () => {
    const merged = mergeCpuEngineResults(first, second);
    expect(merged.rows.map((r) => `${r.shape}:${r.llamaCpp.tokensPerSecond}`)).toEqual([
      'bert-moe-12x4:100',
      'bert-moe-12x8:100',
      'gpt2-moe-12x4:100',
    ]);
    expect(merged.settings.notes).toEqual([
      'general note',
      'bert-moe-12x8: agreed 8 of 8',
      'gpt2-moe-12x4: agreed 6 of 8',
      'bert-moe-12x4: agreed 8 of 8',
    ]);
    expect(merged.runs).toEqual([
      expect.objectContaining({ shapes: ['bert-moe-12x4'], loadAverage1mStart: 1.5, wallTimeS: 60 }),
      expect.objectContaining({ shapes: ['bert-moe-12x8', 'gpt2-moe-12x4'], loadAverage1mEnd: 4 }),
    ]);
    expect(merged.machine).toMatchObject({ loadAverage1mStart: 1.5, loadAverage1mEnd: 4 });
    expect(merged.wallTimeS).toBe(150);
    expect(cpuEnginesResultSchema.parse(merged)).toEqual(merged);
    expect(cpuEnginesMarkdown(merged)).toMatch(
      /\| 2026-12-07 01:30 \| bert-moe-12x8, gpt2-moe-12x4 \| 3.00 → 4.00 \|/,
    );
    // A third run drops a run whose shapes were all re-measured.
    const third = mergeCpuEngineResults(merged, { ...second, rows: [row({ shape: 'bert-moe-12x4' })] });
    expect(third.runs!.map((run) => run.shapes)).toEqual([
      ['bert-moe-12x8', 'gpt2-moe-12x4'],
      ['bert-moe-12x4'],
    ]);
  });

  it('refuses runs measured with different settings, naming the setting, before and after a run', () => {
    const other = engineResult([row({ shape: 'gpt2-moe-12x4' })], {
      settings: { ...engineResult([]).settings, decodeSteps: 8 },
    });
    expect(() => mergeCpuEngineResults(first, other)).toThrow(
      /measured differently: settings.decodeSteps was 32, this run 8/,
    );
    expect(() =>
      checkCpuEngineMerge(first, { quick: true, settings: { ...first.settings, batches: [1, 8] } }),
    ).toThrow(/quick was false, this run true/);
    expect(() => checkCpuEngineMerge(first, { quick: false, settings: first.settings })).not.toThrow();
  });
});
