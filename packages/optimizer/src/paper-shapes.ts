import { createRandom, type ModelSummary, shuffleInPlace, toPlanModel } from '@switchyard/core';
import { OptimizerError } from './errors.js';
import type { PlannerModel } from './options.js';

/** The planner's view of a model summary: the plan's model block and the MoE layers. */
export function plannerModelFromSummary(summary: ModelSummary): PlannerModel {
  return { ...toPlanModel(summary), moeLayers: [...summary.moeLayers] };
}

/** The paper's evaluation models (Liu, Wang, Wu, INFOCOM 2025 §V): hidden 768, FFN 3072. */
export const paperShapes = {
  'bert-moe-12x4': { architecture: 'bert-moe', layers: 12, experts: 4 },
  'bert-moe-12x8': { architecture: 'bert-moe', layers: 12, experts: 8 },
  'bert-moe-12x16': { architecture: 'bert-moe', layers: 12, experts: 16 },
  'gpt2-moe-12x4': { architecture: 'gpt2-moe', layers: 12, experts: 4 },
  'bert2bert-moe-24x4': { architecture: 'bert2bert-moe', layers: 24, experts: 4 },
} as const;
export type PaperShapeName = keyof typeof paperShapes;

/**
 * A paper model shape, `bert-moe-12x4` … with an optional `-top2` suffix (top-1 otherwise). An
 * expert is a BERT/GPT-2 FFN: W₁ 768×3072 + b₁ 3072 + W₂ 3072×768 + b₂ 768, in float32.
 */
export function paperShape(name: string): PlannerModel {
  const top2 = name.endsWith('-top2');
  const base = top2 ? name.slice(0, -'-top2'.length) : name;
  const shape = (paperShapes as Record<string, { architecture: string; layers: number; experts: number }>)[
    base
  ];
  if (!shape) {
    throw new OptimizerError({
      code: 'INVALID_INPUT',
      message: `unknown paper shape "${name}"; known: ${Object.keys(paperShapes).join(', ')} (append -top2 for top-2 routing)`,
      location: 'model',
    });
  }
  const hiddenSize = 768;
  const intermediateSize = 3072;
  return {
    name: `paper:${name}`,
    fingerprint: `paper:${name}`,
    architecture: shape.architecture,
    hiddenSize,
    expertIntermediateSize: intermediateSize,
    numExperts: shape.experts,
    topK: top2 ? 2 : 1,
    bytesPerExpert: (2 * hiddenSize * intermediateSize + intermediateSize + hiddenSize) * 4,
    moeLayers: Array.from({ length: shape.layers }, (_, i) => i),
  };
}

/**
 * Per-layer expert popularity with real skew: for each model layer, take a published layer's
 * per-expert counts (cycling through the source layers) and a seeded random subset of
 * `numExperts` of its experts. `sourceLayers[l][i]` = count of source expert i in source layer l.
 */
export function popularityFromCounts(
  sourceLayers: readonly (readonly number[])[],
  options: { numLayers: number; numExperts: number; seed?: number },
): number[][] {
  if (sourceLayers.length === 0) {
    throw new OptimizerError({ code: 'INVALID_INPUT', message: 'no source layers of expert counts' });
  }
  const random = createRandom(options.seed ?? 0);
  return Array.from({ length: options.numLayers }, (_, layer) => {
    const source = sourceLayers[layer % sourceLayers.length]!;
    if (source.length < options.numExperts) {
      throw new OptimizerError({
        code: 'INVALID_INPUT',
        message: `source layer has ${source.length} experts, fewer than the model's ${options.numExperts}`,
      });
    }
    const indices = shuffleInPlace(
      source.map((_, i) => i),
      random,
    );
    return indices.slice(0, options.numExperts).map((i) => source[i]!);
  });
}
