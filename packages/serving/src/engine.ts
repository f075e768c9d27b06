/**
 * The seam between the HTTP layer and generation. The HTTP layer only knows `Engine`; the shipped
 * engine is the continuous-batching scheduler (`createBatchScheduler`) over the real model.
 */
export interface CompletionJob {
  prompt: string;
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed?: number;
  /** Generation ends before the first occurrence of any of these; they are not returned. */
  stop: readonly string[];
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length';

export type CompletionEvent =
  | { type: 'text'; text: string }
  | { type: 'done'; finishReason: FinishReason; promptTokens: number; completionTokens: number };

/** Expert ids chosen for every token of one decode step at one MoE layer, in router order. */
export interface LayerRouting {
  layer: number;
  numTokens: number;
  topK: number;
  /** [numTokens * topK] */
  topkIds: Int32Array;
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
  queuedSequences: number;
  decodeSteps: number;
}

export interface Engine {
  readonly info: EngineInfo;
  /** Prompt length in model tokens (UTF-8 bytes for the byte-level models). */
  countPromptTokens(prompt: string): number;
  /** Streams the completion; ends after one `done` event or throws a SwitchyardError. */
  complete(job: CompletionJob): AsyncIterable<CompletionEvent>;
  /** Subscribes to per-step events; returns the unsubscribe function. */
  onStep(listener: (event: StepEvent) => void): () => void;
  stats(): EngineStats;
  close(): Promise<void>;
}
