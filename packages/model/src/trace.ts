import { parseWithSchema, type RoutingTrace } from '@switchyard/core';
import { ModelError } from './errors.js';
import type { MoeModel } from './model.js';
import { type RecordTraceOptions, recordTraceOptionsSchema } from './options.js';

/**
 * Runs `tokens` through the model in independent chunks and records every MoE layer's routing
 * (architecture/formats.md): top-k ids in router order, top-k softmax probabilities before renormalisation, and
 * the attention-id feature. A trailing partial chunk is dropped so every token has a full chunk.
 */
export async function recordTrace(
  model: MoeModel,
  tokens: ArrayLike<number>,
  options: RecordTraceOptions = {},
): Promise<RoutingTrace> {
  const { moeStep, onProgress, signal, ...rest } = options;
  const { chunk, chunksPerBatch, meta } = parseWithSchema(
    recordTraceOptionsSchema,
    rest,
    'recordTrace options',
  );
  const numChunks = Math.floor(tokens.length / chunk);
  if (numChunks === 0)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `${tokens.length} tokens do not fill one chunk of ${chunk}`,
      location: 'tokens',
    });
  const T = numChunks * chunk;
  const config = model.config;
  const L = config.moeLayers.length;
  const K = config.topK;
  const topkIds = new Int16Array(L * T * K);
  const topkProbs = new Float32Array(L * T * K);
  const attentionIds = new Int32Array(L * T);
  const layerIndex = new Map(config.moeLayers.map((layer, i) => [layer, i]));
  for (let first = 0; first < numChunks; first += chunksPerBatch) {
    const count = Math.min(chunksPerBatch, numChunks - first);
    const offset = first * chunk;
    const sequences = Array.from({ length: count }, () => model.createSequence());
    try {
      await model.forward(
        sequences.map((sequence, i) => ({
          sequence,
          tokens: Array.from({ length: chunk }, (_, j) => tokens[offset + i * chunk + j]!),
        })),
        {
          moeStep,
          signal,
          observer: {
            moeLayer(event) {
              const l = layerIndex.get(event.layer)!;
              topkIds.set(event.routing.topkIds, (l * T + offset) * K);
              topkProbs.set(event.routing.topkProbs, (l * T + offset) * K);
              attentionIds.set(event.attentionIds, l * T + offset);
            },
          },
        },
      );
    } finally {
      for (const sequence of sequences) model.releaseSequence(sequence);
    }
    onProgress?.(offset + count * chunk, T);
  }
  return {
    meta: {
      model: model.summary.name,
      ...meta,
      tokens: T,
      chunk,
      moe_layers: config.moeLayers,
      num_experts: config.numExperts,
      top_k: K,
      topk_probs_note:
        'softmax over all experts of the router logits, the top-k of them (before any renormalisation)',
    },
    tokens: Int32Array.from({ length: T }, (_, i) => tokens[i]!),
    topkIds,
    topkProbs,
    attentionIds,
    numLayers: L,
    numTokens: T,
    topK: K,
  };
}
