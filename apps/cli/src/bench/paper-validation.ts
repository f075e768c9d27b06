import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import {
  type BillingReport,
  type DeploymentPlan,
  decodeExpertMessage,
  type Logger,
  median,
  SwitchyardError,
} from '@switchyard/core';
import {
  type CostProfileInput,
  type InvocationOverhead,
  type PlanCostReport,
  planCost,
  type TransportParametersInput,
} from '@switchyard/cost-model';
import { gbSecondsOf } from '@switchyard/cost-model/internal';
import type { LambdaExecutor } from '@switchyard/lambda-executor';
import { createRemoteMoeStep } from '@switchyard/scatter-gather';
import {
  readValidationCalibration,
  runValidationCalibration,
  type ValidationCalibration,
} from './validation-calibration.js';
import { openValidationSetup, planSignature, type ValidationSetup } from './validation-setup.js';

/**
 * What the local runtime bills, in the latency model's terms: its REPORT duration is the handler's
 * run time only (weights loaded once at INIT, no storage access, the invoke hop and the payload
 * transfer outside the handler). Shown beside the rows' transport terms, never instead of them.
 */
export const localRuntimeTransport: TransportParametersInput = {
  parameterDownloadPerInvocation: false,
  storageAccessMs: 0,
  warmStartMs: 0,
  functionBandwidthBytesPerS: 1e12,
};

/** The memory sizes the validation runs at (none of them calibrated on). */
export const validationMemorySizesMB = [256, 1024, 1769, 3008] as const;
/** Tokens per validation batch: each memory size runs every one (none is a calibration count). */
export const validationBatchTokens = [320, 768, 1152] as const;
/** The validation plans' BO seed (the calibration plans use another). */
export const validationPlanSeed = 7;
/** |error| at or under which a batch counts as within the simulator's target. */
export const validationTarget = 0.15;

/** One measured batch beside the simulator's GB-s for the same plan and per-expert token counts. */
export interface ValidationBatch {
  memoryMB: number;
  tokensPerBatch: number;
  /** First held-out token of the batch's window. */
  offset: number;
  invocations: number;
  /**
   * Invocations the simulator bills for the same batch (one per replica with tokens). Equal to
   * `invocations` since scatter-gather stopped cutting a direct payload at β (#21); a QUICK run
   * committed before that served 170 where 23 were billed.
   */
  simulatedInvocations: number;
  /** Tokens each invocation carried (none equals a calibration token count). */
  invocationTokens: number[];
  measuredGbSeconds: number;
  /** The simulator with the rows' transport terms (the cost model's defaults) and the calibration. */
  simulatedGbSeconds: number;
  /** measured / simulated − 1. */
  relativeError: number;
  /** The simulator with the local runtime's transport terms (handler time only), for contrast. */
  simulatedLocalTransportGbSeconds: number;
  relativeErrorLocalTransport: number;
  coldStarts: number;
  loadAverage1m: number;
}

export interface ValidationRun {
  memoryMB: number;
  planSignature: string;
  functions: number;
  batches: ValidationBatch[];
  medianRelativeError: number;
  /** The batch error furthest from 0 (signed). */
  worstRelativeError: number;
  medianRelativeErrorLocalTransport: number;
  worstRelativeErrorLocalTransport: number;
}

export interface ValidationResult {
  kind: 'switchyard.paper-validation';
  createdAt: string;
  command: string;
  quick: boolean;
  model: string;
  machine: string;
  cpuEmulation: ValidationCpuEmulation;
  loadAverage1m: { start: number; end: number };
  /** The calibration the simulator used (its file, plans and token counts). */
  calibrationFile: string;
  calibration: Pick<
    ValidationCalibration,
    'createdAt' | 'memorySizesMB' | 'tokenCounts' | 'plans' | 'invocations' | 'invocationOverhead'
  >;
  target: number;
  runs: ValidationRun[];
  /** Over every batch at every memory size. */
  medianRelativeError: number;
  worstRelativeError: number;
  medianRelativeErrorLocalTransport: number;
  worstRelativeErrorLocalTransport: number;
  batchesWithinTarget: number;
  batches: number;
}

/** The signed value furthest from 0. */
function worst(values: readonly number[]): number {
  return values.reduce((w, v) => (Math.abs(v) > Math.abs(w) ? v : w), 0);
}

/**
 * What the calibration and a validation share: plans (by signature), memory sizes, per-invocation
 * token counts and batch token counts. The validation is only honest when every list is empty.
 */
export function validationOverlap(
  calibration: Pick<ValidationCalibration, 'memorySizesMB' | 'tokenCounts' | 'plans'>,
  validation: Pick<ValidationResult, 'runs'>,
): { plans: string[]; memorySizesMB: number[]; tokenCounts: number[] } {
  const calibrationPlans = new Set(calibration.plans.map((plan) => plan.signature));
  const calibrationTokens = new Set(calibration.tokenCounts);
  const calibrationMemory = new Set(calibration.memorySizesMB);
  const tokens = new Set<number>();
  for (const run of validation.runs)
    for (const batch of run.batches) {
      if (calibrationTokens.has(batch.tokensPerBatch)) tokens.add(batch.tokensPerBatch);
      for (const t of batch.invocationTokens) if (calibrationTokens.has(t)) tokens.add(t);
    }
  return {
    plans: validation.runs.map((run) => run.planSignature).filter((s) => calibrationPlans.has(s)),
    memorySizesMB: validation.runs.map((run) => run.memoryMB).filter((m) => calibrationMemory.has(m)),
    tokenCounts: [...tokens].sort((a, b) => a - b),
  };
}

/** Per layer, expert ids of `tokens` held-out tokens from `offset` and their per-expert counts. */
export function batchRouting(setup: ValidationSetup, offset: number, tokens: number) {
  const trace = setup.heldOutTrace;
  const K = trace.topK;
  const expertTokens: Record<number, number[]> = {};
  const layerIds: Int32Array[] = [];
  for (let l = 0; l < trace.numLayers; l++) {
    const counts = new Array<number>(setup.summary.numExperts).fill(0);
    const ids = new Int32Array(tokens * K);
    for (let t = 0; t < tokens; t++)
      for (let k = 0; k < K; k++) {
        const id = trace.topkIds[(l * trace.numTokens + offset + t) * K + k]!;
        ids[t * K + k] = id;
        counts[id]!++;
      }
    expertTokens[setup.summary.moeLayers[l]!] = counts;
    layerIds.push(ids);
  }
  return { expertTokens, layerIds };
}

/**
 * Tokens each replica of the plan receives for this routing (what its invocation carries: a direct
 * layer is one invocation per replica, the function's tokens split evenly, the first ones one more).
 */
function replicaTokens(plan: DeploymentPlan, expertTokens: Record<number, number[]>): number[] {
  return plan.layers.flatMap((layer) =>
    layer.functions.flatMap((fn) => {
      const total = fn.experts.reduce((n, e) => n + (expertTokens[layer.layer]?.[e] ?? 0), 0);
      const base = Math.floor(total / fn.replicas);
      return Array.from({ length: fn.replicas }, (_, r) =>
        r < total - base * fn.replicas ? base + 1 : base,
      );
    }),
  );
}

type TokenReport = BillingReport & { tokens: number };

/**
 * Sends one batch through `createRemoteMoeStep` on the setup's runtime, layer by layer, one
 * invocation at a time (the local runtime's functions share this machine's cores), and returns the
 * REPORT of every invocation the runtime served with the tokens it carried.
 */
export async function runMeasuredBatch(
  setup: ValidationSetup,
  plan: DeploymentPlan,
  layerIds: readonly Int32Array[],
  tokens: number,
): Promise<TokenReport[]> {
  const H = setup.summary.hiddenSize;
  const K = setup.heldOutTrace.topK;
  const reports: TokenReport[] = [];
  const recording = {
    invoke: async (request: Parameters<LambdaExecutor['invoke']>[0]) => {
      const result = await setup.executor.invoke(request);
      const header = decodeExpertMessage(request.payload, { skipChecksum: true });
      reports.push({ ...result.billing, tokens: header.tokenCounts.reduce((n, c) => n + c, 0) });
      return result;
    },
  };
  const step = createRemoteMoeStep({ plan, executor: recording, maxInFlight: 1, maxInFlightPerReplica: 1 });
  let state = 20261206 + tokens;
  const hidden = Float32Array.from({ length: tokens * H }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296 - 0.5;
  });
  const weights = new Float32Array(tokens * K).fill(1 / K);
  for (const layer of plan.layers) {
    const l = setup.summary.moeLayers.indexOf(layer.layer);
    await step({
      layer: layer.layer,
      hiddenStates: hidden,
      numTokens: tokens,
      hiddenSize: H,
      topK: K,
      topkIds: layerIds[l]!,
      topkWeights: weights,
    });
  }
  return reports;
}

/** Invocations the simulator bills for a plan cost: one per replica with tokens. */
export function simulatedInvocations(cost: PlanCostReport): number {
  return cost.layers.reduce((n, layer) => n + layer.functions.reduce((m, fn) => m + fn.invocations, 0), 0);
}

/**
 * Validates the calibrated simulator on the embedded Lambda runtime. Per memory size (256, 1,024,
 * 1,769, 3,008 MB), the model is planned with the calibration in its cost profile (BO seed 7, not
 * the calibration's), deployed, warmed up, and batches of 320, 768 and 1,152 held-out tokens are
 * sent through `createRemoteMoeStep` layer by layer, one invocation at a time. A batch window whose
 * functions would receive a calibration token count is moved on by one token until none does (a
 * rule on token counts, decided before anything is measured). Each batch's summed BillingReports
 * sit beside `planCost` of the same plan and per-expert counts with the rows' transport terms (the
 * cost model's defaults: parameter download, storage access and warm start per invocation) and,
 * for contrast, the local runtime's (handler time only). Every batch is reported.
 */
export async function runValidationBatches(
  setup: ValidationSetup,
  calibration: ValidationCalibration,
  options: {
    memorySizesMB: readonly number[];
    batchTokens: readonly number[];
    repetitions: number;
    onProgress?: (message: string) => void;
  },
): Promise<ValidationRun[]> {
  const progress = options.onProgress ?? (() => {});
  const overhead = calibration.invocationOverhead as InvocationOverhead;
  const rowsProfile: CostProfileInput = { compute: setup.compute, invocationOverhead: overhead };
  const localProfile: CostProfileInput = { ...rowsProfile, transport: localRuntimeTransport };
  const forbidden = new Set<number>(calibration.tokenCounts);
  const runs: ValidationRun[] = [];
  let nextOffset = 0;
  for (const memoryMB of options.memorySizesMB) {
    progress(`validation: ${memoryMB} MB`);
    const plan = await setup.plan(memoryMB, rowsProfile, validationPlanSeed);
    const functions = await setup.deploy(plan);
    // Warm-up: cold starts and model load are not part of the steady-state bill.
    const warmTokens = options.batchTokens[0]!;
    await runMeasuredBatch(
      setup,
      plan,
      batchRouting(setup, setup.heldOutTrace.numTokens - warmTokens, warmTokens).layerIds,
      warmTokens,
    );
    const batches: ValidationBatch[] = [];
    for (let repetition = 0; repetition < options.repetitions; repetition++)
      for (const tokens of options.batchTokens) {
        let offset = nextOffset;
        let routing = batchRouting(setup, offset, tokens);
        while (replicaTokens(plan, routing.expertTokens).some((t) => forbidden.has(t))) {
          offset++;
          routing = batchRouting(setup, offset, tokens);
        }
        nextOffset = offset + tokens;
        if (nextOffset > setup.heldOutTrace.numTokens - 2 * warmTokens)
          throw new SwitchyardError({
            code: 'INVALID_INPUT',
            message: `validation: the held-out trace (${setup.heldOutTrace.numTokens} tokens) is too short for these batches`,
          });
        const reports = await runMeasuredBatch(setup, plan, routing.layerIds, tokens);
        const workload = { expertTokens: routing.expertTokens, tokensPerBatch: tokens };
        const measured = reports.reduce((sum, r) => sum + gbSecondsOf(r.memorySizeMB, r.billedDurationMs), 0);
        const rowsCost = planCost(plan, workload, rowsProfile);
        const simulated = rowsCost.gbSecondsPerBatch;
        const simulatedLocal = planCost(plan, workload, localProfile).gbSecondsPerBatch;
        batches.push({
          memoryMB,
          tokensPerBatch: tokens,
          offset,
          invocations: reports.length,
          simulatedInvocations: simulatedInvocations(rowsCost),
          invocationTokens: reports.map((r) => r.tokens),
          measuredGbSeconds: measured,
          simulatedGbSeconds: simulated,
          relativeError: measured / simulated - 1,
          simulatedLocalTransportGbSeconds: simulatedLocal,
          relativeErrorLocalTransport: measured / simulatedLocal - 1,
          coldStarts: reports.filter((r) => r.initDurationMs !== undefined).length,
          loadAverage1m: loadavg()[0] ?? 0,
        });
        progress(
          `  ${memoryMB} MB, ${tokens} tokens: measured ${measured.toFixed(4)} GB-s, simulated ${simulated.toFixed(4)} (${((measured / simulated - 1) * 100).toFixed(1)} %)`,
        );
      }
    await setup.undeploy(plan);
    runs.push({
      memoryMB,
      planSignature: planSignature(plan),
      functions: functions.length,
      batches,
      medianRelativeError: median(batches.map((b) => b.relativeError)),
      worstRelativeError: worst(batches.map((b) => b.relativeError)),
      medianRelativeErrorLocalTransport: median(batches.map((b) => b.relativeErrorLocalTransport)),
      worstRelativeErrorLocalTransport: worst(batches.map((b) => b.relativeErrorLocalTransport)),
    });
  }
  return runs;
}

/**
 * How the embedded runtime gives a function its memory's vCPU share during a validation: `scale`
 * stretches measured durations by the memory→vCPU rule (the rule the simulator uses, so it is not
 * tested), `cgroup` lets the kernel hold each function process to its share (a CFS quota) and
 * reports measured time, so the rule is tested; `off` gives every function every core.
 */
export type ValidationCpuEmulation = 'scale' | 'cgroup' | 'off';

/** File stem of a validation's results: `validation` with the default emulation, else `validation-<mode>`. */
export function validationFileStem(cpuEmulation: ValidationCpuEmulation): string {
  return cpuEmulation === 'scale' ? 'validation' : `validation-${cpuEmulation}`;
}

/**
 * Calibrates (unless a calibration file is given) and validates, both under `cpuEmulation`, then
 * writes `<stem>-calibration.json` and `<stem>.{json,md}` to `outDir` (`validationFileStem`), and
 * `validation-comparison-<mode>.md` once both the `scale` run and a `<mode>` run are there.
 * `quick`: one calibration round, two memory sizes, one batch size, one repetition (marked QUICK).
 */
export async function runPaperValidation(options: {
  fixturesDir: string;
  outDir?: string;
  quick?: boolean;
  /** Use this calibration file instead of calibrating (it is not rewritten). */
  calibrationFile?: string;
  cpuEmulation?: ValidationCpuEmulation;
  command?: string;
  logger?: Logger;
  onProgress?: (message: string) => void;
}): Promise<ValidationResult> {
  const quick = options.quick ?? false;
  const cpuEmulation = options.cpuEmulation ?? 'scale';
  const stem = validationFileStem(cpuEmulation);
  const command =
    options.command ??
    `switchyard bench validation${quick ? ' --quick' : ''}${cpuEmulation === 'scale' ? '' : ` --cpu-emulation ${cpuEmulation}`}`;
  const start = loadavg()[0] ?? 0;
  const setup = await openValidationSetup({
    fixturesDir: options.fixturesDir,
    logger: options.logger,
    cpuEmulation,
  });
  let calibration: ValidationCalibration;
  let runs: ValidationRun[];
  try {
    calibration = options.calibrationFile
      ? readValidationCalibration(options.calibrationFile)
      : await runValidationCalibration(setup, {
          rounds: quick ? 1 : 3,
          quick,
          command,
          onProgress: options.onProgress,
        });
    runs = await runValidationBatches(setup, calibration, {
      memorySizesMB: quick ? [256, 1769] : validationMemorySizesMB,
      batchTokens: quick ? [validationBatchTokens[0]] : validationBatchTokens,
      repetitions: quick ? 1 : 2,
      onProgress: options.onProgress,
    });
  } finally {
    await setup.close();
  }
  const batches = runs.flatMap((run) => run.batches);
  const result: ValidationResult = {
    kind: 'switchyard.paper-validation',
    createdAt: new Date().toISOString(),
    command,
    quick,
    model: calibration.model,
    machine: setup.machine,
    cpuEmulation,
    loadAverage1m: { start, end: loadavg()[0] ?? 0 },
    calibrationFile: options.calibrationFile
      ? relative(process.cwd(), options.calibrationFile)
      : `${stem}-calibration.json`,
    calibration: {
      createdAt: calibration.createdAt,
      memorySizesMB: calibration.memorySizesMB,
      tokenCounts: calibration.tokenCounts,
      plans: calibration.plans,
      invocations: calibration.invocations,
      invocationOverhead: calibration.invocationOverhead,
    },
    target: validationTarget,
    runs,
    medianRelativeError: median(batches.map((b) => b.relativeError)),
    worstRelativeError: worst(batches.map((b) => b.relativeError)),
    medianRelativeErrorLocalTransport: median(batches.map((b) => b.relativeErrorLocalTransport)),
    worstRelativeErrorLocalTransport: worst(batches.map((b) => b.relativeErrorLocalTransport)),
    batchesWithinTarget: batches.filter((b) => Math.abs(b.relativeError) <= validationTarget).length,
    batches: batches.length,
  };
  const overlap = validationOverlap(calibration, result);
  if (overlap.plans.length + overlap.memorySizesMB.length + overlap.tokenCounts.length > 0)
    throw new SwitchyardError({
      code: 'INTERNAL',
      message: `validation shares data with its calibration: ${JSON.stringify(overlap)}`,
    });
  if (options.outDir) {
    mkdirSync(options.outDir, { recursive: true });
    if (!options.calibrationFile)
      writeFileSync(
        join(options.outDir, `${stem}-calibration.json`),
        `${JSON.stringify(calibration, null, 2)}\n`,
      );
    writeFileSync(join(options.outDir, `${stem}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(options.outDir, `${stem}.md`), validationMarkdown(result));
    // Whichever of the two runs comes second writes the side-by-side file.
    for (const other of ['cgroup', 'off'] as const) {
      const scaleFile = join(options.outDir, 'validation.json');
      const otherFile = join(options.outDir, `${validationFileStem(other)}.json`);
      if (!(cpuEmulation === 'scale' || cpuEmulation === other)) continue;
      if (!existsSync(scaleFile) || !existsSync(otherFile)) continue;
      const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as ValidationResult;
      writeFileSync(
        join(options.outDir, `validation-comparison-${other}.md`),
        validationComparisonMarkdown(read(scaleFile), read(otherFile)),
      );
    }
  }
  return result;
}

const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

/** The validation's tables: one row per batch, then median and worst per memory size and overall. */
export function validationMarkdown(result: ValidationResult): string {
  const o = result.calibration.invocationOverhead;
  return [
    `# Simulator validation (${result.createdAt.slice(0, 10)})${result.quick ? ' — QUICK RUN, not for quoting' : ''}`,
    '',
    `${result.model} on the ${result.machine}, vCPU emulation \`${result.cpuEmulation}\`, 1-min load ${result.loadAverage1m.start.toFixed(1)} → ${result.loadAverage1m.end.toFixed(1)}. Re-run: \`${result.command}\`. Definitions: architecture/paper-benchmark.md ("Validation").`,
    '',
    `Calibration (${result.calibrationFile}, ${result.calibration.createdAt}): plans at ${result.calibration.memorySizesMB.join(', ')} MB, synthetic invocations of ${result.calibration.tokenCounts.join(', ')} tokens, ${result.calibration.invocations} invocations → overhead ${o.fixedMs.toFixed(3)} ms + ${(o.perByteMs * 1e6).toFixed(2)} ns per wire byte at one vCPU. The validation shares no plan, memory size or token count with it.`,
    '',
    `Invocations: what the runtime served (in brackets: what the simulator bills, one per replica with tokens; the two differ where scatter-gather splits a call the simulator does not — before #21 it cut a direct payload at the plan's β). Error = measured ÷ simulated − 1. "Rows' transport": the cost model's default transport terms, as the paper rows use them (parameter download, storage access and warm start per invocation). "Handler only": the local runtime's terms (what its REPORT duration covers), for contrast.`,
    '',
    `**All ${result.batches} batches, rows' transport: median ${percent(result.medianRelativeError)}, worst ${percent(result.worstRelativeError)}; ${result.batchesWithinTarget} of ${result.batches} within ±${percent(result.target)}. Handler only: median ${percent(result.medianRelativeErrorLocalTransport)}, worst ${percent(result.worstRelativeErrorLocalTransport)}.**`,
    '',
    "| memory MB | tokens | offset | invocations (simulated) | measured GB-s | simulated GB-s (rows' transport) | error | simulated GB-s (handler only) | error | cold starts | 1-min load |",
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.runs.flatMap((run) => [
      ...run.batches.map(
        (b) =>
          `| ${b.memoryMB} | ${b.tokensPerBatch} | ${b.offset} | ${b.invocations} (${b.simulatedInvocations}) | ${b.measuredGbSeconds.toFixed(4)} | ${b.simulatedGbSeconds.toFixed(4)} | ${percent(b.relativeError)} | ${b.simulatedLocalTransportGbSeconds.toFixed(4)} | ${percent(b.relativeErrorLocalTransport)} | ${b.coldStarts} | ${b.loadAverage1m.toFixed(1)} |`,
      ),
      `| **${run.memoryMB}** | median / worst | | | | | ${percent(run.medianRelativeError)} / ${percent(run.worstRelativeError)} | | ${percent(run.medianRelativeErrorLocalTransport)} / ${percent(run.worstRelativeErrorLocalTransport)} | | |`,
    ]),
    '',
    ...result.runs.map(
      (run) => `* ${run.memoryMB} MB plan (${run.functions} functions): \`${run.planSignature}\``,
    ),
    '',
  ].join('\n');
}

/**
 * Two validations side by side (the default `scale` run and one under another CPU emulation, each
 * with its own calibration): per memory size the median and worst error of each, and, where both
 * ran the same plan on the same token window, the ratio of their measured GB-s — under `cgroup`
 * that ratio is the kernel's CPU quota against the memory→vCPU stretch, the rule itself.
 */
export function validationComparisonMarkdown(scale: ValidationResult, other: ValidationResult): string {
  const pairs = (memoryMB: number) => {
    const a = scale.runs.find((run) => run.memoryMB === memoryMB);
    const b = other.runs.find((run) => run.memoryMB === memoryMB);
    if (!a || !b || a.planSignature !== b.planSignature) return [];
    return a.batches.flatMap((x) => {
      const y = b.batches.find((z) => z.offset === x.offset && z.tokensPerBatch === x.tokensPerBatch);
      return y ? [y.measuredGbSeconds / x.measuredGbSeconds] : [];
    });
  };
  const memorySizes = [...new Set([...scale.runs, ...other.runs].map((run) => run.memoryMB))].sort(
    (a, b) => a - b,
  );
  const cell = (result: ValidationResult, memoryMB: number) => {
    const run = result.runs.find((r) => r.memoryMB === memoryMB);
    return run ? `${percent(run.medianRelativeError)} / ${percent(run.worstRelativeError)}` : '—';
  };
  return [
    `# Simulator validation: \`${scale.cpuEmulation}\` beside \`${other.cpuEmulation}\``,
    '',
    `\`${scale.command}\` (${scale.createdAt}, 1-min load ${scale.loadAverage1m.start.toFixed(1)} → ${scale.loadAverage1m.end.toFixed(1)}) and \`${other.command}\` (${other.createdAt}, load ${other.loadAverage1m.start.toFixed(1)} → ${other.loadAverage1m.end.toFixed(1)}); ${scale.calibration.createdAt === other.calibration.createdAt ? `both with one calibration (${other.calibrationFile === scale.calibrationFile ? other.calibrationFile : `${scale.calibrationFile}, made under \`${other.cpuEmulation}\``}), so both planned the same functions` : 'each with its own calibration'}. Error = measured ÷ simulated − 1 with the rows' transport terms; every batch is in bench-results/paper/validation.md and the ${other.cpuEmulation} run's own file.`,
    '',
    `**All batches: \`${scale.cpuEmulation}\` median ${percent(scale.medianRelativeError)}, worst ${percent(scale.worstRelativeError)} (${scale.batchesWithinTarget} of ${scale.batches} within ±${percent(scale.target)}); \`${other.cpuEmulation}\` median ${percent(other.medianRelativeError)}, worst ${percent(other.worstRelativeError)} (${other.batchesWithinTarget} of ${other.batches}).**`,
    '',
    `| memory MB | \`${scale.cpuEmulation}\` error median / worst | \`${other.cpuEmulation}\` error median / worst | same plan | measured GB-s \`${other.cpuEmulation}\` ÷ \`${scale.cpuEmulation}\`, same batches: median (min … max) |`,
    '|---|---|---|---|---|',
    ...memorySizes.map((memoryMB) => {
      const ratios = pairs(memoryMB);
      const same = ratios.length > 0;
      const spread = same
        ? `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)} … ${Math.max(...ratios).toFixed(3)}, ${ratios.length} batches)`
        : '— (different plans or windows)';
      return `| ${memoryMB} | ${cell(scale, memoryMB)} | ${cell(other, memoryMB)} | ${same ? 'yes' : 'no'} | ${spread} |`;
    }),
    '',
  ].join('\n');
}
