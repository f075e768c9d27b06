import type { TransportMethod } from '@switchyard/core';
import {
  type CostEvaluator,
  emptyFunctionEstimate,
  type FunctionEstimate,
} from '@switchyard/cost-model/internal';
import { type ExpertLoad, loadAtQuantile, summedLoadAtQuantile } from './load-forecast.js';

/**
 * The coupled knobs the Bayesian optimisation searches. Everything else (memory and replicas per
 * function, method per layer, the split of the latency budget across layers) is solved exactly
 * for given knobs by `DeploymentSolver.solve`.
 */
export interface PlannerKnobs {
  /** Global pipeline degree β (mini-batch size in tokens) for pipelined layers. */
  beta: number;
  /** Quantile of each expert's predicted load that memory and replicas are sized for. */
  loadQuantile: number;
  /** Experts with a smaller share of their layer's predicted load are packed into one function. */
  packingThreshold: number;
  /** Fraction of the SLO held back for load above the planned quantile. */
  sloHeadroom: number;
}

/**
 * Rounds a planned token count up to a 2 % geometric grid (exact below 64 tokens). Sizing for at
 * most 2 % more tokens than the quantile keeps every claim conservative, and lets functions with
 * similar loads share one cached frontier — the planner's main cost on large models.
 */
export function quantiseTokens(tokens: number): number {
  if (tokens <= 64) return Math.ceil(tokens);
  const step = Math.log(1.02);
  const grid = Math.ceil(Math.exp(Math.ceil(Math.log(tokens) / step - 1e-9) * step));
  return Math.max(grid, Math.ceil(tokens));
}

/** Experts that share one deployed function. */
export interface FunctionGroup {
  experts: number[];
  /** Tokens the function is sized for (the load quantile, summed over its experts). */
  plannedTokens: number;
  parameterBytes: number;
}

/** One feasible (memory, replicas) choice for a function and its planned latency and cost. */
export interface FunctionOption {
  memoryMB: number;
  replicas: number;
  /** The function's contribution to its layer's latency (incl. scatter for direct). */
  latencyMs: number;
  costUsd: number;
}

export interface FunctionChoice extends FunctionGroup, FunctionOption {}

export interface LayerChoice {
  layer: number;
  method: TransportMethod;
  beta: number;
  functions: FunctionChoice[];
  latencyMs: number;
  costUsd: number;
  /** The share of the latency budget the DP gave this layer. */
  budgetMs: number;
}

/** A complete deployment decision, costed at the planned (quantile) load. */
export interface Configuration {
  knobs: PlannerKnobs;
  layers: LayerChoice[];
  costUsd: number;
  latencyMs: number;
}

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

export interface LayerPoint {
  latencyMs: number;
  costUsd: number;
  method: TransportMethod;
  /** Index into each function's frontier. */
  choices: Int32Array;
}

export interface SolveResult {
  configuration: Configuration | undefined;
  /** Lowest latency any configuration reaches at these knobs (the DP's lower bound). */
  minimumLatencyMs: number;
}

export interface BatchEvaluation {
  meanCostUsd: number;
  meanLatencyMs: number;
  /** Share of sampled batches whose latency met the SLO. */
  sloAttainment: number;
  /** Function-batches that needed extra replicas at run time because tokens exceeded memory (⌈M_real/M⌉). */
  memoryRepairs: number;
  /** Function-batches that needed extra replicas because the direct payload exceeded the limit. */
  payloadRepairs: number;
  /** Latency of each sampled batch, ascending. */
  batchLatenciesMs: number[];
}

/**
 * Exact solver of the separable part of the deployment problem. For fixed knobs:
 * 1. each function's (memory, replicas) options are enumerated and reduced to their latency–cost
 *    Pareto frontier (memory and payload limits enforced);
 * 2. per layer and method, the cheapest choice for every latency cap is the sum of each function's
 *    cheapest option under the cap — a layer frontier, merged over methods;
 * 3. a dynamic programme over layers splits the SLO (minus headroom) into per-layer budgets,
 *    minimising total cost (multiple-choice knapsack, latencies rounded up to the budget grid).
 */
export class DeploymentSolver {
  readonly context: SolverContext;
  private readonly frontierCache = new Map<string, FunctionOption[]>();
  private readonly layerCache = new Map<string, LayerPoint[]>();
  private scratchLatency = new Float64Array(0);
  private scratchCost = new Float64Array(0);
  private scratchOrder = new Int32Array(0);
  private readonly estimate: FunctionEstimate = emptyFunctionEstimate();

  constructor(context: SolverContext) {
    this.context = context;
  }

  /** Groups experts into functions: one per expert, cold experts packed together. */
  groups(knobs: Pick<PlannerKnobs, 'loadQuantile' | 'packingThreshold'>): FunctionGroup[][] {
    const { bytesPerExpert } = this.context;
    const maxPacked = this.context.maxPackedParameterBytes ?? 512 * 1024 * 1024;
    return this.context.loads.map((layer) => {
      const total = layer.reduce((sum, load) => sum + load.mean, 0);
      const cold: number[] = [];
      const groups: FunctionGroup[] = [];
      layer.forEach((load, expert) => {
        if (total > 0 && load.mean / total < knobs.packingThreshold) cold.push(expert);
        else
          groups.push({
            experts: [expert],
            plannedTokens: quantiseTokens(loadAtQuantile(load, knobs.loadQuantile)),
            parameterBytes: bytesPerExpert,
          });
      });
      if (cold.length === 1) {
        const expert = cold[0]!;
        groups.push({
          experts: [expert],
          plannedTokens: quantiseTokens(loadAtQuantile(layer[expert]!, knobs.loadQuantile)),
          parameterBytes: bytesPerExpert,
        });
      } else if (cold.length > 1) {
        const perPack = Math.max(1, Math.floor(maxPacked / Math.max(bytesPerExpert, 1)));
        for (let start = 0; start < cold.length; start += perPack) {
          const experts = cold.slice(start, start + perPack);
          groups.push({
            experts,
            plannedTokens: quantiseTokens(
              summedLoadAtQuantile(
                experts.map((e) => layer[e]!),
                knobs.loadQuantile,
              ),
            ),
            parameterBytes: bytesPerExpert * experts.length,
          });
        }
      }
      groups.sort((a, b) => a.experts[0]! - b.experts[0]!);
      return groups;
    });
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
    const unitMs = budgetMs / steps;
    const layerCount = layerFrontiers.length;
    // best[b] = cheapest cost of the layers so far within b budget units; choice[l][b] = point used.
    let best: Float64Array = new Float64Array(steps + 1);
    const choice = Array.from({ length: layerCount }, () => new Int32Array(steps + 1).fill(-1));
    const unitsOf = (point: LayerPoint): number => Math.max(0, Math.ceil(point.latencyMs / unitMs - 1e-9));
    // Per layer, the cheapest point for each budget unit count (frontier is latency-ascending, cost-descending).
    const bucketed = layerFrontiers.map((frontier) => {
      const kept: LayerPoint[] = [];
      for (const point of frontier) {
        if (unitsOf(point) > steps) break;
        if (kept.length > 0 && unitsOf(kept[kept.length - 1]!) === unitsOf(point))
          kept[kept.length - 1] = point;
        else kept.push(point);
      }
      return kept;
    });
    for (let l = 0; l < layerCount; l++) {
      const frontier = bucketed[l]!;
      const units = frontier.map(unitsOf);
      const next = new Float64Array(steps + 1).fill(Number.POSITIVE_INFINITY);
      const layerChoice = choice[l]!;
      for (let b = 0; b <= steps; b++) {
        let bestCost = Number.POSITIVE_INFINITY;
        let bestPoint = -1;
        for (let p = 0; p < frontier.length; p++) {
          const u = units[p]!;
          if (u > b) break;
          const cost = best[b - u]! + frontier[p]!.costUsd;
          if (cost < bestCost) {
            bestCost = cost;
            bestPoint = p;
          }
        }
        next[b] = bestCost;
        layerChoice[b] = bestPoint;
      }
      best = next;
    }
    if (!Number.isFinite(best[steps]!)) return { configuration: undefined, minimumLatencyMs };
    // Walk back the choices.
    const picked: { point: LayerPoint; units: number }[] = new Array(layerCount);
    let remaining = steps;
    for (let l = layerCount - 1; l >= 0; l--) {
      const p = choice[l]![remaining]!;
      const point = bucketed[l]![p]!;
      const units = unitsOf(point);
      picked[l] = { point, units };
      remaining -= units;
    }
    return {
      configuration: this.buildConfiguration(
        knobs,
        groups,
        picked.map((p) => p.point),
        picked.map((p) => p.units * unitMs),
      ),
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

  /**
   * Costs a configuration on sampled batches (per layer, per expert tokens). When a batch brings
   * more tokens than a function's memory holds, or than the direct payload carries, the function is
   * given more replicas at run time — the paper's ⌈M_real/M⌉ / ⌈R_real/D_p⌉ repair — and pays for them.
   */
  evaluateOnBatches(
    configuration: Configuration,
    batches: readonly (readonly (readonly number[])[])[],
  ): BatchEvaluation {
    let totalCost = 0;
    let totalLatency = 0;
    let met = 0;
    let memoryRepairs = 0;
    let payloadRepairs = 0;
    const batchLatenciesMs: number[] = [];
    const estimate = this.estimate;
    for (const batch of batches) {
      let batchLatency = 0;
      configuration.layers.forEach((layer, l) => {
        const tokensPerExpert = batch[l]!;
        let layerLatency = 0;
        for (const fn of layer.functions) {
          let tokens = 0;
          for (const expert of fn.experts) tokens += tokensPerExpert[expert] ?? 0;
          let replicas = fn.replicas;
          this.context.evaluator.evaluateFunction(
            layer.method,
            tokens,
            replicas,
            fn.memoryMB,
            layer.beta,
            fn.parameterBytes,
            estimate,
          );
          let repairedMemory = false;
          let repairedPayload = false;
          while ((!estimate.fitsMemory || !estimate.fitsPayload) && replicas < 64 && replicas < tokens) {
            if (!estimate.fitsMemory) repairedMemory = true;
            else repairedPayload = true;
            replicas++;
            this.context.evaluator.evaluateFunction(
              layer.method,
              tokens,
              replicas,
              fn.memoryMB,
              layer.beta,
              fn.parameterBytes,
              estimate,
            );
          }
          if (repairedMemory) memoryRepairs++;
          if (repairedPayload) payloadRepairs++;
          totalCost += estimate.totalUsd;
          if (estimate.layerLatencyMs > layerLatency) layerLatency = estimate.layerLatencyMs;
        }
        batchLatency += layerLatency;
      });
      totalLatency += batchLatency;
      batchLatenciesMs.push(batchLatency);
      if (batchLatency <= this.context.sloMs) met++;
    }
    const count = Math.max(batches.length, 1);
    return {
      meanCostUsd: totalCost / count,
      meanLatencyMs: totalLatency / count,
      sloAttainment: met / count,
      memoryRepairs,
      payloadRepairs,
      batchLatenciesMs: batchLatenciesMs.sort((a, b) => a - b),
    };
  }

  /** Latency and cost of a configuration at given per-layer expert tokens (no run-time repair). */
  costAt(
    configuration: Configuration,
    tokens: readonly (readonly number[])[],
  ): { costUsd: number; latencyMs: number; feasible: boolean } {
    let costUsd = 0;
    let latencyMs = 0;
    let feasible = true;
    configuration.layers.forEach((layer, l) => {
      let layerLatency = 0;
      for (const fn of layer.functions) {
        let total = 0;
        for (const expert of fn.experts) total += tokens[l]![expert] ?? 0;
        const estimate = this.context.evaluator.evaluateFunction(
          layer.method,
          Math.ceil(total),
          fn.replicas,
          fn.memoryMB,
          layer.beta,
          fn.parameterBytes,
          this.estimate,
        );
        feasible &&= estimate.fitsMemory && estimate.fitsPayload;
        costUsd += estimate.totalUsd;
        if (estimate.layerLatencyMs > layerLatency) layerLatency = estimate.layerLatencyMs;
      }
      latencyMs += layerLatency;
    });
    return { costUsd, latencyMs, feasible };
  }
}
