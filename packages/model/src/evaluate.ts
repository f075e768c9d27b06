import { parseWithSchema } from '@switchyard/core';
import { ModelError } from './errors.js';
import type { MoeModel } from './model.js';
import { type EvaluateOptions, evaluateOptionsSchema } from './options.js';

/** Teacher-forced next-token log-likelihood of a text. */
export interface EvaluateResult {
  /** Tokens scored (every token of a window after its first). */
  tokens: number;
  /** Mean negative log-likelihood per scored token, in nats. */
  nll: number;
  /** `nll / ln 2`; for a byte-level model, bits per byte. */
  bitsPerToken: number;
  /** `exp(nll)`. */
  perplexity: number;
  /** Windows the tokens were cut into (the last may be shorter). */
  windows: number;
}

/** −log softmax(row)[target], in float64. */
function negativeLogLikelihood(row: Float32Array, target: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return Math.log(sum) + max - row[target]!;
}

/**
 * Runs `tokens` through the model in non-overlapping windows of `context` tokens (each a fresh
 * sequence) and scores every token of a window after its first against the logits of the token before
 * it. A trailing window shorter than `context` is scored too when it has at least two tokens.
 */
export async function evaluateLikelihood(
  model: MoeModel,
  tokens: ArrayLike<number>,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  const { moeStep, onProgress, signal, ...rest } = options;
  const { context, windowsPerBatch } = parseWithSchema(evaluateOptionsSchema, rest, 'evaluate options');
  const vocab = model.config.vocabSize;
  const windows: Array<{ start: number; length: number }> = [];
  for (let start = 0; start + 1 < tokens.length; start += context)
    windows.push({ start, length: Math.min(context, tokens.length - start) });
  if (windows.length === 0)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `${tokens.length} tokens leave nothing to score; give at least 2`,
      location: 'tokens',
    });
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!Number.isInteger(token) || token < 0 || token >= vocab)
      throw new ModelError({
        code: 'INVALID_INPUT',
        message: `token ${token} at position ${i} is outside the vocabulary 0..${vocab - 1}`,
        location: 'tokens',
      });
  }
  let total = 0;
  let scored = 0;
  for (let first = 0; first < windows.length; first += windowsPerBatch) {
    const batch = windows.slice(first, first + windowsPerBatch);
    const sequences = batch.map(() => model.createSequence());
    try {
      const { logits } = await model.forward(
        batch.map(({ start, length }, i) => ({
          sequence: sequences[i]!,
          tokens: Array.from({ length }, (_, j) => tokens[start + j]!),
        })),
        { moeStep, signal, logits: 'all' },
      );
      batch.forEach(({ start, length }, i) => {
        const rows = logits[i]!;
        for (let j = 0; j + 1 < length; j++) {
          total += negativeLogLikelihood(rows.subarray(j * vocab, (j + 1) * vocab), tokens[start + j + 1]!);
          scored++;
        }
      });
    } finally {
      for (const sequence of sequences) model.releaseSequence(sequence);
    }
    const last = batch[batch.length - 1]!;
    onProgress?.(last.start + last.length, tokens.length);
  }
  const nll = total / scored;
  return {
    tokens: scored,
    nll,
    bitsPerToken: nll / Math.LN2,
    perplexity: Math.exp(nll),
    windows: windows.length,
  };
}
