import type { Logger } from '@switchyard/core';
import { odsConfiguration } from './baseline-strategies.js';
import type { Configuration, PlannerKnobs } from './configuration.js';
import type { DeploymentSolver } from './deployment-solver.js';
import { EpsilonGreedyBayesOpt } from './epsilon-greedy-bayes-opt.js';
import { OptimizerError } from './errors.js';
import type { ExpertLoad } from './load-forecast.js';
import type { PlanningProblem } from './planning-problem.js';
import type { Dimension, Point } from './search-space.js';
import type { TrialResult } from './trial.js';

/** Which deployment solver runs inside each trial of the paper's BO. */
export type PaperSolver = 'ods' | 'exact';

export interface PaperMethodInput {
  /** The planning problem at the row's SLO (its solver context: evaluator, limits, methods, SLO). */
  problem: PlanningProblem;
  /**
   * The predictor's count table: selections counted per MoE layer × expert on the calibration trace
   * (published counts have no token dimension, so an entry is a (layer, expert) cell).
   */
  countTable: readonly (readonly number[])[];
  /** The J batches the objective averages over (`[batch][layer][expert]` tokens, calibration data). */
  objectiveBatches: readonly (readonly (readonly number[])[])[];
  solver: PaperSolver;
  /** Q: how many of the table's largest entries the BO searches (paper: 1,000). */
  entries?: number;
  /** The values an entry may take, as multiples of its counted value; must contain 1. */
  multipliers?: readonly number[];
  maxEvaluations?: number;
  seed?: number;
  logger?: Logger;
}

export interface PaperMethodResult {
  /** The chosen deployment (the best feasible trial, else the one meeting the SLO on most batches). */
  configuration: Configuration | undefined;
  evaluations: number;
  /** Q actually searched: min(entries, cells of the table). */
  dimensions: number;
  /** Best feasible mean cost after each evaluation (Infinity before the first feasible one). */
  bestCostHistory: number[];
  /** Mean objective cost of the unmodified table (the first trial), and of the chosen one. */
  predictorCostUsd: number;
  chosenCostUsd: number;
}

interface PaperTrialData {
  configuration: Configuration | undefined;
  sloAttainment: number;
  /** (latency of the batch at the attainment rank − SLO) ÷ SLO: how far from meeting it. */
  slack: number;
}

/**
 * The paper's method as the paper describes it (architecture/paper.md): ε-greedy BO with one ε per
 * dimension (ε₀/(1 + Σρ), slower decay for dimensions blamed for a memory or payload violation)
 * whose dimensions are the Q largest entries of the predictor's count table. Each trial turns the
 * modified table into a point prediction of every expert's load, solves the deployment for it —
 * ODS (`paperOdsConfiguration`: the best of three exact fixed-method solutions, the greedy SLO
 * repair when none meets the SLO) or Switchyard's exact solver (a method per layer) — at every
 * β of the grid, keeps the cheapest plan meeting the SLO at the prediction, and scores it by its mean
 * billed cost over the calibration batches with the run-time replica repair. The first trial is the
 * unmodified table, so the search can only improve on planning with the predictor as it is.
 */
export async function planPaperMethod(input: PaperMethodInput): Promise<PaperMethodResult> {
  const { problem, countTable } = input;
  const multipliers = [...(input.multipliers ?? [0.5, 0.75, 1, 1.5, 2])].sort((a, b) => a - b);
  if (!multipliers.includes(1) || multipliers.some((m) => !(m > 0)))
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `multipliers must be positive and include 1 (the counted value), got ${multipliers.join(', ')}`,
      location: 'multipliers',
    });
  if (countTable.length !== problem.loads.length)
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `the count table has ${countTable.length} layers, the problem ${problem.loads.length}`,
      location: 'countTable',
    });
  countTable.forEach((layer, l) => {
    if (layer.length !== problem.model.numExperts || layer.some((c) => !(c >= 0)))
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: `layer ${l} needs ${problem.model.numExperts} non-negative counts`,
        location: `countTable.${l}`,
      });
  });
  if (input.objectiveBatches.length === 0)
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: 'the objective needs at least one calibration batch',
      location: 'objectiveBatches',
    });
  // The Q largest entries (ties by position, so the choice is deterministic).
  const cells = countTable
    .flatMap((layer, l) => layer.map((count, expert) => ({ l, expert, count })))
    .sort((a, b) => b.count - a.count || a.l - b.l || a.expert - b.expert);
  const searched = cells.slice(0, Math.max(1, Math.min(input.entries ?? 1000, cells.length)));
  const nameOf = (l: number, expert: number) => `n${l}.${expert}`;
  const dimensionOf = new Map(searched.map((cell, d) => [nameOf(cell.l, cell.expert), d]));
  const dimensions: Dimension[] = searched.map((cell) => ({
    kind: 'ordinal',
    name: nameOf(cell.l, cell.expert),
    values: multipliers,
  }));

  const selections = problem.input.workload.tokensPerBatch * problem.model.topK;
  const sloMs = problem.input.workload.sloMs;
  const attainment = problem.input.sloAttainment;
  const betas = [...new Set(problem.input.knobs.beta)].sort((a, b) => a - b);

  const defaultBeta = betas.includes(64) ? 64 : betas[0]!;
  const knobsAt = (beta: number): PlannerKnobs => ({
    beta,
    loadQuantile: 0.5,
    packingThreshold: 0,
    sloHeadroom: 0,
  });
  /** Cheapest plan meeting the SLO at the prediction, else the fastest one found. */
  const better = (a: Configuration | undefined, b: Configuration | undefined): Configuration | undefined => {
    if (!a || !b) return a ?? b;
    const aMeets = a.latencyMs <= sloMs;
    const bMeets = b.latencyMs <= sloMs;
    if (aMeets !== bMeets) return aMeets ? a : b;
    if (aMeets) return b.costUsd < a.costUsd ? b : a;
    return b.latencyMs < a.latencyMs ? b : a;
  };
  const solveAt = (solver: DeploymentSolver): Configuration | undefined => {
    let best: Configuration | undefined;
    if (input.solver === 'exact') {
      for (const beta of betas) best = better(best, solver.solve(knobsAt(beta)).configuration);
      return best;
    }
    // ODS as the paper states it: the problem with one method in every layer solved exactly, SLO
    // included (the paper's three fixed-method MIQCPs; β matters only to the pipelined method),
    // the cheapest wins; when none meets the SLO, the greedy repair (≤ 2|E| steps) gives the closest.
    for (const method of solver.context.methods)
      for (const beta of method === 's3-pipelined' ? betas : [defaultBeta])
        best = better(best, solver.solve(knobsAt(beta), [method]).configuration);
    if (best && best.latencyMs <= sloMs) return best;
    return better(best, odsConfiguration(solver, knobsAt(defaultBeta)).configuration);
  };

  const evaluate = (point: Point): TrialResult & { data: PaperTrialData } => {
    const table = countTable.map((layer) => [...layer]);
    for (const cell of searched) table[cell.l]![cell.expert]! *= point[nameOf(cell.l, cell.expert)] as number;
    const loads: ExpertLoad[][] = table.map((layer) => {
      const total = layer.reduce((sum, c) => sum + c, 0);
      return layer.map((count) => ({
        mean: total > 0 ? (selections * count) / total : selections / layer.length,
        sigmaUp: 0,
        sigmaDown: 0,
      }));
    });
    const configuration = solveAt(problem.solver.withLoads(loads));
    if (!configuration)
      return {
        value: Number.POSITIVE_INFINITY,
        feasible: false,
        violations: ['slo'],
        data: { configuration, sloAttainment: 0, slack: Number.POSITIVE_INFINITY },
      };
    const blamed = new Set<string>();
    const scored = problem.solver.evaluateOnBatches(configuration, input.objectiveBatches, (l, experts) => {
      for (const expert of experts) if (dimensionOf.has(nameOf(l, expert))) blamed.add(nameOf(l, expert));
    });
    const latencies = scored.batchLatenciesMs;
    const rank = Math.min(latencies.length - 1, Math.max(0, Math.ceil(attainment * latencies.length) - 1));
    const slack = (latencies[rank]! - sloMs) / sloMs;
    const violations: string[] = [];
    if (scored.memoryRepairs > 0) violations.push('memory');
    else if (scored.payloadRepairs > 0) violations.push('payload');
    if (slack > 0) violations.push('slo');
    return {
      value: scored.meanCostUsd,
      feasible: slack <= 0,
      constraints: [slack],
      violations,
      ...(blamed.size > 0 ? { violatedDimensions: [...blamed] } : {}),
      data: { configuration, sloAttainment: scored.sloAttainment, slack },
    };
  };

  const optimizer = new EpsilonGreedyBayesOpt(dimensions, {
    strategy: 'epsilon-greedy-bo',
    seed: input.seed ?? 0,
    // The paper's stopping rule with planDeployment's settings (best moved < ζ over λ trials).
    stopping: { zeta: 0.001, lambda: 10, minEvaluations: 20 },
    ...(input.logger ? { logger: input.logger } : {}),
  });
  const identity: Point = Object.fromEntries(dimensions.map((d) => [d.name, 1]));
  const first = evaluate(identity);
  optimizer.observe(identity, first);
  const result = await optimizer.run(evaluate, { maxEvaluations: Math.max(1, input.maxEvaluations ?? 40) });
  // Without a feasible trial: the one meeting the SLO on most calibration batches, then the one
  // closest to meeting it (not the cheapest: among plans that all miss, the cheapest is the slowest).
  const chosen =
    result.best ??
    result.trials.reduce<(typeof result.trials)[number] | undefined>((best, trial) => {
      const data = trial.data as PaperTrialData;
      if (!data.configuration) return best;
      const bestData = best?.data as PaperTrialData | undefined;
      if (
        !best ||
        data.sloAttainment > bestData!.sloAttainment ||
        (data.sloAttainment === bestData!.sloAttainment && data.slack < bestData!.slack)
      )
        return trial;
      return best;
    }, undefined);
  return {
    configuration: (chosen?.data as PaperTrialData | undefined)?.configuration,
    evaluations: result.evaluations,
    dimensions: dimensions.length,
    bestCostHistory: result.bestValueHistory,
    predictorCostUsd: first.value,
    chosenCostUsd: chosen?.value ?? Number.POSITIVE_INFINITY,
  };
}
