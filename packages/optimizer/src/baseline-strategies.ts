import type {
  Configuration,
  FunctionChoice,
  LayerChoice,
  LayerPoint,
  PlannerKnobs,
} from './configuration.js';
import type { DeploymentSolver } from './deployment-solver.js';

/**
 * The paper's ODS (§IV-B) without a commercial solver: for each of the three transport methods
 * used in every layer, the cheapest deployment ignoring the SLO (exact: each function's cheapest
 * feasible memory/replicas), then a greedy SLO repair that, at most 2|E| times, moves the layer with
 * the best latency saved per dollar to its next faster configuration. Returns the cheapest repaired
 * solution meeting the SLO, or the fastest one when none does. Sized for the mean load (the paper
 * plans on the predictor's point prediction).
 */
export function odsConfiguration(
  solver: DeploymentSolver,
  knobs: PlannerKnobs,
): { configuration: Configuration | undefined; iterations: number } {
  const { sloMs } = solver.context;
  const meanKnobs: PlannerKnobs = { ...knobs, loadQuantile: 0.5, packingThreshold: 0, sloHeadroom: 0 };
  const groups = solver.groups(meanKnobs);
  const expertCount = groups.reduce((sum, layer) => sum + layer.length, 0);
  let best: Configuration | undefined;
  let bestMeets = false;
  let iterations = 0;
  for (const method of solver.context.methods) {
    const frontiers = groups.map((layerGroups) =>
      solver.layerFrontier(layerGroups, meanKnobs.beta, [method]),
    );
    if (frontiers.some((frontier) => frontier.length === 0)) continue;
    // Start at each layer's cheapest point (the slowest on its frontier).
    const positions = frontiers.map((frontier) => frontier.length - 1);
    const latencyOf = (): number => positions.reduce((sum, p, l) => sum + frontiers[l]![p]!.latencyMs, 0);
    let latency = latencyOf();
    for (let step = 0; latency > sloMs && step < 2 * expertCount; step++) {
      iterations++;
      let bestLayer = -1;
      let bestRatio = -1;
      positions.forEach((position, l) => {
        if (position === 0) return;
        const current = frontiers[l]![position]!;
        const faster = frontiers[l]![position - 1]!;
        const saved = current.latencyMs - faster.latencyMs;
        const extra = Math.max(faster.costUsd - current.costUsd, 1e-15);
        if (saved / extra > bestRatio) {
          bestRatio = saved / extra;
          bestLayer = l;
        }
      });
      if (bestLayer < 0) break;
      positions[bestLayer]! -= 1;
      latency = latencyOf();
    }
    const points: LayerPoint[] = positions.map((p, l) => frontiers[l]![p]!);
    const configuration = solver.buildConfiguration(
      meanKnobs,
      groups,
      points,
      points.map((point) => point.latencyMs),
    );
    const meets = configuration.latencyMs <= sloMs;
    if (
      !best ||
      (meets && !bestMeets) ||
      (meets && bestMeets && configuration.costUsd < best.costUsd) ||
      (!meets && !bestMeets && configuration.latencyMs < best.latencyMs)
    ) {
      best = configuration;
      bestMeets = meets;
    }
  }
  return { configuration: best, iterations };
}

/**
 * Fixed-size deployments: one function per expert, one replica, sized for the mean load. LambdaML:
 * every function at `memoryMB` (3,008 MB), each layer on its fastest feasible method. Power Tuning:
 * each function at the memory size that is cheapest for its load (AWS Lambda Power Tuning's `cost`
 * strategy), falling back to the fastest size per function when that misses the SLO.
 */
export function fixedConfiguration(
  solver: DeploymentSolver,
  knobs: PlannerKnobs,
  mode: { kind: 'lambdaml'; memoryMB: number } | { kind: 'power-tuning' },
): Configuration | undefined {
  const meanKnobs: PlannerKnobs = { ...knobs, loadQuantile: 0.5, packingThreshold: 0, sloHeadroom: 0 };
  const groups = solver.groups(meanKnobs);
  const build = (pick: 'cheapest' | 'fastest'): Configuration | undefined => {
    const layers: LayerChoice[] = [];
    for (const [l, layerGroups] of groups.entries()) {
      let bestLayer: LayerChoice | undefined;
      for (const method of solver.context.methods) {
        const functions: FunctionChoice[] = [];
        for (const group of layerGroups) {
          const sizes = mode.kind === 'lambdaml' ? [mode.memoryMB] : solver.context.memoryOptionsMB;
          let chosen: FunctionChoice | undefined;
          for (const memoryMB of sizes) {
            const option = solver.option(method, group, memoryMB, 1, meanKnobs.beta);
            if (!option) continue;
            if (
              !chosen ||
              (pick === 'cheapest' ? option.costUsd < chosen.costUsd : option.latencyMs < chosen.latencyMs)
            )
              chosen = { ...group, experts: [...group.experts], ...option };
          }
          if (!chosen) break;
          functions.push(chosen);
        }
        if (functions.length !== layerGroups.length) continue;
        const latencyMs = functions.reduce((max, fn) => Math.max(max, fn.latencyMs), 0);
        const costUsd = functions.reduce((sum, fn) => sum + fn.costUsd, 0);
        if (!bestLayer || latencyMs < bestLayer.latencyMs) {
          bestLayer = {
            layer: solver.context.layerIndices[l]!,
            method,
            beta: meanKnobs.beta,
            functions,
            latencyMs,
            costUsd,
            budgetMs: latencyMs,
          };
        }
      }
      if (!bestLayer) return undefined;
      layers.push(bestLayer);
    }
    return {
      knobs: meanKnobs,
      layers,
      costUsd: layers.reduce((sum, layer) => sum + layer.costUsd, 0),
      latencyMs: layers.reduce((sum, layer) => sum + layer.latencyMs, 0),
    };
  };
  const configuration = build('cheapest');
  if (mode.kind === 'power-tuning' && configuration && configuration.latencyMs > solver.context.sloMs) {
    return build('fastest') ?? configuration;
  }
  return configuration;
}
