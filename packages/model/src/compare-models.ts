import { parseWithSchema } from '@switchyard/core';
import { ModelError } from './errors.js';
import type { MoeLayerEvent } from './forward.js';
import type { MoeModel } from './model.js';
import { type CompareModelsOptions, compareModelsOptionsSchema } from './options.js';

/** How far a model (e.g. quantized) is from a reference model (e.g. float32) on the same tokens. */
export interface ModelComparison {
  tokens: number;
  /** Share of (MoE layer, token) pairs whose top-k expert set equals the reference's. */
  routingAgreement: number;
  /** Share of the reference's top-k expert ids that the model also selects for that token and layer. */
  expertOverlap: number;
  maxAbsDiffLogits: number;
  /** Share of tokens whose most likely next token (argmax of the logits) equals the reference's. */
  argmaxAgreement: number;
}

function argmaxRow(values: Float32Array, start: number, length: number): number {
  let best = start;
  for (let i = start + 1; i < start + length; i++) if (values[i]! > values[best]!) best = i;
  return best - start;
}

/**
 * Runs `tokens` through both models in the same independent chunks (a trailing partial chunk is
 * dropped, as `recordTrace` does) and compares their routing and logits token by token.
 */
export async function compareModels(
  reference: MoeModel,
  candidate: MoeModel,
  tokens: ArrayLike<number>,
  options: CompareModelsOptions = {},
): Promise<ModelComparison> {
  const { signal, ...rest } = options;
  const { chunk, chunksPerBatch } = parseWithSchema(compareModelsOptionsSchema, rest, 'compare options');
  const config = reference.config;
  if (
    candidate.config.vocabSize !== config.vocabSize ||
    candidate.config.topK !== config.topK ||
    candidate.config.moeLayers.join() !== config.moeLayers.join()
  )
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: 'the models differ in vocabulary, top-k or MoE layers; compare a model with itself quantized',
      location: 'candidate',
    });
  const numChunks = Math.floor(tokens.length / chunk);
  if (numChunks === 0)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `${tokens.length} tokens do not fill one chunk of ${chunk}`,
      location: 'tokens',
    });
  const K = config.topK;
  const V = config.vocabSize;
  let sameSets = 0;
  let sharedIds = 0;
  let pairs = 0;
  let maxAbsDiffLogits = 0;
  let sameArgmax = 0;
  for (let first = 0; first < numChunks; first += chunksPerBatch) {
    const count = Math.min(chunksPerBatch, numChunks - first);
    const inputs = Array.from({ length: count }, (_, i) =>
      Array.from({ length: chunk }, (_, j) => tokens[(first + i) * chunk + j]!),
    );
    const run = async (model: MoeModel) => {
      const routing = new Map<number, Int32Array>();
      const sequences = inputs.map(() => model.createSequence());
      try {
        const { logits } = await model.forward(
          inputs.map((input, i) => ({ sequence: sequences[i]!, tokens: input })),
          {
            signal,
            logits: 'all',
            observer: {
              moeLayer: (event: MoeLayerEvent) =>
                routing.set(event.layer, Int32Array.from(event.routing.topkIds)),
            },
          },
        );
        return { logits, routing };
      } finally {
        for (const sequence of sequences) model.releaseSequence(sequence);
      }
    };
    const expected = await run(reference);
    const actual = await run(candidate);
    for (const layer of config.moeLayers) {
      const a = expected.routing.get(layer)!;
      const b = actual.routing.get(layer)!;
      for (let t = 0; t < a.length / K; t++) {
        const wanted = new Set(a.subarray(t * K, (t + 1) * K));
        let shared = 0;
        for (const id of b.subarray(t * K, (t + 1) * K)) if (wanted.has(id)) shared++;
        sharedIds += shared;
        if (shared === K) sameSets++;
        pairs++;
      }
    }
    for (let i = 0; i < count; i++) {
      const a = expected.logits[i]!;
      const b = actual.logits[i]!;
      for (let j = 0; j < a.length; j++) {
        const d = Math.abs(a[j]! - b[j]!);
        if (!(d <= maxAbsDiffLogits)) maxAbsDiffLogits = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      }
      for (let t = 0; t < chunk; t++) if (argmaxRow(a, t * V, V) === argmaxRow(b, t * V, V)) sameArgmax++;
    }
  }
  const total = numChunks * chunk;
  return {
    tokens: total,
    routingAgreement: sameSets / pairs,
    expertOverlap: sharedIds / (pairs * K),
    maxAbsDiffLogits,
    argmaxAgreement: sameArgmax / total,
  };
}
