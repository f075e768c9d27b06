import { createRandom, parseWithSchema } from '@switchyard/core';
import { ModelError } from './errors.js';
import type { ForwardInput, ForwardOptions, ForwardResult } from './forward.js';
import { type GenerateOptions, generateOptionsSchema } from './options.js';
import { endsWith, sampleToken } from './sampling.js';
import type { Sequence } from './sequence-state.js';

export interface GenerateResult {
  /** The new token ids only. */
  tokens: number[];
  finishReason: 'length' | 'stop';
}

/** What generation needs of a model: sequences and forward passes (and its context length, when known). */
export interface Generator {
  readonly config?: { readonly maxPositionEmbeddings?: number | undefined };
  createSequence(): Sequence;
  releaseSequence(sequence: Sequence): void;
  forward(inputs: readonly ForwardInput[], options?: ForwardOptions): Promise<ForwardResult>;
}

/**
 * Batched generation over several prompts (each its own sequence): every step is one forward call
 * over the sequences still running; a sequence leaves at a stop sequence, a stop token (an EOS),
 * `maxNewTokens`, or the model's `max_position_embeddings` (prompt + output never exceed it; a prompt
 * that already fills it is INVALID_INPUT). Each prompt samples from its own seeded stream
 * (`seed + i · 0x9e3779b9`).
 */
export async function generate(
  model: Generator,
  prompts: readonly (readonly number[])[],
  generateOptions: GenerateOptions = {},
): Promise<GenerateResult[]> {
  const { moeStep, signal, onToken, ...rest } = generateOptions;
  const resolved = parseWithSchema(generateOptionsSchema, rest, 'generate options');
  const sequences = prompts.map(() => model.createSequence());
  const randoms = prompts.map((_, i) => createRandom(resolved.seed + i * 0x9e3779b9));
  const results: GenerateResult[] = prompts.map(() => ({ tokens: [], finishReason: 'length' }));
  const maxPositions = model.config?.maxPositionEmbeddings;
  const budgets = prompts.map((prompt, i) => {
    if (maxPositions === undefined) return resolved.maxNewTokens;
    if (prompt.length >= maxPositions)
      throw new ModelError({
        code: 'INVALID_INPUT',
        message: `prompt of ${prompt.length} tokens leaves no room in the model's ${maxPositions} positions (max_position_embeddings)`,
        location: `prompts[${i}]`,
      });
    return Math.min(resolved.maxNewTokens, maxPositions - prompt.length);
  });
  let active = prompts
    .map((prompt, i) => ({ index: i, next: [...prompt] }))
    .filter((entry) => {
      if (entry.next.length === 0)
        throw new ModelError({
          code: 'INVALID_INPUT',
          message: 'prompt is empty',
          location: `prompts[${entry.index}]`,
        });
      return budgets[entry.index]! > 0;
    });
  try {
    while (active.length > 0) {
      const { logits } = await model.forward(
        active.map((entry) => ({ sequence: sequences[entry.index]!, tokens: entry.next })),
        { moeStep, signal },
      );
      const still: typeof active = [];
      for (const [row, entry] of active.entries()) {
        const token = sampleToken(logits[row]!, resolved, randoms[entry.index]!);
        const result = results[entry.index]!;
        result.tokens.push(token);
        onToken?.(entry.index, token);
        const stop = resolved.stopSequences.find((sequence) => endsWith(result.tokens, sequence));
        if (stop) {
          result.tokens.length -= stop.length;
          result.finishReason = 'stop';
        } else if (resolved.stopTokens.includes(token)) {
          result.finishReason = 'stop';
        } else if (result.tokens.length < budgets[entry.index]!) {
          still.push({ index: entry.index, next: [token] });
        }
      }
      active = still;
    }
  } finally {
    for (const sequence of sequences) model.releaseSequence(sequence);
  }
  return results;
}
