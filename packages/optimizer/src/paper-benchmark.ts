import type { DeploymentPlan } from '@switchyard/core';
import { type ComputeProfile, defaultPriceTable, type PriceTable } from '@switchyard/cost-model';
import { withThreadSpeedup } from '@switchyard/cost-model/internal';
import type { Configuration, PlannerKnobs } from './configuration.js';
import type { DeploymentSolver } from './deployment-solver.js';
import { OptimizerError } from './errors.js';
import { forecastFromBatches, forecastFromPopularity, type LoadForecast } from './load-forecast.js';
import { type PaperSolver, planPaperMethod } from './paper-method.js';
import { type PaperRouting, paperRouting, type RoutedBatch, type RoutingDomain } from './paper-routing.js';
import { paperShape } from './paper-shapes.js';
import {
  batchCostFunction,
  inProcessThroughput,
  type PaperTrafficOptions,
  type PaperTrafficResult,
  paperTrafficComparison,
} from './paper-traffic.js';
import { planDeployment } from './plan-deployment.js';
import { PlanningProblem } from './planning-problem.js';
import { billOnBatches, configurationFromPlan, type RealisedBill } from './realised-bill.js';

/** The INFOCOM 2025 paper's headline claims (Liu, Wang, Wu §V); only ever compared with outcomes. */
export const paperTargets = {
  savingVsCpuCluster: 0.7567,
  savingVsLambdaml: 0.4341,
  maxThroughputLoss: 0.1876,
} as const;
export type PaperTargets = { [K in keyof typeof paperTargets]: number };

/** SLO factors over the fastest feasible plan the benchmark sweeps, and the one its main table uses. */
export const paperSloFactors = [1.1, 1.25, 1.5, 2, 3] as const;
export const paperHeadlineSloFactor = 1.5;

/** The rows of the main table (architecture/paper-benchmark.md defines each). */
export const paperRowKeys = [
  'switchyard',
  'paperOds',
  'paperExact',
  'lambdaml',
  'exactFixedKnobs',
  'exactFixedKnobsNoPredictor',
  'switchyardNoPredictor',
  'switchyardSampledBatches',
  'odsFixedKnobs',
] as const;
export type PaperRowKey = (typeof paperRowKeys)[number];

/** One deployment of one model: planned on its forecast, billed on the held-out batches. */
export interface PaperBenchmarkRow {
  key: string;
  deployment: string;
  description: string;
  /** What the planner expected on the forecast it planned for (planCost at the mean load). */
  planned: { costUsdPerBatch: number; latencyMs: number; sloMet: boolean; gbSecondsPerBatch?: number };
  /** What the held-out batches cost (the routing actually realised). */
  billed: RealisedBill;
  /** Billed mean cost per batch and per million tokens, billed mean latency and its throughput. */
  costUsdPerBatch: number;
  costUsdPerMillionTokens: number;
  latencyMs: number;
  throughputTokensPerS: number;
  /** Met on at least the planner's attainment share (90 %) of the held-out batches. */
  sloMet: boolean;
  /** Deployed functions, counting replicas. */
  functions: number;
  /** Evaluations of the row's search (1 for a fixed plan) and its dimensions where it has them. */
  evaluations: number;
  dimensions?: number;
}

/** One SLO factor of the sweep: the rows planned for it, and the outcomes against LambdaML. */
export interface PaperSloPoint {
  factor: number;
  sloMs: number;
  rows: { switchyard: PaperBenchmarkRow; paperOds: PaperBenchmarkRow; exactFixedKnobs: PaperBenchmarkRow };
  lambdaml: { sloMet: boolean; sloAttainment: number };
  savingVsLambdaml: number;
  savingVsPaper: number;
  /** 1 − LambdaML's billed mean latency ÷ the row's (negative: faster than LambdaML). */
  throughputLossVsLambdaml: { switchyard: number; paperOds: number; exactFixedKnobs: number };
}

export interface PaperBenchmarkModelResult {
  model: string;
  tokensPerBatch: number;
  topK: number;
  /** The lowest latency any deployment reaches at the calibration forecast's mean load. */
  fastestFeasibleLatencyMs: number;
  sloFactor: number;
  sloMs: number;
  routing: {
    calibrationDomains: string[];
    heldOutDomains: string[];
    calibrationBatches: number;
    heldOutBatches: number;
  };
  /** The main table at `sloFactor`. */
  rows: Record<PaperRowKey, PaperBenchmarkRow>;
  /** Switchyard's billed saving against each row, and its throughput loss against LambdaML. */
  savingVsLambdaml: number;
  savingVsPaper: number;
  savingVsPaperExact: number;
  throughputLossVsLambdaml: number;
  /** Each component's own number: 1 − cost with it ÷ cost without it (billed). */
  contributions: {
    bayesOptOverKnobs: number;
    predictorInSwitchyard: number;
    predictorAtFixedKnobs: number;
    exactSolverInPaperBo: number;
    paperBoOverOds: number;
  };
  sloSweep: PaperSloPoint[];
  /** The CPU side over traffic (null when no traffic was given). */
  cpu: PaperTrafficResult | null;
  /** LambdaML's saving with the measured 2-thread speed-up and with an assumed one. */
  lambdamlSensitivity: {
    speedup: number;
    measured: {
      twoThreadSpeedup: number;
      lambdaml: PaperBenchmarkRow;
      switchyard: PaperBenchmarkRow;
      saving: number;
    };
    assumed: {
      twoThreadSpeedup: number;
      lambdaml: PaperBenchmarkRow;
      switchyard: PaperBenchmarkRow;
      saving: number;
    };
  };
  targetsMet: { vsLambdaml: boolean; throughputLoss: boolean; vsPaper: boolean };
  wallTimeS: number;
}

export interface PaperBenchmarkModelInput {
  /** A paper shape, e.g. `bert-moe-12x4` or `bert-moe-12x4-top2`. */
  shape: string;
  /** Published per-domain routing counts (e.g. OLMoE's by text domain). */
  domains: readonly RoutingDomain[];
  calibrationDomains?: readonly string[];
  heldOutDomains?: readonly string[];
  compute: ComputeProfile;
  tokensPerBatch?: number;
  sloFactors?: readonly number[];
  /** The factor of the main table; must be one of `sloFactors`. */
  sloFactor?: number;
  /** Evaluation budget of every BO (Switchyard's and the paper's). */
  maxEvaluations?: number;
  /** Q of the paper's BO. */
  paperEntries?: number;
  /** The assumed 2-thread speed-up of the sensitivity rows (default 1.8). */
  assumedSpeedup?: number;
  calibrationBatchesPerDomain?: number;
  heldOutBatchesPerDomain?: number;
  /** The claims outcomes are compared with (default `paperTargets`); they never shape an outcome. */
  targets?: PaperTargets;
  /** Traffic scenarios and CPU baselines; without it the result has no CPU side. */
  traffic?: PaperTrafficOptions;
  seed?: number;
  prices?: PriceTable;
  onProgress?: (message: string) => void;
}

/**
 * Throughput lost against LambdaML: 1 − LambdaML's latency ÷ the row's (both billed means). An
 * outcome with no bound: negative when the row is faster, up to 1 when it is much slower.
 */
export function throughputLoss(lambdamlLatencyMs: number, rowLatencyMs: number): number {
  return 1 - lambdamlLatencyMs / rowLatencyMs;
}

const fixedKnobs: PlannerKnobs = { beta: 64, loadQuantile: 0.5, packingThreshold: 0, sloHeadroom: 0 };

/** Two-thread speed-up of a profile at its largest knot (1 when it has no 2-thread curve). */
function twoThreadSpeedup(profile: ComputeProfile): number {
  const one = profile.curves.find((curve) => curve.threads === 1)!;
  const two = profile.curves.find((curve) => curve.threads === 2);
  if (!two) return 1;
  return one.knots.at(-1)!.durationMs / two.knots.at(-1)!.durationMs;
}

/** The fastest deployment at fixed knobs (each layer's fastest frontier point), when none meets the SLO. */
function fastestConfiguration(solver: DeploymentSolver, knobs: PlannerKnobs): Configuration | undefined {
  const groups = solver.groups(knobs);
  const points = groups.map(
    (layerGroups) => solver.layerFrontier(layerGroups, knobs.beta, solver.context.methods)[0],
  );
  if (points.some((point) => point === undefined)) return undefined;
  return solver.buildConfiguration(
    knobs,
    groups,
    points.map((point) => point!),
    points.map((point) => point!.latencyMs),
  );
}

/**
 * One model of the paper benchmark (architecture/paper-benchmark.md): calibration and held-out
 * batches from published per-domain routing, the SLO as factors of the fastest feasible plan, and
 * every row planned on its forecast and billed on the held-out batches.
 */
export async function runPaperBenchmarkModel(
  input: PaperBenchmarkModelInput,
): Promise<PaperBenchmarkModelResult> {
  const started = performance.now();
  const model = paperShape(input.shape);
  const tokensPerBatch = input.tokensPerBatch ?? 10_240;
  const seed = input.seed ?? 0;
  const prices = input.prices ?? defaultPriceTable;
  const targets = input.targets ?? paperTargets;
  const maxEvaluations = input.maxEvaluations ?? 40;
  const factors = [...(input.sloFactors ?? paperSloFactors)];
  const headline = input.sloFactor ?? paperHeadlineSloFactor;
  if (!factors.includes(headline))
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `sloFactor ${headline} must be one of the swept factors ${factors.join(', ')}`,
      location: 'sloFactor',
    });
  if (factors.some((factor) => !(factor >= 1)))
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `SLO factors are multiples of the fastest feasible latency and must be ≥ 1, got ${factors.join(', ')}`,
      location: 'sloFactors',
    });
  const progress = input.onProgress ?? (() => {});
  const routing: PaperRouting = paperRouting({
    domains: input.domains,
    calibrationDomains: input.calibrationDomains ?? ['c4', 'wikipedia', 'book'],
    ...(input.heldOutDomains ? { heldOutDomains: input.heldOutDomains } : {}),
    numLayers: model.moeLayers.length,
    numExperts: model.numExperts,
    topK: model.topK,
    tokensPerBatch,
    ...(input.calibrationBatchesPerDomain
      ? { calibrationBatchesPerDomain: input.calibrationBatchesPerDomain }
      : {}),
    ...(input.heldOutBatchesPerDomain ? { heldOutBatchesPerDomain: input.heldOutBatchesPerDomain } : {}),
    seed,
  });
  const calibrationLoads = routing.calibration.map((batch) => batch.loads);
  const forecast = forecastFromBatches(calibrationLoads, { tokensPerBatch, layers: model.moeLayers });
  const uniformForecast = forecastFromPopularity(
    model.moeLayers.map(() => new Array<number>(model.numExperts).fill(1)),
    { tokensPerBatch, topK: model.topK, layers: model.moeLayers },
  );
  const countTable = model.moeLayers.map((_, l) =>
    Array.from({ length: model.numExperts }, (_, e) =>
      calibrationLoads.reduce((sum, loads) => sum + loads[l]![e]!, 0),
    ),
  );
  const heldOut: RoutedBatch[] = routing.heldOut;

  const common = (compute: ComputeProfile, planned: LoadForecast, sloMs: number) => ({
    model,
    forecast: planned,
    costProfile: { compute },
    prices,
    seed,
    workload: { tokensPerBatch, sloMs },
    createdAt: '2026-12-06T00:00:00Z',
  });
  // The fastest feasible plan: over the knob grid's β and load quantiles, the fastest deployment
  // (each layer's fastest option), timed on the calibration batches by the planner's own rule (the
  // batch at the attainment quantile). Nothing here knows LambdaML, a row or a target.
  const unbounded = new PlanningProblem(common(input.compute, forecast, Number.MAX_SAFE_INTEGER));
  let fastestFeasibleLatencyMs = Number.POSITIVE_INFINITY;
  for (const beta of unbounded.input.knobs.beta)
    for (const loadQuantile of unbounded.input.knobs.loadQuantile) {
      const configuration = fastestConfiguration(unbounded.solver, { ...fixedKnobs, beta, loadQuantile });
      if (!configuration) continue;
      const latencies = unbounded.solver.evaluateOnBatches(configuration, calibrationLoads).batchLatenciesMs;
      const rank = Math.min(
        latencies.length - 1,
        Math.ceil(unbounded.input.sloAttainment * latencies.length) - 1,
      );
      fastestFeasibleLatencyMs = Math.min(fastestFeasibleLatencyMs, latencies[Math.max(0, rank)]!);
    }
  if (!Number.isFinite(fastestFeasibleLatencyMs))
    throw new OptimizerError({ code: 'INTERNAL', message: `${model.name}: no deployment fits the limits` });
  const sloOf = (factor: number) => Math.ceil(factor * fastestFeasibleLatencyMs);

  const makeRow = (
    key: string,
    deployment: string,
    description: string,
    plan: DeploymentPlan,
    bill: RealisedBill,
    search: { evaluations: number; dimensions?: number },
  ): PaperBenchmarkRow => ({
    key,
    deployment,
    description,
    planned: {
      costUsdPerBatch: plan.predicted.costUsdPerBatch,
      latencyMs: plan.predicted.latencyMs,
      sloMet: plan.predicted.sloMet,
      ...(plan.predicted.gbSecondsPerBatch === undefined
        ? {}
        : { gbSecondsPerBatch: plan.predicted.gbSecondsPerBatch }),
    },
    billed: bill,
    costUsdPerBatch: bill.meanCostUsd,
    costUsdPerMillionTokens: (bill.meanCostUsd / tokensPerBatch) * 1e6,
    latencyMs: bill.meanLatencyMs,
    throughputTokensPerS: bill.meanLatencyMs > 0 ? tokensPerBatch / (bill.meanLatencyMs / 1000) : 0,
    sloMet: bill.sloAttainment >= 0.9,
    functions: plan.layers.reduce(
      (sum, layer) => sum + layer.functions.reduce((n, fn) => n + fn.replicas, 0),
      0,
    ),
    evaluations: search.evaluations,
    ...(search.dimensions === undefined ? {} : { dimensions: search.dimensions }),
  });

  /** The deployment behind each row (the traffic comparison bills Switchyard's on every batch). */
  const configurations = new Map<PaperBenchmarkRow, Configuration>();
  /** A `planDeployment` plan, billed on the held-out batches by `billing`'s solver. */
  const planned = async (
    key: string,
    deployment: string,
    description: string,
    billing: PlanningProblem,
    options: Parameters<typeof planDeployment>[0],
  ): Promise<PaperBenchmarkRow> => {
    const plan = await planDeployment(options);
    const configuration = configurationFromPlan(plan, model.bytesPerExpert);
    const bill = billOnBatches(billing.solver, configuration, heldOut);
    const row = makeRow(key, deployment, description, plan, bill, {
      evaluations: plan.search?.evaluations ?? 1,
    });
    configurations.set(row, configuration);
    return row;
  };
  /** A solved configuration of `problem`, billed on the held-out batches. */
  const solved = (
    key: string,
    deployment: string,
    description: string,
    problem: PlanningProblem,
    configuration: Configuration,
    strategy: DeploymentPlan['strategy'],
    search: { evaluations: number; dimensions?: number },
  ): PaperBenchmarkRow =>
    makeRow(
      key,
      deployment,
      description,
      problem.toPlan(configuration, strategy),
      billOnBatches(problem.solver, configuration, heldOut),
      search,
    );
  const exactAtFixedKnobs = (problem: PlanningProblem, key: string, label: string, note: string) => {
    const configuration =
      problem.solver.solve(fixedKnobs).configuration ?? fastestConfiguration(problem.solver, fixedKnobs);
    if (!configuration)
      throw new OptimizerError({
        code: 'INTERNAL',
        message: `${model.name}: no deployment at the fixed knobs`,
      });
    return solved(
      key,
      label,
      `Switchyard's exact solver at ODS's fixed knobs (β 64, mean load, no packing, no headroom), no BO; ${note}`,
      problem,
      configuration,
      'ods',
      { evaluations: 1 },
    );
  };
  const paperBo = async (problem: PlanningProblem, solver: PaperSolver): Promise<PaperBenchmarkRow> => {
    const result = await planPaperMethod({
      problem,
      countTable,
      objectiveBatches: calibrationLoads,
      solver,
      maxEvaluations,
      seed,
      ...(input.paperEntries === undefined ? {} : { entries: input.paperEntries }),
    });
    const configuration = result.configuration ?? fastestConfiguration(problem.solver, fixedKnobs);
    if (!configuration)
      throw new OptimizerError({
        code: 'INTERNAL',
        message: `${model.name}: the paper's BO found no deployment`,
      });
    return solved(
      solver === 'ods' ? 'paperOds' : 'paperExact',
      solver === 'ods' ? "paper's method (BO + ODS)" : "paper's method (BO + exact solver)",
      `ε-greedy BO over the ${result.dimensions} largest count-table entries (Q = min(1,000, L·E)), ${solver === 'ods' ? 'ODS' : "Switchyard's exact solver"} at every β inside each trial, mean billed cost over the ${calibrationLoads.length} calibration batches (${result.evaluations} evaluations; the unmodified table cost ${result.predictorCostUsd.toExponential(3)} $/batch there, the chosen one ${result.chosenCostUsd.toExponential(3)})`,
      problem,
      configuration,
      'ods',
      { evaluations: result.evaluations, dimensions: result.dimensions },
    );
  };

  // LambdaML: no prediction, so planned on the forecast without the predictor; SLO-independent.
  progress(`${model.name}: LambdaML`);
  const lambdamlPlan = await planDeployment({
    ...common(input.compute, uniformForecast, sloOf(headline)),
    strategy: 'lambdaml',
  });
  const lambdamlConfiguration = configurationFromPlan(lambdamlPlan, model.bytesPerExpert);

  const sloSweep: PaperSloPoint[] = [];
  let headlineRows: Partial<Record<PaperRowKey, PaperBenchmarkRow>> = {};
  for (const factor of factors) {
    const sloMs = sloOf(factor);
    progress(`${model.name}: SLO ${factor} × fastest = ${sloMs} ms`);
    const problem = new PlanningProblem(common(input.compute, forecast, sloMs));
    const lambdaml = makeRow(
      'lambdaml',
      'LambdaML',
      'as published: one function per expert at 3,008 MB, one replica, no prediction (planned on the forecast without the predictor); each layer on its fastest feasible transport',
      lambdamlPlan,
      billOnBatches(problem.solver, lambdamlConfiguration, heldOut),
      { evaluations: 1 },
    );
    const switchyard = await planned(
      'switchyard',
      'Switchyard',
      'ε-greedy BO over β, load quantile, packing and SLO headroom, exact solver inside each trial, trials scored on the calibration batches; forecast with the predictor',
      problem,
      {
        ...common(input.compute, forecast, sloMs),
        strategy: 'bo',
        maxEvaluations,
        batches: calibrationLoads,
      },
    );
    const paperOds = await paperBo(problem, 'ods');
    const exactFixedKnobs = exactAtFixedKnobs(
      problem,
      'exactFixedKnobs',
      'exact solver, fixed knobs',
      'forecast with the predictor',
    );
    const loss = (row: PaperBenchmarkRow) => throughputLoss(lambdaml.latencyMs, row.latencyMs);
    sloSweep.push({
      factor,
      sloMs,
      rows: { switchyard, paperOds, exactFixedKnobs },
      lambdaml: { sloMet: lambdaml.sloMet, sloAttainment: lambdaml.billed.sloAttainment },
      savingVsLambdaml: 1 - switchyard.costUsdPerBatch / lambdaml.costUsdPerBatch,
      savingVsPaper: 1 - switchyard.costUsdPerBatch / paperOds.costUsdPerBatch,
      throughputLossVsLambdaml: {
        switchyard: loss(switchyard),
        paperOds: loss(paperOds),
        exactFixedKnobs: loss(exactFixedKnobs),
      },
    });
    if (factor !== headline) continue;
    progress(`${model.name}: ablations at the main SLO`);
    const noPredictor = new PlanningProblem(common(input.compute, uniformForecast, sloMs));
    headlineRows = {
      switchyard,
      paperOds,
      lambdaml,
      exactFixedKnobs,
      paperExact: await paperBo(problem, 'exact'),
      exactFixedKnobsNoPredictor: exactAtFixedKnobs(
        noPredictor,
        'exactFixedKnobsNoPredictor',
        'exact solver, fixed knobs, no predictor',
        'forecast without the predictor (every expert the same load)',
      ),
      switchyardNoPredictor: await planned(
        'switchyardNoPredictor',
        'BO over knobs, no predictor',
        "Switchyard's BO on the forecast without the predictor (every expert the same load)",
        problem,
        { ...common(input.compute, uniformForecast, sloMs), strategy: 'bo', maxEvaluations },
      ),
      switchyardSampledBatches: await planned(
        'switchyardSampledBatches',
        'BO over knobs, sampled batches',
        "Switchyard's BO scoring trials on 16 batches sampled from the forecast (each expert drawn independently), the planner's default without a trace",
        problem,
        { ...common(input.compute, forecast, sloMs), strategy: 'bo', maxEvaluations },
      ),
      odsFixedKnobs: await planned(
        'odsFixedKnobs',
        'ODS at fixed knobs (superseded "paper" row)',
        "the previous benchmark's stand-in for the paper: ODS at β 64 on the forecast's mean load, no BO",
        problem,
        { ...common(input.compute, forecast, sloMs), strategy: 'ods' },
      ),
    };
  }
  const rows = headlineRows as Record<PaperRowKey, PaperBenchmarkRow>;
  const sloMs = sloOf(headline);

  let cpu: PaperTrafficResult | null = null;
  if (input.traffic) {
    progress(`${model.name}: CPU baselines and saving curves`);
    const billing = new PlanningProblem(common(input.compute, forecast, sloMs));
    cpu = paperTrafficComparison(
      { prices, ...input.traffic },
      {
        usdForBatch: batchCostFunction(
          billing.solver,
          configurations.get(rows.switchyard)!,
          heldOut,
          tokensPerBatch,
        ),
        tokensPerBatch,
        label: `Switchyard (${model.name}, SLO ${headline} × fastest), billed per batch on the held-out routing`,
      },
      {
        engine: 'switchyard in-process (onnxruntime)',
        tokensPerVcpuSecond: inProcessThroughput(input.compute, heldOut, tokensPerBatch),
        source: `the compute profile (${input.compute.subject.model}, ${input.compute.machine.description}) at 1 thread per expert call, on the held-out batches' per-expert token counts`,
      },
    );
  }

  // LambdaML's saving when the 2-thread speed-up is an assumed one instead of the measured profile.
  progress(`${model.name}: LambdaML with an assumed 2-thread speed-up`);
  const speedup = input.assumedSpeedup ?? 1.8;
  const assumedCompute = withThreadSpeedup(input.compute, 2, speedup);
  const assumedProblem = new PlanningProblem(common(assumedCompute, forecast, sloMs));
  const assumedLambdaml = await planned(
    'lambdaml',
    `LambdaML, ${speedup}× at 2 threads`,
    `LambdaML planned and billed with the 2-thread curve = 1-thread ÷ ${speedup}`,
    assumedProblem,
    { ...common(assumedCompute, uniformForecast, sloMs), strategy: 'lambdaml' },
  );
  const assumedSwitchyard = await planned(
    'switchyard',
    `Switchyard, ${speedup}× at 2 threads`,
    `Switchyard planned and billed with the 2-thread curve = 1-thread ÷ ${speedup}`,
    assumedProblem,
    { ...common(assumedCompute, forecast, sloMs), strategy: 'bo', maxEvaluations, batches: calibrationLoads },
  );
  const saving = (ours: PaperBenchmarkRow, other: PaperBenchmarkRow) =>
    1 - ours.costUsdPerBatch / other.costUsdPerBatch;
  const savingVsLambdaml = saving(rows.switchyard, rows.lambdaml);
  const savingVsPaper = saving(rows.switchyard, rows.paperOds);
  const throughputLossVsLambdaml = throughputLoss(rows.lambdaml.latencyMs, rows.switchyard.latencyMs);
  return {
    model: model.name,
    tokensPerBatch,
    topK: model.topK,
    fastestFeasibleLatencyMs,
    sloFactor: headline,
    sloMs,
    routing: {
      calibrationDomains: [...new Set(routing.calibration.map((batch) => batch.domain))],
      heldOutDomains: [...new Set(routing.heldOut.map((batch) => batch.domain))],
      calibrationBatches: routing.calibration.length,
      heldOutBatches: routing.heldOut.length,
    },
    rows,
    savingVsLambdaml,
    savingVsPaper,
    savingVsPaperExact: saving(rows.switchyard, rows.paperExact),
    throughputLossVsLambdaml,
    contributions: {
      bayesOptOverKnobs: saving(rows.switchyard, rows.exactFixedKnobs),
      predictorInSwitchyard: saving(rows.switchyard, rows.switchyardNoPredictor),
      predictorAtFixedKnobs: saving(rows.exactFixedKnobs, rows.exactFixedKnobsNoPredictor),
      exactSolverInPaperBo: saving(rows.paperExact, rows.paperOds),
      paperBoOverOds: saving(rows.paperOds, rows.odsFixedKnobs),
    },
    sloSweep,
    cpu,
    lambdamlSensitivity: {
      speedup,
      measured: {
        twoThreadSpeedup: twoThreadSpeedup(input.compute),
        lambdaml: rows.lambdaml,
        switchyard: rows.switchyard,
        saving: savingVsLambdaml,
      },
      assumed: {
        twoThreadSpeedup: twoThreadSpeedup(assumedCompute),
        lambdaml: assumedLambdaml,
        switchyard: assumedSwitchyard,
        saving: saving(assumedSwitchyard, assumedLambdaml),
      },
    },
    targetsMet: {
      vsLambdaml: savingVsLambdaml >= targets.savingVsLambdaml && rows.switchyard.sloMet,
      throughputLoss: throughputLossVsLambdaml <= targets.maxThroughputLoss,
      vsPaper: savingVsPaper > 0 && rows.switchyard.sloMet,
    },
    wallTimeS: (performance.now() - started) / 1000,
  };
}
