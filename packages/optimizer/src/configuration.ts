import type { TransportMethod } from '@switchyard/core';

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

/** One point of a layer's latency–cost frontier: a method and, per function, an index into its frontier. */
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
  /** Latency and billed cost of each batch, in the order the batches were given. */
  batchLatenciesInOrderMs: number[];
  batchCostsUsd: number[];
}
