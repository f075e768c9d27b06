import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import {
  type ExpertQuantization,
  type Logger,
  noopLogger,
  parseJson,
  SwitchyardError,
} from '@switchyard/core';
import {
  azureTraceFileNames,
  type ComputeProfile,
  loadAzureTrace,
  loadComputeProfile,
  mergeTraffic,
  summarizeTraffic,
  type Traffic,
  type TrafficScenario,
  trafficScenarios,
} from '@switchyard/cost-model';
import {
  type PaperBenchmarkModelResult,
  type PaperCpuEngine,
  paperBenchmarkMarkdown,
  paperHeadlineSloFactor,
  paperSloFactors,
  paperTargets,
  type RoutingDomain,
  runPaperBenchmarkModel,
} from '@switchyard/optimizer';
import { renderReport } from '../report/render-report.js';
import {
  type CpuEnginesResult,
  llamaCppTokensPerVcpuSecond,
  readCpuEngineResults,
} from './cpu-engine-results.js';
import { paperBenchInconsistencies } from './paper-check.js';
import { type PaperHeadline, paperHeadlineMarkdown, paperHeadlines } from './paper-headline.js';
import { profilePaperExpert } from './paper-profile.js';
import { paperReportData } from './paper-report.js';
import { runPaperValidation, type ValidationResult } from './paper-validation.js';
import { type QuantizedBenchResult, quantizedRowsMarkdown, runQuantizedRows } from './quantized-rows.js';

export const paperBenchShapes = [
  'bert-moe-12x4',
  'bert-moe-12x8',
  'bert-moe-12x16',
  'bert-moe-12x4-top2',
  'bert-moe-12x8-top2',
  'bert-moe-12x16-top2',
  'gpt2-moe-12x4',
  'bert2bert-moe-24x4',
] as const;

export const paperProfileFixture = 'profiles/paper-expert-768x3072.json';
export const paperRoutingFixture = 'data/real-routing/olmoe-paper-expert-counts.json';
export const azureTraceFixture = 'data/azure-llm-inference-2023';
/** The rate scales of the traffic sweep (× the Azure trace's mean rate) and the quick run's. */
export const paperRateScales = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3] as const;
const quickRateScales = [0.01, 0.1, 1];

export interface PaperBenchOptions {
  fixturesDir: string;
  outDir: string;
  shapes?: readonly string[];
  /** Re-profile the expert on this machine (else the committed profile). */
  profile?: boolean | undefined;
  validation?: boolean;
  /** Fewer BO evaluations, batches and traffic (tests, a first look); says so in the files. */
  quick?: boolean;
  tokensPerBatch?: number;
  maxEvaluations?: number;
  sloFactors?: readonly number[];
  /** The CPU baselines' instance type, size in vCPUs and optional $/hour. */
  cpuInstanceType?: string | undefined;
  cpuVcpusPerInstance?: number | undefined;
  cpuUsdPerHour?: number | undefined;
  /** Longest a serverless batch waits to fill before it goes out partial (default 10 s). */
  maxBatchWaitS?: number;
  /** bench-results/cpu-engines.json (llama.cpp beside the in-process engine); skipped when absent. */
  cpuEnginesFile?: string | undefined;
  /** The command that regenerates the files, recorded in them. */
  command?: string;
  /** Use this profile instead of loading/profiling one (tests). */
  compute?: ComputeProfile;
  /** Add the quantized rows (float32 vs int8 vs int4, quantized-rows.ts); default true. */
  quantized?: boolean;
  /** The quantized format beside float32 in those rows; default int8 and int4 (block 32). */
  quantization?: ExpertQuantization | undefined;
  logger?: Logger;
  onProgress?: (message: string) => void;
}

export interface PaperBenchResult {
  createdAt: string;
  command: string;
  quick: boolean;
  machine: { cpu: string; logicalCpus: number; loadAverage1m: number };
  assumptions: string[];
  targets: typeof paperTargets;
  /** Per shape, the figures README "Results" quotes (bench-results/paper/headline.md). */
  headline: PaperHeadline[];
  /** Where the CPU engines' figures came from. */
  cpuEngines: { file: string; createdAt: string | null; note: string };
  traffic: { base: string; requests: number; durationS: number; batchesPerS: number; rateScales: number[] };
  models: PaperBenchmarkModelResult[];
  /** Issue #18's rows: each shape per expert format, with the accuracy each format costs. */
  quantized: QuantizedBenchResult | null;
  validation: ValidationResult | null;
  wallTimeS: number;
}

/**
 * Published top-1 per-expert counts of OLMoE-1B-7B by text domain (fixtures/data/real-routing): five
 * domains × layers 0, 7, 15 × 64 experts (an expert never chosen in a domain counts 0).
 */
export function olmoeDomains(fixturesDir: string): RoutingDomain[] {
  const file = join(fixturesDir, paperRoutingFixture);
  const json = parseJson(readFileSync(file, 'utf8'), file) as {
    data?: { olmoe?: { expert_counts_top1?: Record<string, Record<string, Record<string, number>>> } };
  };
  const domains = json.data?.olmoe?.expert_counts_top1;
  if (!domains)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: 'expected data.olmoe.expert_counts_top1 (per domain, per layer, per expert counts)',
      location: file,
    });
  return Object.entries(domains).map(([name, layers]) => ({
    name,
    layers: Object.entries(layers).map(([layer, counts]) => {
      const experts = Array.from({ length: 64 }, (_, e) => counts[String(e)] ?? 0);
      for (const key of Object.keys(counts))
        if (!(Number(key) >= 0 && Number(key) < 64 && Number.isInteger(counts[key])))
          throw new SwitchyardError({
            code: 'INVALID_INPUT',
            message: `expert "${key}" with count ${counts[key]} is not one of 64 experts with a whole count`,
            location: `${file}: data.olmoe.expert_counts_top1.${name}.${layer}`,
          });
      return experts;
    }),
  }));
}

/** The Azure LLM inference trace (both services, one clock): the benchmark's headline workload. */
export function azureTrace(fixturesDir: string): Traffic {
  const dir = join(fixturesDir, azureTraceFixture);
  return mergeTraffic(
    [
      loadAzureTrace(join(dir, azureTraceFileNames.code)),
      loadAzureTrace(join(dir, azureTraceFileNames.conversation)),
    ],
    'azure-llm-inference-2023 (code + conversation)',
  );
}

/** The traffic scenarios over the trace, each stream made once and shared by every shape. */
function sharedScenarios(base: Traffic, names?: readonly string[]): TrafficScenario[] {
  const made = new Map<string, Traffic>();
  return trafficScenarios(base)
    .filter((scenario) => !names || names.includes(scenario.name))
    .map((scenario) => ({
      ...scenario,
      at: (rateScale: number) => {
        const key = `${scenario.name}@${rateScale}`;
        let traffic = made.get(key);
        if (!traffic) {
          traffic = scenario.at(rateScale);
          made.set(key, traffic);
        }
        return traffic;
      },
    }));
}

export async function runPaperBench(options: PaperBenchOptions): Promise<PaperBenchResult> {
  const started = performance.now();
  const logger = options.logger ?? noopLogger;
  const progress = options.onProgress ?? (() => {});
  const quick = options.quick ?? false;
  mkdirSync(options.outDir, { recursive: true });
  let compute = options.compute;
  const fixtureProfile = join(options.fixturesDir, paperProfileFixture);
  if (!compute) {
    if (options.profile || !existsSync(fixtureProfile)) {
      progress('profiling the 768×3072 expert at 1 and 2 threads');
      compute = await profilePaperExpert({});
      writeFileSync(fixtureProfile, `${JSON.stringify(compute, null, 2)}\n`);
    } else compute = loadComputeProfile(fixtureProfile);
  }
  writeFileSync(join(options.outDir, 'profile.json'), `${JSON.stringify(compute, null, 2)}\n`);

  const domains = olmoeDomains(options.fixturesDir);
  const base = azureTrace(options.fixturesDir);
  const rateScales = quick ? quickRateScales : [...paperRateScales];
  const scenarios = sharedScenarios(base, quick ? ['trace', 'poisson'] : undefined);
  let engines: CpuEnginesResult | undefined;
  let enginesNote = 'not given: the CPU rows use the in-process engine only';
  // Shown relative to the working directory: the files record where the figures came from, not a machine's path.
  const enginesFile = options.cpuEnginesFile
    ? relative(process.cwd(), options.cpuEnginesFile) || options.cpuEnginesFile
    : '';
  if (options.cpuEnginesFile) {
    if (existsSync(options.cpuEnginesFile)) {
      const measured = readCpuEngineResults(options.cpuEnginesFile);
      if (measured.quick && !quick)
        // A --quick engine run (2 layers, batch 2, one short repetition) measures too little to price
        // a cluster with; only a quick paper run (itself not for quoting) uses one.
        enginesNote = `${enginesFile} is a --quick run (too few layers, batches and repetitions to price a cluster): the CPU rows use the in-process engine only (run pnpm --filter @switchyard/cli bench:cpu-engines without --quick)`;
      else {
        engines = measured;
        enginesNote = `llama.cpp from ${enginesFile}${engines.quick ? ' (a --quick run)' : ''}`;
      }
    } else
      enginesNote = `${enginesFile} is missing: the CPU rows use the in-process engine only (run pnpm --filter @switchyard/cli bench:cpu-engines)`;
  }
  const tokensPerBatch = options.tokensPerBatch ?? 10_240;
  const sloFactors = options.sloFactors ?? (quick ? [1.1, paperHeadlineSloFactor, 3] : [...paperSloFactors]);
  const cpu = {
    instanceType: options.cpuInstanceType ?? 'm6a.32xlarge',
    vcpusPerInstance: options.cpuVcpusPerInstance ?? 16,
    ...(options.cpuUsdPerHour === undefined ? {} : { usdPerInstanceHour: options.cpuUsdPerHour }),
  };
  const maxBatchWaitS = options.maxBatchWaitS ?? 10;
  const models: PaperBenchmarkModelResult[] = [];
  for (const shape of options.shapes ?? paperBenchShapes) {
    progress(`${shape}: planning, billing and the traffic sweep`);
    const llamaCpp = (inProcess: PaperCpuEngine): PaperCpuEngine[] => {
      if (!engines) return [];
      try {
        return [
          llamaCppTokensPerVcpuSecond(engines, {
            shape,
            threads: 1,
            inProcessTokensPerVcpuSecond: inProcess.tokensPerVcpuSecond,
          }),
        ];
      } catch (error) {
        if (SwitchyardError.isInstance(error) && error.code === 'NOT_FOUND') {
          logger.warn?.(`no llama.cpp figure for ${shape}`, { error: error.message });
          return [];
        }
        throw error;
      }
    };
    models.push(
      await runPaperBenchmarkModel({
        shape,
        domains,
        compute,
        tokensPerBatch,
        sloFactors,
        sloFactor: paperHeadlineSloFactor,
        maxEvaluations: options.maxEvaluations ?? (quick ? 12 : 40),
        ...(quick ? { calibrationBatchesPerDomain: 4, heldOutBatchesPerDomain: 4 } : {}),
        seed: 0,
        traffic: { scenarios, rateScales, maxBatchWaitS, cpu, engines: llamaCpp },
        onProgress: (message) => progress(`  ${message}`),
      }),
    );
  }
  // Quantized rows (issue #18): a separate piece, each shape planned per expert format at its SLO.
  const quantized =
    options.quantized === false
      ? null
      : await runQuantizedRows({
          fixturesDir: options.fixturesDir,
          shapes: models.map((m) => ({ shape: m.model.replace(/^paper:/, ''), sloMs: m.sloMs })),
          tokensPerBatch,
          maxEvaluations: options.maxEvaluations ?? (quick ? 12 : 40),
          quick,
          quantization: options.quantization,
          onProgress: progress,
        });
  let validation: ValidationResult | null = null;
  if (options.validation !== false) {
    progress('validation: shakespeare-mixtral-8x2 through the local Lambda runtime');
    validation = await runPaperValidation({
      fixturesDir: options.fixturesDir,
      outDir: options.outDir,
      quick,
      logger,
      onProgress: progress,
    });
  }
  const baseSummary = summarizeTraffic(base, tokensPerBatch);
  const command = options.command ?? 'switchyard bench paper';
  const assumptions = [
    `Models: the paper's shapes (hidden 768, FFN 3,072 per expert), batches of ${tokensPerBatch.toLocaleString('en-US')} tokens; only the MoE layers are costed. Expert compute from one SwiGLU expert (3 matrices; a BERT/GPT-2 FFN has 2, so compute is ~1.5× high for every row alike) profiled with onnxruntime-node (${compute.machine.description}; ${paperProfileFixture}).`,
    "Routing: OLMoE-1B-7B's published top-1 per-expert counts by text domain (fixtures/data/real-routing), layers 0/7/15 cycled over the model's layers, a seeded subset of the 64 experts; calibration batches from c4, wikipedia and book, held-out batches from all five domains (arxiv and github unseen). Every row is planned on its forecast and billed on the held-out batches (architecture/paper-benchmark.md).",
    `SLO: ${sloFactors.join(' / ')} × the fastest feasible plan (timed on the calibration batches); the main table at ${paperHeadlineSloFactor}×. No SLO derives from LambdaML or a target; throughput loss is an outcome.`,
    `CPU side: the three cost-model baselines (static for the peak minute, right-sized per vCPU-second, autoscaled with a ${'boot delay and EC2’s 60 s minimum'}), ${cpu.vcpusPerInstance}-vCPU ${cpu.instanceType.split('.')[0]} instances priced per vCPU from ${cpu.instanceType}${options.cpuUsdPerHour === undefined ? ' on demand' : ` at $${options.cpuUsdPerHour}/h`}; throughput = the faster engine (${enginesNote}), 1 thread per expert call on the same batches' token counts (the most work per vCPU, the kindest to the CPU). Serverless batches wait at most ${maxBatchWaitS} s to fill.`,
    `Traffic: ${base.name}, ${baseSummary.requests.toLocaleString('en-US')} requests over ${baseSummary.durationS} s (${baseSummary.batchesPerS.toFixed(3)} batches/s), replayed at ${rateScales.join(', ')}× its rate as the headline workload, beside Poisson, on/off bursts and a diurnal day at the same mean rates (cost-model trafficScenarioParameters).`,
    'Lambda prices: cost-model default price table (us-east-1, x86_64): requests, duration, S3 requests.',
  ];
  const result: PaperBenchResult = {
    createdAt: new Date().toISOString(),
    command,
    quick,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      logicalCpus: cpus().length,
      loadAverage1m: loadavg()[0] ?? 0,
    },
    assumptions,
    targets: paperTargets,
    headline: paperHeadlines(models),
    cpuEngines: {
      file: enginesFile,
      createdAt: engines?.createdAt ?? null,
      note: enginesNote,
    },
    traffic: {
      base: base.name,
      requests: baseSummary.requests,
      durationS: baseSummary.durationS,
      batchesPerS: baseSummary.batchesPerS,
      rateScales,
    },
    models,
    validation,
    quantized,
    wallTimeS: (performance.now() - started) / 1000,
  };
  const inconsistencies = paperBenchInconsistencies(result);
  if (inconsistencies.length > 0)
    throw new SwitchyardError({
      code: 'INTERNAL',
      message: `the paper benchmark's derived figures disagree with its rows: ${inconsistencies.join('; ')}`,
    });
  writeFileSync(join(options.outDir, 'paper.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(
    join(options.outDir, 'paper.md'),
    `${[paperBenchMarkdown(result), ...(quantized ? quantizedRowsMarkdown(quantized) : [])].join('\n')}\n`,
  );
  writeFileSync(join(options.outDir, 'headline.md'), paperHeadlineMarkdown(result));
  writeFileSync(join(options.outDir, 'paper.html'), renderReport(paperReportData(result)));
  return result;
}

export function paperBenchMarkdown(result: PaperBenchResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const v = result.validation;
  const lines = [
    `# Paper benchmark (${result.createdAt.slice(0, 10)})${result.quick ? ' — QUICK RUN, not for quoting' : ''}`,
    '',
    `Machine: ${result.machine.cpu}, ${result.machine.logicalCpus} logical CPUs, 1-min load ${result.machine.loadAverage1m.toFixed(2)} at the end. Wall time ${result.wallTimeS.toFixed(1)} s. Re-run: \`${result.command}\`. Definitions: architecture/paper-benchmark.md.`,
    '',
    '## Headline',
    '',
    paperHeadlineMarkdown(result).trim(),
    '',
    paperBenchmarkMarkdown(result.models),
    '## Validation (measured on the embedded Lambda runtime)',
    '',
    ...(v
      ? [
          `${v.batches} batches at ${v.runs.map((run) => run.memoryMB).join(', ')} MB (every batch in bench-results/paper/validation.md): error measured ÷ simulated − 1 with the rows' transport terms median ${pct(v.medianRelativeError)}, worst ${pct(v.worstRelativeError)}; handler-only terms median ${pct(v.medianRelativeErrorLocalTransport)}, worst ${pct(v.worstRelativeErrorLocalTransport)}. Calibrated separately (validation-calibration.json: plans at ${v.calibration.memorySizesMB.join(', ')} MB, ${v.calibration.tokenCounts.join(', ')}-token invocations).`,
          '',
          '| memory MB | batches | median error | worst error | median error (handler only) | worst error (handler only) |',
          '|---|---|---|---|---|---|',
          ...v.runs.map(
            (run) =>
              `| ${run.memoryMB} | ${run.batches.length} | ${pct(run.medianRelativeError)} | ${pct(run.worstRelativeError)} | ${pct(run.medianRelativeErrorLocalTransport)} | ${pct(run.worstRelativeErrorLocalTransport)} |`,
          ),
        ]
      : ['not run']),
    '',
    '## Assumptions',
    '',
    ...result.assumptions.map((a) => `* ${a}`),
    '',
  ];
  return lines.join('\n');
}
