import type { GenerationConfig, Tokenizer } from '@switchyard/tokenizer';
import type { JobPriority } from './job-priority.js';

/**
 * The seam between the HTTP layer and generation. The HTTP layer only knows `Engine`; the shipped
 * engine is the continuous-batching scheduler (`createBatchScheduler`) over the real model.
 */
export interface CompletionJob {
  /** The prompt's token ids, as the model reads them (special tokens included; see `Tokenizer.encode`). */
  promptTokens: readonly number[];
  /** Most tokens to generate; 0 runs the prompt only (for `promptLogprobs`). */
  maxTokens: number;
  /** 0 = greedy. Left out: generation_config.json's `temperature`, else 1 (as vLLM). */
  temperature?: number | undefined;
  /** Left out: generation_config.json's `top_p`, else 1. */
  topP?: number | undefined;
  /** Sample among the k most likely tokens only; 0 = no limit. Left out: generation_config.json's `top_k`, else 0. */
  topK?: number | undefined;
  /** Hugging Face's repetition penalty over the prompt and output (1 = none). Left out: generation_config.json's, else 1. */
  repetitionPenalty?: number | undefined;
  seed?: number | undefined;
  /** Generation ends before the first occurrence of any of these; they are not returned. */
  stop: readonly string[];
  /** Token ids that end generation besides the model's EOS ids (`finish_reason: 'stop'`; their text is not returned). */
  stopTokenIds?: readonly number[] | undefined;
  /** Leave special tokens out of the text (default true, as vLLM). */
  skipSpecialTokens?: boolean | undefined;
  /** Log-probability of every generated token with this many most likely alternatives (0: the token's only). */
  logprobs?: number | undefined;
  /** The same for every prompt token after the first (a `prompt` event before any text). */
  promptLogprobs?: number | undefined;
  /**
   * Scheduling class: `batch` jobs run only in the slots and step tokens `interactive` ones leave.
   * Left out: the class `withJobPriority` set around the call, else `interactive`.
   */
  priority?: JobPriority | undefined;
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length';

export interface TokenLogprob {
  tokenId: number;
  /** Natural log of the token's probability under the model's raw distribution (before temperature and top-p). */
  logprob: number;
}

export interface TokenLogprobs extends TokenLogprob {
  /** The most likely tokens at this position, most likely first (as many as asked). */
  top: TokenLogprob[];
}

export type CompletionEvent =
  /** Per prompt token, its log-probability given the tokens before it (`null` for the first). */
  | { type: 'prompt'; logprobs: (TokenLogprobs | null)[] }
  /**
   * Text that became certain. One event per generated token (`token`; its text may be empty while a
   * character or a possible stop sequence is incomplete), and possibly a last one without `token`
   * holding what was held back at the end.
   */
  | { type: 'text'; text: string; token?: { id: number; logprobs?: TokenLogprobs } }
  | { type: 'done'; finishReason: FinishReason; promptTokens: number; completionTokens: number };

/** Expert ids chosen for every token of one decode step at one MoE layer, in router order. */
export interface LayerRouting {
  layer: number;
  numTokens: number;
  topK: number;
  /** [numTokens * topK] */
  topkIds: Int32Array;
}

/** One sequence's part of a step. */
export interface StepEntry {
  sequenceId: number;
  /** The request tag its job was submitted under (`withRequestTag`), if any. */
  tag: string | undefined;
  /** Tokens it fed in this step (its rows of `routing`, consecutive, in entry order). */
  tokens: number;
  /** Its job's scheduling class. */
  priority: JobPriority;
}

/** What one batched decode step did; the server turns these into metrics and predictor updates. */
export interface StepEvent {
  /** Sequences advanced together in this step. */
  sequences: number;
  /** Tokens fed through the model (prompt tokens of joining sequences + one per decoding sequence). */
  inputTokens: number;
  /** Tokens produced (one per sequence). */
  generatedTokens: number;
  durationMs: number;
  /** The sequences in this step, in batch order. */
  entries: readonly StepEntry[];
  /** Token ids fed in this step, concatenated in batch order (the rows of `routing`). */
  inputTokenIds: Int32Array;
  /** Position of each fed token in its sequence. */
  positions: Int32Array;
  /** [T × count] the `count` tokens preceding each fed token in its sequence, most recent first; −1 = none. */
  precedingTokens(count: number): Int32Array;
  routing: readonly LayerRouting[];
}

export interface EngineInfo {
  modelId: string;
  /** Largest prompt + completion length the model can hold. */
  maxContextTokens: number;
  vocabSize: number;
  moeLayers: readonly number[];
  numExperts: number;
  topK: number;
  batching: 'continuous' | 'sequential';
  maxBatchSize: number;
  /** How routed experts run: in process, or on functions through an executor. */
  expertPlacement: string;
}

export interface EngineStats {
  activeSequences: number;
  /** Waiting to join, including batch sequences held back for interactive ones. */
  queuedSequences: number;
  decodeSteps: number;
}

export interface Engine {
  readonly info: EngineInfo;
  /** The checkpoint's tokenizer: what prompts are encoded with and completions decoded with. */
  readonly tokenizer: Tokenizer;
  /** generation_config.json: the sampling defaults of jobs that leave them out, and the EOS ids. */
  readonly generationConfig: GenerationConfig;
  /** Streams the completion; ends after one `done` event or throws a SwitchyardError. */
  complete(job: CompletionJob): AsyncIterable<CompletionEvent>;
  /** Subscribes to per-step events; returns the unsubscribe function. */
  onStep(listener: (event: StepEvent) => void): () => void;
  stats(): EngineStats;
  close(): Promise<void>;
}
