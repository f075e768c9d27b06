import type { FunctionGroup, PlannerKnobs } from './configuration.js';
import { type ExpertLoad, loadAtQuantile, summedLoadAtQuantile } from './load-forecast.js';

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

/**
 * Groups each layer's experts into functions: one per expert, except that experts with less than
 * `packingThreshold` of the layer's predicted load share functions of at most `maxPackedParameterBytes`.
 * Each group is sized for its load at `loadQuantile` (the summed load's quantile for a pack).
 */
export function groupExperts(
  loads: readonly ExpertLoad[][],
  knobs: Pick<PlannerKnobs, 'loadQuantile' | 'packingThreshold'>,
  bytesPerExpert: number,
  maxPackedParameterBytes: number,
): FunctionGroup[][] {
  return loads.map((layer) => {
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
      const perPack = Math.max(1, Math.floor(maxPackedParameterBytes / Math.max(bytesPerExpert, 1)));
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
