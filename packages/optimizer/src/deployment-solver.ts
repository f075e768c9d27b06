import type { TransportMethod } from '@switchyard/core';
import {
  type CostEvaluator,
  emptyFunctionEstimate,
  type FunctionEstimate,
} from '@switchyard/cost-model/internal';
import { evaluateOnBatches, type RepairListener } from './batch-evaluation.js';
import { splitBudget } from './budget-split.js';
import type {
  BatchEvaluation,
  Configuration,
  FunctionGroup,
  FunctionOption,
  LayerChoice,
  LayerPoint,
  PlannerKnobs,
  SolveResult,
} from './configuration.js';
import { groupExperts } from './expert-groups.js';
import type { ExpertLoad } from './load-forecast.js';

export interface SolverContext {
  evaluator: CostEvaluator;
  /** Decoder layer index of each MoE layer. */
  layerIndices: readonly number[];
  loads: readonly ExpertLoad[][];
  bytesPerExpert: number;
  memoryOptionsMB: readonly number[];
  maxReplicas: number;
  methods: readonly TransportMethod[];
  sloMs: number;
  /** Latency budget grid of the DP; latencies are rounded up to it, so results stay feasible. */
  budgetSteps?: number;
  /** Largest parameter bytes one packed function may hold. */
  maxPackedParameterBytes?: number;
}

/**
 * Exact solver of the separable part of the deployment problem. For fixed knobs:
 * 1. each function's (memory, replicas) options are enumerated and reduced to their latency–cost
 *    Pareto frontier (memory and payload limits enforced);
 * 2. per layer and method, the cheapest choice for every latency cap is the sum of each function's
 *    cheapest option under the cap — a layer frontier, merged over methods;
 * 3. a dynamic programme over layers splits the SLO (minus headroom) into per-layer budgets,
 *    minimising total cost (`splitBudget`: multiple-choice knapsack, latencies rounded up to the grid).
 * Frontiers are cached per (method, tokens, parameter bytes, β) and per layer.
 */
export class DeploymentSolver {
  readonly context: SolverContext;
  private readonly frontierCache: Map<string, FunctionOption[]>;
  private readonly layerCache: Map<string, LayerPoint[]>;
  private scratchLatency = new Float64Array(0);
  private scratchCost = new Float64Array(0);
  private scratchOrder = new Int32Array(0);
  private readonly estimate: FunctionEstimate = emptyFunctionEstimate();

  constructor(
    context: SolverContext,
    caches?: { frontier: Map<string, FunctionOption[]>; layer: Map<string, LayerPoint[]> },
  ) {
    this.context = context;
    this.frontierCache = caches?.frontier ?? new Map();
    this.layerCache = caches?.layer ?? new Map();
  }

  /**
   * The same problem at other predicted loads, sharing this solver's frontier caches: frontiers
   * depend on a function's token count, never on where the count came from, so a search that
   * re-predicts the loads every trial (the paper's BO over the count table) solves each from cache.
   */
  withLoads(loads: readonly ExpertLoad[][]): DeploymentSolver {
    return new DeploymentSolver(
      { ...this.context, loads },
      { frontier: this.frontierCache, layer: this.layerCache },
    );
  }

  /** Groups experts into functions: one per expert, cold experts packed together (`groupExperts`). */
  groups(knobs: Pick<PlannerKnobs, 'loadQuantile' | 'packingThreshold'>): FunctionGroup[][] {
    return groupExperts(
      this.context.loads,
      knobs,
      this.context.bytesPerExpert,
      this.context.maxPackedParameterBytes ?? 512 * 1024 * 1024,
    );
  }

  /** Latency–cost Pareto frontier of a function's feasible (memory, replicas) options, fastest first. */
  frontier(method: TransportMethod, tokens: number, parameterBytes: number, beta: number): FunctionOption[] {
    // β only matters for pipelined layers, and only up to the function's token count.
    const key = `${method}|${tokens}|${parameterBytes}|${method === 's3-pipelined' ? Math.min(beta, tokens) : 0}`;
    const cached = this.frontierCache.get(key);
    if (cached) return cached;
    const maxReplicas = tokens > 0 ? Math.min(this.context.maxReplicas, tokens) : 1;
    const memories = this.context.memoryOptionsMB;
    const capacity = memories.length * maxReplicas;
    if (this.scratchLatency.length < capacity) {
      this.scratchLatency = new Float64Array(capacity);
      this.scratchCost = new Float64Array(capacity);
      this.scratchOrder = new Int32Array(capacity);
    }
    const latency = this.scratchLatency;
    const cost = this.scratchCost;
    let count = 0;
    for (let m = 0; m < memories.length; m++) {
      for (let replicas = 1; replicas <= maxReplicas; replicas++) {
        const estimate = this.context.evaluator.evaluateFunction(
          method,
          tokens,
          replicas,
          memories[m]!,
          beta,
          parameterBytes,
          this.estimate,
        );
        const index = m * maxReplicas + replicas - 1;
        // Options slower than the whole SLO can never be part of a feasible plan.
        if (!estimate.fitsMemory || !estimate.fitsPayload || estimate.layerLatencyMs > this.context.sloMs) {
          latency[index] = Number.NaN;
          continue;
        }
        latency[index] = estimate.layerLatencyMs;
        cost[index] = estimate.totalUsd;
        this.scratchOrder[count++] = index;
      }
    }
    const order = Array.from(this.scratchOrder.subarray(0, count)).sort(
      (a, b) => latency[a]! - latency[b]! || cost[a]! - cost[b]!,
    );
    const frontier: FunctionOption[] = [];
    let cheapest = Number.POSITIVE_INFINITY;
    for (const index of order) {
      if (cost[index]! >= cheapest) continue;
      cheapest = cost[index]!;
      frontier.push({
        memoryMB: memories[Math.floor(index / maxReplicas)]!,
        replicas: (index % maxReplicas) + 1,
        latencyMs: latency[index]!,
        costUsd: cost[index]!,
      });
    }
    this.frontierCache.set(key, frontier);
    return frontier;
  }

  /** A function's latency and cost at one (memory, replicas), or undefined if it breaks a limit. */
  option(
    method: TransportMethod,
    group: FunctionGroup,
    memoryMB: number,
    replicas: number,
    beta: number,
  ): FunctionOption | undefined {
    const estimate = this.context.evaluator.evaluateFunction(
      method,
      group.plannedTokens,
      replicas,
      memoryMB,
      beta,
      group.parameterBytes,
      this.estimate,
    );
    if (!estimate.fitsMemory || !estimate.fitsPayload) return undefined;
    return { memoryMB, replicas, latencyMs: estimate.layerLatencyMs, costUsd: estimate.totalUsd };
  }

  /** Latency–cost frontier of one layer over the allowed methods. */
  layerFrontier(
    groups: readonly FunctionGroup[],
    beta: number,
    methods: readonly TransportMethod[],
  ): LayerPoint[] {
    const points: LayerPoint[] = [];
    for (const method of methods) {
      const frontiers = groups.map((group) =>
        this.frontier(method, group.plannedTokens, group.parameterBytes, beta),
      );
      if (frontiers.some((frontier) => frontier.length === 0)) continue;
      let floor = 0;
      const caps: number[] = [];
      for (const frontier of frontiers) {
        floor = Math.max(floor, frontier[0]!.latencyMs);
        for (const option of frontier) caps.push(option.latencyMs);
      }
      const sortedCaps = caps.filter((cap) => cap >= floor).sort((a, b) => a - b);
      const pointers = new Int32Array(frontiers.length);
      let previousCost = Number.POSITIVE_INFINITY;
      let previousCap = Number.NaN;
      for (const cap of sortedCaps) {
        if (cap === previousCap) continue;
        previousCap = cap;
        let costUsd = 0;
        let latencyMs = 0;
        for (let f = 0; f < frontiers.length; f++) {
          const frontier = frontiers[f]!;
          let pointer = pointers[f]!;
          while (pointer + 1 < frontier.length && frontier[pointer + 1]!.latencyMs <= cap) pointer++;
          pointers[f] = pointer;
          const option = frontier[pointer]!;
          costUsd += option.costUsd;
          if (option.latencyMs > latencyMs) latencyMs = option.latencyMs;
        }
        // Caps are ascending, so a point that is not cheaper than the last is dominated.
        if (costUsd >= previousCost) continue;
        previousCost = costUsd;
        points.push({ latencyMs, costUsd, method, choices: Int32Array.from(pointers) });
      }
    }
    points.sort((a, b) => a.latencyMs - b.latencyMs || a.costUsd - b.costUsd);
    const pruned: LayerPoint[] = [];
    for (const point of points) {
      if (pruned.length === 0 || point.costUsd < pruned[pruned.length - 1]!.costUsd) pruned.push(point);
    }
    return pruned;
  }

  /** Cheapest configuration meeting the SLO (minus headroom) at the planned load, if any. */
  solve(knobs: PlannerKnobs, methods: readonly TransportMethod[] = this.context.methods): SolveResult {
    const groups = this.groups(knobs);
    const layerFrontiers = groups.map((layerGroups) => {
      const key = `${methods.join(',')}|${knobs.beta}|${layerGroups.map((g) => `${g.experts.join('.')}:${g.plannedTokens}`).join(';')}`;
      let frontier = this.layerCache.get(key);
      if (!frontier) {
        frontier = this.layerFrontier(layerGroups, knobs.beta, methods);
        this.layerCache.set(key, frontier);
      }
      return frontier;
    });
    let minimumLatencyMs = 0;
    for (const frontier of layerFrontiers) {
      if (frontier.length === 0)
        return { configuration: undefined, minimumLatencyMs: Number.POSITIVE_INFINITY };
      minimumLatencyMs += frontier[0]!.latencyMs;
    }
    const budgetMs = this.context.sloMs * (1 - knobs.sloHeadroom);
    if (minimumLatencyMs > budgetMs) return { configuration: undefined, minimumLatencyMs };
    // Rounding each layer up to the grid wastes at most layers × unit, i.e. ≤ 1 % of the budget.
    const steps = this.context.budgetSteps ?? Math.min(4000, Math.max(400, 100 * layerFrontiers.length));
    const split = splitBudget(layerFrontiers, budgetMs, steps);
    if (!split) return { configuration: undefined, minimumLatencyMs };
    return {
      configuration: this.buildConfiguration(knobs, groups, split.points, split.budgetsMs),
      minimumLatencyMs,
    };
  }

  /** Turns chosen layer points into a configuration. */
  buildConfiguration(
    knobs: PlannerKnobs,
    groups: readonly (readonly FunctionGroup[])[],
    points: readonly LayerPoint[],
    budgetsMs: readonly number[],
  ): Configuration {
    const layers: LayerChoice[] = points.map((point, l) => {
      const functions = groups[l]!.map((group, f) => {
        const frontier = this.frontier(point.method, group.plannedTokens, group.parameterBytes, knobs.beta);
        return { ...group, experts: [...group.experts], ...frontier[point.choices[f]!]! };
      });
      return {
        layer: this.context.layerIndices[l]!,
        method: point.method,
        beta: knobs.beta,
        functions,
        latencyMs: point.latencyMs,
        costUsd: point.costUsd,
        budgetMs: budgetsMs[l]!,
      };
    });
    return {
      knobs,
      layers,
      costUsd: layers.reduce((sum, layer) => sum + layer.costUsd, 0),
      latencyMs: layers.reduce((sum, layer) => sum + layer.latencyMs, 0),
    };
  }

  /** Costs a configuration on sampled batches with the run-time replica repair (`evaluateOnBatches`). */
  evaluateOnBatches(
    configuration: Configuration,
    batches: readonly (readonly (readonly number[])[])[],
    onRepair?: RepairListener,
  ): BatchEvaluation {
    return evaluateOnBatches(
      this.context.evaluator,
      configuration,
      batches,
      this.context.sloMs,
      this.estimate,
      onRepair,
    );
  }
}
