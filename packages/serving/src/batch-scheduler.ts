import {
  createRandom,
  describeError,
  type Logger,
  noopLogger,
  parseWithSchema,
  SwitchyardError,
} from '@switchyard/core';
import { sampleToken } from '@switchyard/model';
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
} from './engine.js';
import { ServingError } from './errors.js';
import { type BatchSchedulerOptions, batchSchedulerOptionsSchema } from './options.js';
import { encodeBytes, TextAssembler } from './text-stream.js';

/** One sequence's input for a step: its whole prompt when it joins, then its last sampled token. */
export interface BatchEntry {
  sequenceId: number;
  tokenIds: readonly number[];
}

export interface BatchStepResult {
  /** Next-token logits per entry, in batch order. */
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

interface Sequence {
  id: number;
  job: CompletionJob;
  promptTokens: number;
  /** Every token fed so far (prompt and generated), for positions and predictor context. */
  history: number[];
  pending: number[];
  completionTokens: number;
  random: () => number;
  assembler: TextAssembler;
  channel: AsyncChannel<CompletionEvent>;
  cancelled: boolean;
}

/**
 * Continuous batching (Orca-style iteration-level scheduling): between decode steps, finished
 * sequences leave and queued ones join, and every step advances all active sequences together.
 */
export function createBatchScheduler(
  backend: DecodeBackend,
  optionsInput: BatchSchedulerOptions = {},
  { logger = noopLogger }: { logger?: Logger } = {},
): Engine {
  const options = parseWithSchema(
    batchSchedulerOptionsSchema,
    optionsInput,
    'batch scheduler options',
    'INVALID_CONFIG',
  );
  const maxBatchSize = options.batching === 'sequential' ? 1 : options.maxBatchSize;
  // Read through a getter: a rollout may change the backend's expert placement while serving.
  const engineInfo = (): EngineInfo => ({ ...backend.info, batching: options.batching, maxBatchSize });
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
      promptTokens: sequence.promptTokens,
      completionTokens: sequence.completionTokens,
    });
    sequence.channel.end();
  };

  const remove = (sequence: Sequence): void => {
    const index = active.indexOf(sequence);
    if (index >= 0) active.splice(index, 1);
    backend.release(sequence.id);
  };

  const runStep = async (): Promise<void> => {
    for (const sequence of [...active]) {
      if (sequence.cancelled) remove(sequence);
    }
    while (active.length < maxBatchSize && queue.length > 0) {
      const sequence = queue.shift()!;
      if (!sequence.cancelled) active.push(sequence);
    }
    if (active.length === 0) return;
    const batch = active.map((sequence) => ({ sequenceId: sequence.id, tokenIds: sequence.pending }));
    const inputTokenIds = Int32Array.from(batch.flatMap((entry) => entry.tokenIds));
    const positions = new Int32Array(inputTokenIds.length);
    {
      let row = 0;
      for (const sequence of active) {
        for (let i = 0; i < sequence.pending.length; i++) {
          positions[row] = sequence.history.length + i;
          row += 1;
        }
      }
    }
    const histories = active.map((sequence) => [...sequence.history, ...sequence.pending]);
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
    for (const sequence of active) sequence.history.push(...sequence.pending);
    const stepped = [...active];
    stepped.forEach((sequence, index) => {
      const logits = result.logits[index]!;
      const token = sampleToken(logits, { ...sequence.job, greedy: false }, sequence.random);
      sequence.completionTokens += 1;
      sequence.pending = [token];
      if (sequence.cancelled) return;
      const { text, stopped } = sequence.assembler.push(token);
      if (text) sequence.channel.push({ type: 'text', text });
      const contextFull = sequence.promptTokens + sequence.completionTokens >= backend.info.maxContextTokens;
      if (stopped || sequence.completionTokens >= sequence.job.maxTokens || contextFull) {
        remove(sequence);
        finish(sequence, stopped ? 'stop' : 'length');
      }
    });
    const event: StepEvent = {
      sequences: batch.length,
      inputTokens: inputTokenIds.length,
      generatedTokens: batch.length,
      durationMs: performance.now() - started,
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
        queue.length = 0;
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

  return {
    get info() {
      return engineInfo();
    },
    countPromptTokens: (prompt) => new TextEncoder().encode(prompt).length,
    async *complete(job) {
      if (closed) throw new ServingError({ code: 'ABORTED', message: 'the engine is shutting down' });
      const promptTokens = encodeBytes(job.prompt);
      if (promptTokens.length === 0) {
        throw new ServingError({
          code: 'INVALID_INPUT',
          message: 'the prompt is empty',
          location: 'prompt',
        });
      }
      const sequence: Sequence = {
        id: nextId++,
        job,
        promptTokens: promptTokens.length,
        history: [],
        pending: promptTokens,
        completionTokens: 0,
        random: createRandom(job.seed ?? Math.floor(seedRandom() * 2 ** 32)),
        assembler: new TextAssembler(job.stop),
        channel: new AsyncChannel<CompletionEvent>(),
        cancelled: false,
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
