import {
  createRandom,
  describeError,
  type Logger,
  noopLogger,
  parseWithSchema,
  SwitchyardError,
} from '@switchyard/core';
import { sampleToken } from '@switchyard/model';
import type { GenerationConfig, Tokenizer } from '@switchyard/tokenizer';
import { AsyncChannel } from './async-channel.js';
import type {
  CompletionEvent,
  CompletionJob,
  Engine,
  EngineInfo,
  EngineStats,
  FinishReason,
  LayerRouting,
  StepEvent,
  TokenLogprobs,
} from './engine.js';
import { ServingError } from './errors.js';
import { currentJobPriority, type JobPriority } from './job-priority.js';
import { type BatchSchedulerOptions, batchSchedulerOptionsSchema } from './options.js';
import { currentRequestTag } from './request-tag.js';
import { TextAssembler } from './text-stream.js';
import { tokenLogprobs } from './token-logprobs.js';

/** One sequence's input for a step: its prompt (or a chunk of it) when it joins, then its last sampled token. */
export interface BatchEntry {
  sequenceId: number;
  tokenIds: readonly number[];
  /** Logits of every fed token, not only the last (prompt log-probabilities). */
  allLogits?: boolean;
}

export interface BatchStepResult {
  /** Per entry, in batch order: [rows, V] logits (rows = its token count with `allLogits`, else 1). */
  logits: Float32Array[];
  /** Routing of every fed token at every MoE layer (rows in batch order). */
  routing: LayerRouting[];
}

/**
 * A model that advances a changing set of sequences one step at a time, keeping each sequence's
 * KV cache between steps. One call runs all entries together, so their tokens share one expert
 * dispatch per MoE layer.
 */
export interface DecodeBackend {
  readonly info: Omit<EngineInfo, 'batching' | 'maxBatchSize'>;
  step(batch: readonly BatchEntry[]): Promise<BatchStepResult>;
  /** Frees a finished sequence's cache. */
  release(sequenceId: number): void;
  close(): Promise<void>;
}

export interface BatchSchedulerDependencies {
  /** Encodes nothing here: decodes generated ids into text (its decode stream) and gives the EOS ids. */
  tokenizer: Tokenizer;
  /** Sampling defaults for jobs that leave them out (generation_config.json); default none. */
  generationConfig?: GenerationConfig;
  logger?: Logger;
}

/** A job with every sampling field decided. */
interface ResolvedJob {
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  logprobs: number | undefined;
  promptLogprobs: number | undefined;
}

interface Sequence {
  id: number;
  job: ResolvedJob;
  prompt: readonly number[];
  /** Every token fed so far (prompt and generated), for positions and predictor context. */
  history: number[];
  /** Tokens not fed yet: the prompt (or what is left of it), then the last sampled token. */
  pending: number[];
  completionTokens: number;
  random: () => number;
  assembler: TextAssembler;
  stopTokenIds: ReadonlySet<number>;
  /** Tokens seen so far, kept only for a repetition penalty. */
  seen: Set<number> | undefined;
  promptLogprobs: (TokenLogprobs | null)[] | undefined;
  channel: AsyncChannel<CompletionEvent>;
  cancelled: boolean;
  /** The request tag current when the job was submitted (`withRequestTag`), for per-request attribution. */
  tag: string | undefined;
  priority: JobPriority;
}

/**
 * Logits kept per step for a prompt whose log-probabilities are wanted: such a prompt is fed in chunks
 * of at most this many values' worth of rows (64 MB of float32), so a long prompt over a large vocabulary
 * never materialises [prompt × vocabulary] at once.
 */
const promptLogitsBudget = 2 ** 24;

/**
 * Continuous batching (Orca-style iteration-level scheduling): between decode steps, finished
 * sequences leave and queued ones join, and every step advances all active sequences together.
 *
 * Two classes share it (`CompletionJob.priority`): interactive sequences join before batch ones, take
 * the step's token budget first, and when every slot is taken an interactive arrival holds back the
 * batch sequence that joined last (out of the step, its KV cache kept) until a slot frees again. Batch
 * work so runs only in the capacity interactive traffic leaves, and an interactive request's first
 * token comes as many steps after its arrival as on an idle engine (plus at most the step under way).
 */
export function createBatchScheduler(
  backend: DecodeBackend,
  optionsInput: BatchSchedulerOptions,
  { tokenizer, generationConfig = {}, logger = noopLogger }: BatchSchedulerDependencies,
): Engine {
  const options = parseWithSchema(
    batchSchedulerOptionsSchema,
    optionsInput,
    'batch scheduler options',
    'INVALID_CONFIG',
  );
  const maxBatchSize = options.batching === 'sequential' ? 1 : options.maxBatchSize;
  const maxBatchTokens = options.maxBatchTokens ?? Number.POSITIVE_INFINITY;
  // Read through a getter: a rollout may change the backend's expert placement while serving.
  const engineInfo = (): EngineInfo => ({ ...backend.info, batching: options.batching, maxBatchSize });
  const vocabSize = backend.info.vocabSize;
  const promptChunk = Math.max(1, Math.floor(promptLogitsBudget / vocabSize));
  const eosTokenIds = [...tokenizer.eosTokenIds];
  const seedRandom = createRandom(options.seed ?? Date.now());
  const queue: Sequence[] = [];
  const active: Sequence[] = [];
  const listeners = new Set<(event: StepEvent) => void>();
  let nextId = 1;
  let decodeSteps = 0;
  let closed = false;
  let wakeLoop: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  const finish = (sequence: Sequence, finishReason: FinishReason): void => {
    const tail = sequence.assembler.finish();
    if (tail) sequence.channel.push({ type: 'text', text: tail });
    sequence.channel.push({
      type: 'done',
      finishReason,
      promptTokens: sequence.prompt.length,
      completionTokens: sequence.completionTokens,
    });
    sequence.channel.end();
  };

  const remove = (sequence: Sequence): void => {
    const index = active.indexOf(sequence);
    if (index >= 0) active.splice(index, 1);
    backend.release(sequence.id);
  };

  /** Drops cancelled sequences from the queue (a held one had a KV cache to free). */
  const pruneQueue = (): void => {
    for (let index = queue.length - 1; index >= 0; index--) {
      const sequence = queue[index]!;
      if (!sequence.cancelled) continue;
      queue.splice(index, 1);
      if (sequence.history.length > 0) backend.release(sequence.id);
    }
  };

  /** The next sequence to join: the first interactive one queued, else the first batch one. */
  const nextQueued = (): Sequence | undefined =>
    queue.find((sequence) => sequence.priority === 'interactive') ?? queue[0];

  /**
   * Makes a slot for a waiting interactive sequence when all are taken: the batch sequence that joined
   * last leaves the step and waits first in line among batch sequences, its KV cache kept.
   */
  const holdBatchSequence = (): boolean => {
    for (let index = active.length - 1; index >= 0; index--) {
      const sequence = active[index]!;
      if (sequence.priority !== 'batch') continue;
      active.splice(index, 1);
      const firstBatch = queue.findIndex((queued) => queued.priority === 'batch');
      queue.splice(firstBatch < 0 ? queue.length : firstBatch, 0, sequence);
      return true;
    }
    return false;
  };

  /** The prompt log-probabilities the rows of one prefill chunk give (row j predicts position start + j + 1). */
  const recordPromptLogprobs = (sequence: Sequence, logits: Float32Array, start: number, rows: number) => {
    const { prompt, promptLogprobs, job } = sequence;
    for (let j = 0; j < rows; j++) {
      const position = start + j + 1;
      if (position >= prompt.length) break;
      const row = logits.subarray(j * vocabSize, (j + 1) * vocabSize);
      promptLogprobs![position] = tokenLogprobs(row, prompt[position]!, job.promptLogprobs!);
    }
  };

  /** Samples the next token from the last row of a sequence's logits (after its repetition penalty). */
  const sample = (sequence: Sequence, row: Float32Array): number => {
    const { job, seen } = sequence;
    let weights = row;
    if (seen && job.repetitionPenalty !== 1) {
      weights = Float32Array.from(row);
      for (const id of seen) {
        const value = weights[id]!;
        weights[id] = value > 0 ? value / job.repetitionPenalty : value * job.repetitionPenalty;
      }
    }
    const token = sampleToken(weights, { ...job, greedy: false }, sequence.random);
    seen?.add(token);
    return token;
  };

  /** Tokens a sequence still wants fed before it samples: its pending prompt, or its one last token. */
  const demandOf = (sequence: Sequence): number => sequence.pending.length;

  /**
   * The step's batch under the token budget, interactive sequences before batch ones: within a class,
   * every decoding sequence's one token first (their KV caches are warm; they never wait), then prefill
   * chunks of joining sequences in arrival order, each cut to what is left of `maxBatchTokens` (chunked
   * prefill). A sequence that gets no room sits this step out.
   */
  const planStep = (): { stepped: Sequence[]; batch: BatchEntry[] } => {
    let room = maxBatchTokens;
    const stepped: Sequence[] = [];
    const batch: BatchEntry[] = [];
    const prefilling = (sequence: Sequence) => sequence.history.length < sequence.prompt.length;
    for (const priority of ['interactive', 'batch'] as const) {
      const members = active.filter((sequence) => sequence.priority === priority);
      for (const sequence of members) {
        if (prefilling(sequence) || room < 1) continue;
        stepped.push(sequence);
        batch.push({ sequenceId: sequence.id, tokenIds: sequence.pending });
        room -= sequence.pending.length;
      }
      for (const sequence of members) {
        if (!prefilling(sequence) || room < 1) continue;
        const withLogprobs = sequence.job.promptLogprobs !== undefined;
        const take = Math.min(sequence.pending.length, room, withLogprobs ? promptChunk : room);
        const tokenIds = take < sequence.pending.length ? sequence.pending.slice(0, take) : sequence.pending;
        stepped.push(sequence);
        batch.push(
          withLogprobs
            ? { sequenceId: sequence.id, tokenIds, allLogits: true }
            : { sequenceId: sequence.id, tokenIds },
        );
        room -= tokenIds.length;
      }
    }
    return { stepped, batch };
  };

  const runStep = async (): Promise<void> => {
    for (const sequence of [...active]) {
      if (sequence.cancelled) remove(sequence);
    }
    pruneQueue();
    // Sequences join while a slot is free and the step's token budget is not spoken for — by their own
    // class or one above it: batch sequences never keep an interactive one waiting.
    const demandAbove = (priority: JobPriority): number =>
      active.reduce(
        (sum, sequence) =>
          sum + (priority === 'batch' || sequence.priority === 'interactive' ? demandOf(sequence) : 0),
        0,
      );
    for (let sequence = nextQueued(); sequence; sequence = nextQueued()) {
      if (demandAbove(sequence.priority) >= maxBatchTokens) break;
      if (active.length >= maxBatchSize && !(sequence.priority === 'interactive' && holdBatchSequence()))
        break;
      queue.splice(queue.indexOf(sequence), 1);
      active.push(sequence);
    }
    if (active.length === 0) return;
    const { stepped, batch } = planStep();
    const inputTokenIds = Int32Array.from(batch.flatMap((entry) => entry.tokenIds));
    const positions = new Int32Array(inputTokenIds.length);
    {
      let row = 0;
      stepped.forEach((sequence, index) => {
        for (let i = 0; i < batch[index]!.tokenIds.length; i++) {
          positions[row] = sequence.history.length + i;
          row += 1;
        }
      });
    }
    const histories = stepped.map((sequence, index) => [...sequence.history, ...batch[index]!.tokenIds]);
    const entries = stepped.map((sequence, index) => ({
      sequenceId: sequence.id,
      tag: sequence.tag,
      tokens: batch[index]!.tokenIds.length,
      priority: sequence.priority,
    }));
    const started = performance.now();
    let result: BatchStepResult;
    try {
      result = await backend.step(batch);
    } catch (error) {
      logger.error('decode step failed', { error: describeError(error), sequences: batch.length });
      const failure = SwitchyardError.isInstance(error)
        ? error
        : new ServingError({ code: 'INFERENCE_FAILED', message: describeError(error), cause: error });
      for (const sequence of [...active]) {
        remove(sequence);
        sequence.channel.end(failure);
      }
      return;
    }
    decodeSteps += 1;
    let generatedTokens = 0;
    stepped.forEach((sequence, index) => {
      const entry = batch[index]!;
      const logits = result.logits[index]!;
      const rows = entry.allLogits ? entry.tokenIds.length : 1;
      const start = sequence.history.length;
      sequence.history.push(...entry.tokenIds);
      sequence.pending = sequence.pending.slice(entry.tokenIds.length);
      if (entry.allLogits) recordPromptLogprobs(sequence, logits, start, rows);
      // A prompt fed in chunks: nothing to sample until its last chunk.
      if (sequence.pending.length > 0) return;
      if (entry.allLogits && sequence.promptLogprobs && !sequence.cancelled)
        sequence.channel.push({ type: 'prompt', logprobs: sequence.promptLogprobs });
      if (sequence.job.maxTokens === 0) {
        remove(sequence);
        if (!sequence.cancelled) finish(sequence, 'length');
        return;
      }
      const row = logits.subarray((rows - 1) * vocabSize, rows * vocabSize);
      const token = sample(sequence, row);
      generatedTokens += 1;
      sequence.completionTokens += 1;
      sequence.pending = [token];
      if (sequence.cancelled) return;
      const logprobs =
        sequence.job.logprobs === undefined ? undefined : tokenLogprobs(row, token, sequence.job.logprobs);
      const tokenInfo = logprobs ? { id: token, logprobs } : { id: token };
      if (sequence.stopTokenIds.has(token)) {
        // An EOS (or a stop token id) ends the completion; its text is not part of it (as vLLM).
        sequence.channel.push({ type: 'text', text: '', token: tokenInfo });
        remove(sequence);
        finish(sequence, 'stop');
        return;
      }
      const { text, stopped } = sequence.assembler.push(token);
      sequence.channel.push({ type: 'text', text, token: tokenInfo });
      const contextFull = sequence.prompt.length + sequence.completionTokens >= backend.info.maxContextTokens;
      if (stopped || sequence.completionTokens >= sequence.job.maxTokens || contextFull) {
        remove(sequence);
        finish(sequence, stopped ? 'stop' : 'length');
      }
    });
    const event: StepEvent = {
      sequences: batch.length,
      inputTokens: inputTokenIds.length,
      generatedTokens,
      durationMs: performance.now() - started,
      entries,
      inputTokenIds,
      positions,
      precedingTokens(count) {
        const out = new Int32Array(positions.length * count).fill(-1);
        let row = 0;
        histories.forEach((history, index) => {
          const fed = batch[index]!.tokenIds.length;
          for (let i = 0; i < fed; i++, row++) {
            const at = history.length - fed + i;
            for (let back = 1; back <= count && at - back >= 0; back++)
              out[row * count + back - 1] = history[at - back]!;
          }
        });
        return out;
      },
      routing: result.routing,
    };
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.warn('step listener failed', { error: describeError(error) });
      }
    }
  };

  const runLoop = async (): Promise<void> => {
    while (!closed) {
      if (active.length === 0 && queue.every((sequence) => sequence.cancelled)) {
        pruneQueue();
        await new Promise<void>((resolve) => {
          wakeLoop = resolve;
        });
        continue;
      }
      await runStep();
      // Let the HTTP layer accept requests and flush chunks between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  const ensureLoop = (): void => {
    loop ??= runLoop();
    const wake = wakeLoop;
    wakeLoop = undefined;
    wake?.();
  };

  /** The job's sampling fields, each from the job, else generation_config.json, else the neutral value. */
  const resolveJob = (job: CompletionJob): ResolvedJob => ({
    maxTokens: job.maxTokens,
    temperature: job.temperature ?? generationConfig.temperature ?? 1,
    topP: job.topP ?? generationConfig.topP ?? 1,
    topK: job.topK ?? generationConfig.topK ?? 0,
    repetitionPenalty: job.repetitionPenalty ?? generationConfig.repetitionPenalty ?? 1,
    logprobs: job.logprobs,
    promptLogprobs: job.promptLogprobs,
  });

  return {
    get info() {
      return engineInfo();
    },
    tokenizer,
    generationConfig,
    async *complete(job) {
      if (closed) throw new ServingError({ code: 'ABORTED', message: 'the engine is shutting down' });
      checkJob(job, vocabSize);
      const prompt = [...job.promptTokens];
      if (job.maxTokens === 0 && job.promptLogprobs === undefined) {
        yield { type: 'done', finishReason: 'length', promptTokens: prompt.length, completionTokens: 0 };
        return;
      }
      const resolved = resolveJob(job);
      const sequence: Sequence = {
        id: nextId++,
        job: resolved,
        prompt,
        history: [],
        pending: prompt,
        completionTokens: 0,
        random: createRandom(job.seed ?? Math.floor(seedRandom() * 2 ** 32)),
        assembler: new TextAssembler(
          tokenizer.createDecodeStream({ skipSpecialTokens: job.skipSpecialTokens ?? true }),
          job.stop,
        ),
        stopTokenIds: new Set([...eosTokenIds, ...(job.stopTokenIds ?? [])]),
        seen: resolved.repetitionPenalty === 1 ? undefined : new Set(prompt),
        promptLogprobs: job.promptLogprobs === undefined ? undefined : [null],
        channel: new AsyncChannel<CompletionEvent>(),
        cancelled: false,
        tag: currentRequestTag(),
        priority: job.priority ?? currentJobPriority(),
      };
      const onAbort = (): void => {
        sequence.cancelled = true;
        sequence.channel.end(new ServingError({ code: 'ABORTED', message: 'the request was cancelled' }));
      };
      if (job.signal?.aborted) {
        throw new ServingError({ code: 'ABORTED', message: 'the request was cancelled' });
      }
      job.signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(sequence);
      ensureLoop();
      let completed = false;
      try {
        for await (const event of sequence.channel.drain()) {
          if (event.type === 'done') completed = true;
          yield event;
        }
      } finally {
        job.signal?.removeEventListener('abort', onAbort);
        // A consumer that stops early (client gone) frees the slot for the next step.
        if (!completed) sequence.cancelled = true;
      }
    },
    onStep(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats(): EngineStats {
      return {
        activeSequences: active.length,
        queuedSequences: queue.filter((sequence) => !sequence.cancelled).length,
        decodeSteps,
      };
    },
    async close() {
      closed = true;
      const aborted = new ServingError({ code: 'ABORTED', message: 'the engine shut down' });
      for (const sequence of [...queue, ...active]) sequence.channel.end(aborted);
      for (const sequence of queue) if (sequence.history.length > 0) backend.release(sequence.id);
      queue.length = 0;
      const wake = wakeLoop;
      wakeLoop = undefined;
      wake?.();
      await loop;
      for (const sequence of [...active]) remove(sequence);
      await backend.close();
    },
  };
}

/** What a job must hold for the model: token ids it knows, counts it can give (INVALID_INPUT naming the field). */
function checkJob(job: CompletionJob, vocabSize: number): void {
  const invalid = (message: string, location: string) =>
    new ServingError({ code: 'INVALID_INPUT', message, location });
  if (job.promptTokens.length === 0) throw invalid('the prompt is empty', 'prompt');
  for (const [index, id] of job.promptTokens.entries()) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw invalid(`token id ${id} is not one of the model's ${vocabSize} tokens`, `prompt[${index}]`);
  }
  if (!Number.isInteger(job.maxTokens) || job.maxTokens < 0)
    throw invalid(`max tokens must be a non-negative integer, got ${job.maxTokens}`, 'maxTokens');
  for (const field of ['logprobs', 'promptLogprobs'] as const) {
    const count = job[field];
    if (count !== undefined && (!Number.isInteger(count) || count < 0 || count > vocabSize))
      throw invalid(`${field} must be an integer from 0 to ${vocabSize}, got ${count}`, field);
  }
}
