import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';

/**
 * llama.cpp through node-llama-cpp's prebuilt CPU binary, fed token ids (the GGUF files Switchyard
 * exports carry a byte-level vocabulary, no tokenizer of the model's own). Nothing is built or
 * downloaded: `build: 'never'` uses the binary shipped in @node-llama-cpp/<platform>, and a missing
 * binary fails instead of compiling.
 */
export interface LlamaCppOptions {
  threads: number;
  /** Independent sequences in the context (the batch). */
  sequences: number;
  /** Tokens per sequence the KV cache holds. */
  contextSize: number;
  /**
   * `exact`: float32 KV cache and no flash attention (llama.cpp's most precise CPU settings, for
   * comparing logits); `default`: llama.cpp's defaults (F16 KV cache, flash attention when supported).
   */
  precision: 'exact' | 'default';
  /** Tokens per llama_decode call (llama.cpp's n_batch; 512 unless given). */
  batchSize?: number;
}

export interface LlamaCppRunner {
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly sequences: LlamaContextSequence[];
  /**
   * Evaluates each sequence's tokens (all sequences together, as one batch) and returns, for each
   * sequence, the greedy next token after its last token.
   */
  step(tokens: readonly (readonly number[])[]): Promise<number[]>;
  /**
   * Next-token log-probabilities after every position of each sequence (node-llama-cpp exposes
   * probabilities, not logits: log p = logit − logsumexp(logits), the logits up to the row's constant;
   * a probability that underflows float32 reads as −Infinity).
   */
  logProbabilities(tokens: readonly (readonly number[])[]): Promise<Float64Array[][]>;
  /** Empties every sequence's KV cache. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

let llamaInstance: Promise<Llama> | undefined;

/** One llama.cpp binding per process (node-llama-cpp loads its native library once). */
function sharedLlama(): Promise<Llama> {
  llamaInstance ??= getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    maxThreads: 0,
  });
  return llamaInstance;
}

export async function openLlamaCpp(ggufPath: string, options: LlamaCppOptions): Promise<LlamaCppRunner> {
  const llama = await sharedLlama();
  const model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
  const exact = options.precision === 'exact';
  const context = await model.createContext({
    sequences: options.sequences,
    contextSize: options.contextSize,
    threads: { ideal: options.threads, min: options.threads },
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    flashAttention: exact ? false : 'auto',
    ...(exact ? { experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } : {}),
    failedCreationRemedy: false,
  });
  const sequences = Array.from({ length: options.sequences }, () => context.getSequence());
  const checkBatch = (tokens: readonly (readonly number[])[]) => {
    if (tokens.length > sequences.length)
      throw new Error(`${tokens.length} sequences given, the context has ${sequences.length}`);
  };
  return {
    llama,
    model,
    context,
    sequences,
    async step(tokens) {
      checkBatch(tokens);
      // Evaluations started in the same tick are batched into one llama_decode by node-llama-cpp.
      const results = await Promise.all(
        tokens.map((sequenceTokens, index) =>
          sequences[index]!.controlledEvaluate(
            sequenceTokens.map((token, position) =>
              position === sequenceTokens.length - 1
                ? [token as Token, { generateNext: { token: true, options: { temperature: 0 } } }]
                : (token as Token),
            ),
          ),
        ),
      );
      return results.map((result, index) => {
        const next = result[tokens[index]!.length - 1]?.next.token;
        if (next === undefined || next === null)
          throw new Error(`llama.cpp returned no token for sequence ${index}`);
        return next;
      });
    },
    async logProbabilities(tokens) {
      checkBatch(tokens);
      const results = await Promise.all(
        tokens.map((sequenceTokens, index) =>
          sequences[index]!.controlledEvaluate(
            sequenceTokens.map((token) => [token as Token, { generateNext: { probabilities: true } }]),
          ),
        ),
      );
      return results.map((result, index) =>
        tokens[index]!.map((_, position) => {
          const probabilities = result[position]?.next.probabilities;
          if (!probabilities) throw new Error(`llama.cpp returned no probabilities at ${index}:${position}`);
          // The map holds every token of the vocabulary, most probable first.
          const out = new Float64Array(probabilities.size);
          for (const [token, probability] of probabilities) out[token] = Math.log(probability);
          return out;
        }),
      );
    },
    async reset() {
      await Promise.all(sequences.map((sequence) => sequence.clearHistory()));
    },
    async close() {
      await context.dispose();
      await model.dispose();
    },
  };
}
