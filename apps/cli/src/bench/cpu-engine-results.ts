import { readFileSync } from 'node:fs';
import { parseJson, SwitchyardError } from '@switchyard/core';
import { z } from 'zod';

/**
 * bench-results/cpu-engines.json: Switchyard's in-process engine (onnxruntime-node) and llama.cpp
 * (node-llama-cpp) on the same checkpoints, threads and batches, measured alternately in one run.
 * The format is described in architecture/paper-benchmark.md ("CPU engines").
 */
export const cpuEngineNames = ['switchyard', 'llama.cpp'] as const;
export type CpuEngineName = (typeof cpuEngineNames)[number];

const engineRunsSchema = z.object({
  /** Median over the measured repetitions. */
  tokensPerSecond: z.number().positive(),
  /** The slowest repetition. */
  worstTokensPerSecond: z.number().positive(),
  /** Every measured repetition, in run order. */
  runs: z.array(z.number().positive()).min(1),
});

export const cpuEngineRowSchema = z.object({
  /** A paper shape (`bert-moe-12x4-top2` …) or `shakespeare-mixtral-8x2`. */
  shape: z.string().min(1),
  /** Decoder layers actually run (the paper's count unless the run was shortened). */
  layers: z.number().int().positive(),
  threads: z.number().int().positive(),
  /** Independent sequences evaluated together. */
  batch: z.number().int().positive(),
  /** prefill: `promptTokens` per sequence in one call; decode: one token per sequence per step. */
  phase: z.enum(['prefill', 'decode']),
  /** Tokens per timed repetition (batch × prompt tokens, or batch × decode steps). */
  tokens: z.number().int().positive(),
  switchyard: engineRunsSchema,
  llamaCpp: engineRunsSchema,
  /** llama.cpp tokens/s ÷ Switchyard tokens/s (medians): above 1 llama.cpp is faster. */
  llamaCppOverSwitchyard: z.number().positive(),
  faster: z.enum(cpuEngineNames),
  /**
   * Share of a token's weight-matrix FLOPs in the routed experts (the rest: q/k/v/o projections,
   * router, LM head). The ratio is a whole-model ratio; this says how much of it is the MoE layers.
   */
  expertFlopShare: z.number().min(0).max(1),
  /** 1-minute load average when the row finished. */
  loadAverage1m: z.number().nonnegative(),
});
export type CpuEngineRow = z.infer<typeof cpuEngineRowSchema>;

const logitComparisonSchema = z.object({
  /** What is compared with what, e.g. "llama.cpp (exact) vs transformers". */
  pair: z.string(),
  maxAbsDeltaLogProbability: z.number().nonnegative(),
  greedyAgreement: z.number().int().nonnegative(),
  rows: z.number().int().positive(),
});
export type LogitComparison = z.infer<typeof logitComparisonSchema>;

export const cpuEnginesResultSchema = z.object({
  createdAt: z.string(),
  command: z.string(),
  quick: z.boolean(),
  machine: z.object({
    cpu: z.string(),
    logicalCpus: z.number().int().positive(),
    loadAverage1mStart: z.number().nonnegative(),
    loadAverage1mEnd: z.number().nonnegative(),
  }),
  settings: z.object({
    promptTokens: z.number().int().positive(),
    decodeSteps: z.number().int().positive(),
    repetitions: z.number().int().positive(),
    threads: z.array(z.number().int().positive()),
    batches: z.array(z.number().int().positive()),
    ggufTensorType: z.enum(['F32', 'F16', 'BF16']),
    checkpointDtype: z.string(),
    versions: z.record(z.string(), z.string()),
    notes: z.array(z.string()),
  }),
  /** The bundled shakespeare model: both engines against the transformers reference and each other. */
  logits: z.array(logitComparisonSchema),
  rows: z.array(cpuEngineRowSchema),
  wallTimeS: z.number().nonnegative(),
  /**
   * The runs merged into this file (`--merge`: a few shapes per run, the same settings), each with
   * its shapes and load; absent for a file written by one run.
   */
  runs: z
    .array(
      z.object({
        createdAt: z.string(),
        command: z.string(),
        shapes: z.array(z.string()),
        loadAverage1mStart: z.number().nonnegative(),
        loadAverage1mEnd: z.number().nonnegative(),
        wallTimeS: z.number().nonnegative(),
      }),
    )
    .optional(),
});
export type CpuEnginesResult = z.infer<typeof cpuEnginesResultSchema>;

/** Reads and validates bench-results/cpu-engines.json; INVALID_INPUT naming the file and field otherwise. */
export function readCpuEngineResults(path: string): CpuEnginesResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `cannot read the CPU-engine results (run the cpu-engines benchmark first): ${(error as Error).message}`,
      location: path,
      cause: error,
    });
  }
  const parsed = cpuEnginesResultSchema.safeParse(parseJson(text, path));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `not a CPU-engine result: ${issue.message}`,
      location: `${path}: ${issue.path.join('.')}`,
    });
  }
  return parsed.data;
}

type CpuEngineRun = NonNullable<CpuEnginesResult['runs']>[number];

function runsOf(result: CpuEnginesResult): CpuEngineRun[] {
  return (
    result.runs ?? [
      {
        createdAt: result.createdAt,
        command: result.command,
        shapes: [...new Set(result.rows.map((row) => row.shape))],
        loadAverage1mStart: result.machine.loadAverage1mStart,
        loadAverage1mEnd: result.machine.loadAverage1mEnd,
        wallTimeS: result.wallTimeS,
      },
    ]
  );
}

/**
 * Throws INVALID_INPUT naming the first setting in which `latest` (a finished run, or the settings a
 * run is about to use) differs from `earlier`: runs measured differently are not comparable side by
 * side, so they are not merged into one file.
 */
export function checkCpuEngineMerge(
  earlier: CpuEnginesResult,
  latest: {
    quick: boolean;
    machine?: { cpu: string };
    settings: Omit<CpuEnginesResult['settings'], 'checkpointDtype' | 'versions' | 'notes'> &
      Partial<Pick<CpuEnginesResult['settings'], 'checkpointDtype' | 'versions'>>;
  },
): void {
  const versions = latest.settings.versions;
  const same: Record<string, [unknown, unknown]> = {
    quick: [earlier.quick, latest.quick],
    'settings.promptTokens': [earlier.settings.promptTokens, latest.settings.promptTokens],
    'settings.decodeSteps': [earlier.settings.decodeSteps, latest.settings.decodeSteps],
    'settings.repetitions': [earlier.settings.repetitions, latest.settings.repetitions],
    'settings.threads': [earlier.settings.threads.join(','), latest.settings.threads.join(',')],
    'settings.batches': [earlier.settings.batches.join(','), latest.settings.batches.join(',')],
    'settings.ggufTensorType': [earlier.settings.ggufTensorType, latest.settings.ggufTensorType],
    ...(latest.machine ? { 'machine.cpu': [earlier.machine.cpu, latest.machine.cpu] } : {}),
    ...(latest.settings.checkpointDtype === undefined
      ? {}
      : { 'settings.checkpointDtype': [earlier.settings.checkpointDtype, latest.settings.checkpointDtype] }),
    ...(versions === undefined
      ? {}
      : { 'settings.versions': [JSON.stringify(earlier.settings.versions), JSON.stringify(versions)] }),
  };
  for (const [setting, [before, now]] of Object.entries(same))
    if (before !== now)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `cannot merge CPU-engine runs measured differently: ${setting} was ${JSON.stringify(before)}, this run ${JSON.stringify(now)} (use the same settings, or run without --merge)`,
        location: `cpu-engines.json: ${setting}`,
      });
}

/**
 * `latest` merged into `earlier` (runs of a few shapes each, one after another): the rows of shapes
 * `latest` measured replace `earlier`'s rows of those shapes, the other shapes' rows and their notes
 * stay; logits, date and command come from `latest`; `runs` lists every run with its shapes and load.
 * INVALID_INPUT naming the setting when the two runs were not measured alike (their ratios would not
 * be comparable side by side).
 */
export function mergeCpuEngineResults(earlier: CpuEnginesResult, latest: CpuEnginesResult): CpuEnginesResult {
  checkCpuEngineMerge(earlier, latest);
  const remeasured = new Set(latest.rows.map((row) => row.shape));
  const kept = earlier.rows.filter((row) => !remeasured.has(row.shape));
  const keptShapes = new Set(kept.map((row) => row.shape));
  const shapeNote = (note: string, shapes: Set<string>) =>
    [...shapes].some((shape) => note.startsWith(`${shape}:`));
  const runs = [
    ...runsOf(earlier)
      .map((run) => ({ ...run, shapes: run.shapes.filter((shape) => keptShapes.has(shape)) }))
      .filter((run) => run.shapes.length > 0),
    ...runsOf(latest),
  ];
  return {
    ...latest,
    machine: {
      ...latest.machine,
      loadAverage1mStart: runs[0]!.loadAverage1mStart,
      loadAverage1mEnd: runs.at(-1)!.loadAverage1mEnd,
    },
    settings: {
      ...latest.settings,
      notes: [
        ...latest.settings.notes,
        ...earlier.settings.notes.filter((note) => shapeNote(note, keptShapes)),
      ].filter((note, i, all) => all.indexOf(note) === i),
    },
    rows: [...kept, ...latest.rows],
    wallTimeS: runs.reduce((sum, run) => sum + run.wallTimeS, 0),
    runs,
  };
}

export interface CpuEngineChoice {
  engine: CpuEngineName;
  /** Faster ÷ slower tokens/s (≥ 1). */
  speedup: number;
  llamaCppOverSwitchyard: number;
  row: CpuEngineRow;
}

/**
 * The faster CPU engine for a shape at a thread count: by default the prefill row with the largest
 * batch measured (a CPU cluster serving the paper's 10,240-token batches runs prefill-like passes).
 * NOT_FOUND naming the shape/threads/phase when the results do not have that row.
 */
export function fasterCpuEngine(
  result: CpuEnginesResult,
  query: { shape: string; threads: number; phase?: 'prefill' | 'decode'; batch?: number },
): CpuEngineChoice {
  const phase = query.phase ?? 'prefill';
  const candidates = result.rows.filter(
    (row) =>
      row.shape === query.shape &&
      row.threads === query.threads &&
      row.phase === phase &&
      (query.batch === undefined || row.batch === query.batch),
  );
  const row = candidates.sort((a, b) => b.batch - a.batch)[0];
  if (!row)
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `no ${phase} row for ${query.shape} at ${query.threads} thread(s)${query.batch === undefined ? '' : `, batch ${query.batch}`}; measured: ${[...new Set(result.rows.map((r) => `${r.shape}@${r.threads}`))].join(', ')}`,
      location: 'cpu-engines.json: rows',
    });
  const ratio = row.llamaCppOverSwitchyard;
  return {
    engine: ratio > 1 ? 'llama.cpp' : 'switchyard',
    speedup: ratio > 1 ? ratio : 1 / ratio,
    llamaCppOverSwitchyard: ratio,
    row,
  };
}

/**
 * llama.cpp in the paper benchmark's unit (tokens per vCPU-second on a shape's MoE layers): the
 * in-process engine's profiled figure at `threads`, times the llama.cpp ÷ Switchyard ratio measured
 * on that shape at the same thread count (prefill, largest batch). Both engines ran the same
 * checkpoint side by side, so the ratio carries over; the profile keeps the unit.
 */
export function llamaCppTokensPerVcpuSecond(
  result: CpuEnginesResult,
  query: { shape: string; threads: number; inProcessTokensPerVcpuSecond: number },
): { engine: 'llama.cpp'; tokensPerVcpuSecond: number; source: string } {
  const choice = fasterCpuEngine(result, { shape: query.shape, threads: query.threads });
  const { row } = choice;
  return {
    engine: 'llama.cpp',
    tokensPerVcpuSecond: query.inProcessTokensPerVcpuSecond * choice.llamaCppOverSwitchyard,
    source: `in-process profile at ${query.threads} thread(s) × ${choice.llamaCppOverSwitchyard.toFixed(3)} (llama.cpp ÷ Switchyard, ${row.shape} ${row.layers} layers, prefill batch ${row.batch}, cpu-engines.json of ${result.createdAt.slice(0, 10)})`,
  };
}
