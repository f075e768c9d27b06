import type { LayerPoint } from './configuration.js';

/**
 * Splits a latency budget across layers at the lowest total cost: a multiple-choice knapsack over
 * the layers' latency–cost frontiers (latency-ascending, cost-descending), solved by dynamic
 * programming on a grid of `steps` units of `budgetMs`. Each layer's latency is rounded up to the
 * grid, so the result always fits the budget (rounding wastes at most layers × unit). Returns the
 * chosen point and the budget (ms) of each layer, or undefined when no combination fits.
 */
export function splitBudget(
  layerFrontiers: readonly (readonly LayerPoint[])[],
  budgetMs: number,
  steps: number,
): { points: LayerPoint[]; budgetsMs: number[] } | undefined {
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
  if (!Number.isFinite(best[steps]!)) return undefined;
  // Walk back the choices.
  const points: LayerPoint[] = new Array(layerCount);
  const budgetsMs: number[] = new Array(layerCount);
  let remaining = steps;
  for (let l = layerCount - 1; l >= 0; l--) {
    const p = choice[l]![remaining]!;
    const point = bucketed[l]![p]!;
    const units = unitsOf(point);
    points[l] = point;
    budgetsMs[l] = units * unitMs;
    remaining -= units;
  }
  return { points, budgetsMs };
}
