import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  forecastFromPopularity,
  nominalComputeProfile,
  type PlanDeploymentOptions,
  paperShape,
  popularityFromCounts,
} from '../src/index.js';
import { PlanningProblem } from '../src/planning-problem.js';

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Per-layer expert counts of google/switch-base-128 (fixtures/data/real-routing). */
export function switchBaseCounts(): number[][] {
  const file = join(repositoryRoot, 'fixtures', 'data', 'real-routing', 'switch-base-128-expert-counts.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    expert_usage_by_layer: Record<string, Record<string, number>>;
  };
  return Object.values(json.expert_usage_by_layer).map((layer) => Object.values(layer));
}

/**
 * A planning instance small enough to enumerate: a BERT-MoE-shaped model (hidden 768, FFN 3072)
 * with `layers` MoE layers of `experts` experts, real popularity skew (switch-base-128 layers, a
 * seeded subset of experts), a batch of `tokensPerBatch` tokens and an SLO `sloFactor` × the
 * lowest latency any deployment reaches.
 */
export function planningInstance(options: {
  layers: number;
  experts: number;
  tokensPerBatch: number;
  sloFactor: number;
  seed: number;
  topK?: number;
}): { input: PlanDeploymentOptions; problem: PlanningProblem; description: string } {
  const shape = paperShape(options.topK === 2 ? 'bert-moe-12x4-top2' : 'bert-moe-12x4');
  const model = {
    ...shape,
    name: `bench-${options.layers}x${options.experts}`,
    numExperts: options.experts,
    moeLayers: Array.from({ length: options.layers }, (_, i) => i),
  };
  const popularity = popularityFromCounts(switchBaseCounts(), {
    numLayers: options.layers,
    numExperts: options.experts,
    seed: options.seed,
  });
  const forecast = forecastFromPopularity(popularity, {
    tokensPerBatch: options.tokensPerBatch,
    topK: model.topK,
  });
  const base: PlanDeploymentOptions = {
    model,
    forecast,
    costProfile: { compute: nominalComputeProfile(model) },
    workload: { tokensPerBatch: options.tokensPerBatch, sloMs: 1e9 },
    seed: options.seed,
    createdAt: '2026-11-28T00:00:00.000Z',
  };
  const fastest = new PlanningProblem(base).bestAchievableLatencyMs();
  const input: PlanDeploymentOptions = {
    ...base,
    workload: { tokensPerBatch: options.tokensPerBatch, sloMs: Math.round(fastest * options.sloFactor) },
  };
  return {
    input,
    problem: new PlanningProblem(input),
    description: `${options.layers}x${options.experts} top-${model.topK}, ${options.tokensPerBatch} tok, SLO ${Math.round(fastest * options.sloFactor)} ms (${options.sloFactor}× fastest)`,
  };
}
