import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type Logger, noopLogger, parseJson } from '@switchyard/core';
import { type ComputeProfile, linearSummary, loadComputeProfile } from '@switchyard/cost-model';
import {
  type PaperBenchmarkModelResult,
  paperBenchmarkMarkdown,
  paperTargets,
  runPaperBenchmarkModel,
} from '@switchyard/optimizer';
import { profilePaperExpert } from './paper-profile.js';
import { runPaperValidation, type ValidationResult } from './paper-validation.js';

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

export interface PaperBenchOptions {
  fixturesDir: string;
  outDir: string;
  shapes?: readonly string[];
  /** Re-profile the expert on this machine (else the committed profile). */
  profile?: boolean;
  validation?: boolean;
  arrivalRatePerS?: number;
  tokensPerBatch?: number;
  maxEvaluations?: number;
  /** CPU cluster instance class (price table) and an optional $/hour override. */
  cpuInstanceType?: string;
  cpuUsdPerHour?: number;
  /** Use this profile instead of loading/profiling one (tests). */
  compute?: ComputeProfile;
  logger?: Logger;
  onProgress?: (message: string) => void;
}

export interface PaperBenchResult {
  createdAt: string;
  machine: { cpu: string; logicalCpus: number; loadAverage1m: number };
  assumptions: string[];
  targets: typeof paperTargets;
  models: PaperBenchmarkModelResult[];
  validation: ValidationResult | null;
  wallTimeS: number;
}

/** Top-1 expert counts of google/switch-base-128 per encoder layer (6 layers × 128 experts). */
export function switchBaseCounts(fixturesDir: string): number[][] {
  const file = join(fixturesDir, 'data/real-routing/switch-base-128-expert-counts.json');
  const json = parseJson(readFileSync(file, 'utf8'), file) as {
    expert_usage_by_layer: Record<string, Record<string, number>>;
  };
  return Object.values(json.expert_usage_by_layer).map((layer) => Object.values(layer));
}

export async function runPaperBench(options: PaperBenchOptions): Promise<PaperBenchResult> {
  const started = performance.now();
  const logger = options.logger ?? noopLogger;
  const progress = options.onProgress ?? (() => {});
  mkdirSync(options.outDir, { recursive: true });
  let compute = options.compute;
  const fixtureProfile = join(options.fixturesDir, paperProfileFixture);
  if (!compute) {
    if (options.profile || !existsSync(fixtureProfile)) {
      progress('profiling the 768×3072 expert at 1 and 2 threads');
      compute = await profilePaperExpert({});
      const text = `${JSON.stringify(compute, null, 2)}\n`;
      writeFileSync(join(options.outDir, 'profile.json'), text);
      writeFileSync(fixtureProfile, text);
    } else {
      compute = loadComputeProfile(fixtureProfile);
      writeFileSync(join(options.outDir, 'profile.json'), `${JSON.stringify(compute, null, 2)}\n`);
    }
  }
  const counts = switchBaseCounts(options.fixturesDir);
  const arrivalRatePerS = options.arrivalRatePerS ?? 0.1;
  const tokensPerBatch = options.tokensPerBatch ?? 10_240;
  const models: PaperBenchmarkModelResult[] = [];
  for (const shape of options.shapes ?? paperBenchShapes) {
    progress(`planning ${shape}`);
    models.push(
      await runPaperBenchmarkModel({
        shape,
        sourceCounts: counts,
        compute,
        tokensPerBatch,
        arrivalRatePerS,
        maxEvaluations: options.maxEvaluations ?? 40,
        seed: 0,
        cpuInstanceType: options.cpuInstanceType,
        cpuUsdPerHour: options.cpuUsdPerHour,
      }),
    );
  }
  let validation: ValidationResult | null = null;
  if (options.validation !== false) {
    progress('validation: shakespeare-mixtral-8x2 through the local Lambda runtime');
    validation = await runPaperValidation({ fixturesDir: options.fixturesDir, logger, onProgress: progress });
  }
  const one = linearSummary(compute, 1);
  const cpu = models[0]?.cpuSensitivity;
  const cpuClass = cpu ? `${cpu.instanceType} ($${cpu.usdPerHour}/h)` : 'm6a.32xlarge';
  const assumptions = [
    `Workload: batches of ${tokensPerBatch} tokens arriving as a Poisson stream (exponential gaps, coefficient of variation 1) at a mean ${arrivalRatePerS} batches/s = ${arrivalRatePerS * tokensPerBatch} tokens/s, ${(arrivalRatePerS * 86_400).toLocaleString('en-US')} batches a day. This is the benchmark's default (\`--arrival-rate\`), unchanged since its first run and not tuned to any result: a steady but sporadic stream, the paper's setting of a provisioned cluster serving inference requests that do not keep it busy. Costs are of the MoE (expert) layers only.`,
    `Expert compute: one SwiGLU expert of hidden 768 × FFN 3072 (seeded random weights) profiled with onnxruntime-node on this machine at 1 and 2 threads (1 thread: ≈ ${one.fixedMs.toFixed(2)} ms + ${one.perTokenMs.toFixed(4)} ms/token); a BERT/GPT-2 FFN has 2 matrices, not 3, so absolute compute is ~1.5× high for every row alike. Lambda memory sizes get their vCPU share through cost-model's Amdahl share model; the CPU cluster through the same profile at its thread count.`,
    "Popularity skew: google/switch-base-128 top-1 expert counts (fixtures/data/real-routing), its 6 encoder layers cycled over the model's layers, a seeded random subset of E of its 128 experts per layer; top-2 shapes draw 2 selections per token from the same shares.",
    "SLO per model: LambdaML-style latency / (1 − 0.1876), so a row that meets it loses at most the paper's 18.76 % throughput against LambdaML. Every row is planned for and judged at this one SLO: Switchyard, the paper's method and LambdaML-style are planned by the same planDeployment on the same forecast, compute profile, transport parameters and price table; only the strategy differs.",
    "LambdaML-style: one function per expert at 3,008 MB, one replica, no prediction; direct payload when it fits 6 MB, else S3. Paper's method: the paper's ODS planner on the same forecast. Switchyard: ε-greedy BO planner on the same forecast. Both forecasts come from the same popularity (the predictor strategies are compared on the shakespeare traces by `switchyard predict`; not in these rows). Serverless rows are billed per invocation (GB-s, requests, S3) and have no utilisation.",
    `CPU cluster (the row the targets use): whole ${cpuClass} machines (the paper's "2 × 64-core EPYC, 512 GB" class) at the price table's on-demand rate, provisioned for the whole stream and billed for all their wall time (cost per batch = machines × $/h ÷ 3,600 ÷ arrival rate). A batch occupies a slot of E experts × t onnxruntime threads, one vCPU per thread (t = 1…32 while E·t fits one machine): an EC2 vCPU is counted like a Lambda vCPU and both run the same one-thread profile (the kinder choice for the cluster; a physical core per thread would double its vCPUs); its service time comes from the same measured profile (each layer's experts side by side, cost-model cpuClusterBaseline, no network cost). Slots are the fewest whose p95 response time (queueing + service) meets the SLO under the Poisson stream (M/D/c: Erlang-C wait with the decay doubled, Allen–Cunneen), then rounded up to whole machines; the cheapest thread count wins (at equal cost the one keeping the fewest vCPUs busy per batch). Utilisation = arrival rate × busy vCPU-seconds per batch ÷ provisioned vCPUs, printed per row.`,
    `CPU cluster, right-sized (sensitivity, not a target): the same slots priced as a smaller instance of the same family (m6a sizes are linear in price: $/vCPU-h = the class's $/h ÷ its vCPUs), i.e. no whole-machine rounding. Break-even utilisation: the busy vCPU cost per batch of the most efficient thread count that meets the SLO, divided by Switchyard's cost per batch. A cluster busier than that is cheaper than Switchyard; Switchyard's saving is ≥ 75.67 % only while the cluster's utilisation stays below 0.2433 × that.`,
    "GPT2-MoE 12×4 has the same expert shape, layer count and popularity mapping as BERT-MoE 12×4, and only the MoE layers are costed, so its rows equal BERT-MoE 12×4's.",
    "Validation: the shakespeare-mixtral-8x2 model planned (BO, direct transport, one memory size per run, 256 and 1,769 MB) with the calibrated invocation overhead in its cost profile, deployed to the embedded Lambda runtime; one warm-up batch, then measured batches of the held-out trace's real routing sent one invocation at a time (the runtime's functions share this machine's cores), each batch's summed BillingReports vs cost-model planCost for the same plan and the same per-expert token counts. The simulator describes what the runtime bills: handler time only (weights loaded at INIT, so no per-invocation parameter download, no storage access; invoke hop and payload transfer happen outside the handler), compute from the shakespeare compute profile, plus a per-invocation overhead (fixed + per wire byte at one vCPU: event parse, base64, wire decode/encode, session set-up, waking an idle function process) calibrated from separate invocations with synthetic token counts on the same functions in the same order, one round right before each measured batch. Below one vCPU the runtime stretches the whole handler time by 1,769/MB, and the cost model stretches compute and overhead by the same rule (lambda-executor vcpuShare = cost-model vcpuForMemory = MB/1,769, capped at 6; at and above 1,769 MB the runtime gives ⌈share⌉ threads and no stretch, the overhead is serial).",
    'Lambda prices: cost-model default price table (us-east-1, x86_64), requests, duration, S3 requests included.',
  ];
  const result: PaperBenchResult = {
    createdAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      logicalCpus: cpus().length,
      loadAverage1m: loadavg()[0] ?? 0,
    },
    assumptions,
    targets: paperTargets,
    models,
    validation,
    wallTimeS: (performance.now() - started) / 1000,
  };
  writeFileSync(join(options.outDir, 'paper.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(options.outDir, 'paper.md'), paperBenchMarkdown(result));
  return result;
}

export function paperBenchMarkdown(result: PaperBenchResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const v = result.validation;
  const lines = [
    `# Paper benchmark (${result.createdAt.slice(0, 10)})`,
    '',
    `Machine: ${result.machine.cpu}, ${result.machine.logicalCpus} logical CPUs, 1-min load ${result.machine.loadAverage1m.toFixed(2)} at the end. Wall time ${result.wallTimeS.toFixed(1)} s. Re-run: \`switchyard bench paper\`.`,
    '',
    `Workload: ${result.models[0]?.tokensPerBatch ?? 0}-token batches, Poisson arrivals at ${result.models[0]?.arrivalRatePerS ?? 0} batches/s (see Assumptions). Every row of a model is judged at the same SLO.`,
    '',
    paperBenchmarkMarkdown(result.models),
    "## Targets (paper: ≥ 75.67 % vs CPU cluster, ≥ 43.41 % vs LambdaML, ≤ 18.76 % throughput loss, cheaper than the paper's method)",
    '',
    "| model | SLO ms | vs CPU cluster | vs LambdaML | throughput loss vs LambdaML | vs paper's method |",
    '|---|---|---|---|---|---|',
    ...result.models.map(
      (m) =>
        `| ${m.model} | ${m.sloMs} | ${pct(m.savingVsCpuCluster)} ${m.targetsMet.vsCpuCluster ? 'met' : 'SHORT'} | ${pct(m.savingVsLambdaml)} ${m.targetsMet.vsLambdaml ? 'met' : 'SHORT'} | ${pct(m.throughputLossVsLambdaml)} ${m.targetsMet.throughputLoss ? 'met' : 'SHORT'} | ${pct(m.savingVsPaper)} ${m.targetsMet.vsPaper ? 'met' : 'SHORT'} |`,
    ),
    '',
    '## CPU cluster: provisioning, utilisation and when the claim holds',
    '',
    '| model | cluster (whole machines) | slots × threads/expert | p95 response ms | utilisation | Switchyard saving | right-sized vCPU | right-sized utilisation | saving vs right-sized | ≥ 75.67 % while utilisation ≤ | break-even utilisation |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...result.models.map((m) => {
      const c = m.rows.cpuCluster;
      const r = m.cpuSensitivity.rightSized;
      return `| ${m.model} | ${c.instances} × ${c.vcpus === undefined || c.instances === undefined ? '?' : c.vcpus / c.instances} vCPU | ${c.slots} × ${c.threadsPerExpert} | ${Math.round(c.responseQuantileMs ?? 0)} | ${pct(c.utilization ?? 0)} | ${pct(m.savingVsCpuCluster)} | ${r.vcpus} | ${pct(r.utilization ?? 0)} | ${pct(m.cpuSensitivity.savingVsRightSized)} | ${pct(m.cpuSensitivity.claimUtilization)} | ${pct(m.cpuSensitivity.breakEvenUtilization)}${m.cpuSensitivity.breakEvenUtilization > 1 ? ' (never)' : ''} |`;
    }),
    '',
    '## Validation (measured on the embedded Lambda runtime)',
    '',
    ...(v
      ? [
          `${v.model}, ${v.tokensPerBatch}-token held-out batch. Invocation overhead calibrated from ${v.calibration.invocations} separate invocations (${v.calibration.tokenCounts.join('/')} tokens per function, one round on the plan's functions before each measured batch, ${v.calibration.rounds} rounds); pooled over all rounds: ${v.invocationOverhead.fixedMs.toFixed(3)} ms + ${(v.invocationOverhead.perByteMs * 1e6).toFixed(2)} ns per wire byte at one vCPU. Each batch is simulated with the overhead fitted in the round just before it; the batch with the median difference is reported.`,
          '',
          '| memory MB | functions | invocations | simulated GB-s | measured GB-s | difference | within 15 % | per batch: simulated / measured | pooled calibration vs median batch | uncalibrated simulator | 1-min load |',
          '|---|---|---|---|---|---|---|---|---|---|---|',
          ...v.runs.map(
            (run) =>
              `| ${run.memoryMB} | ${run.functions} | ${run.invocations} | ${run.simulatedGbSeconds.toFixed(4)} | ${run.measuredGbSeconds.toFixed(4)} | ${pct(run.relativeError)} | ${run.withinTarget ? 'yes' : 'NO'} | ${run.simulatedGbSecondsPerBatch.map((g, i) => `${g.toFixed(3)} / ${run.measuredGbSecondsPerBatch[i]!.toFixed(3)}`).join(', ')} | ${run.pooledSimulatedGbSeconds.toFixed(4)} vs ${run.medianMeasuredGbSeconds.toFixed(4)} (${pct(run.medianMeasuredGbSeconds / run.pooledSimulatedGbSeconds - 1)}) | ${run.uncalibratedGbSeconds.toFixed(4)} | ${run.loadAverage1m.toFixed(2)} |`,
          ),
          '',
          `The JSON's \`validation\` reports the ${v.memoryMB} MB run: simulated ${v.simulatedGbSeconds.toFixed(4)} GB-s, measured ${v.measuredGbSeconds.toFixed(4)} GB-s, difference ${pct(v.relativeError)} (${v.withinTarget ? 'within' : 'OUTSIDE'} the 15 % target; all memory sizes ${v.allWithinTarget ? 'within' : 'NOT all within'}). Billed durations are wall-clock times on a shared 2-core machine, so every measured figure moves with the load (see the per-batch columns); the uncalibrated column is the previous simulator (paper's transport defaults, no invocation overhead) on the same plan and tokens.`,
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
