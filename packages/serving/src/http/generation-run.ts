import { randomUUID } from 'node:crypto';
import { AsyncChannel } from '../async-channel.js';
import type { CompletionJob, FinishReason, TokenLogprobs } from '../engine.js';
import { HttpError } from '../errors.js';
import type { Usage } from './schemas.js';
import type { Exchange, ServerContext } from './server-context.js';

/** One generated token of a choice: its id, log-probabilities when asked, and where its text starts. */
export interface ChoiceToken {
  id: number;
  logprobs?: TokenLogprobs | undefined;
  /** Offset in the choice's completion text at which this token's text begins. */
  offset: number;
}

/** What a request's choices produce, interleaved across choices and in order within one. */
export type ChoiceEvent =
  | { type: 'prompt'; choice: number; logprobs: (TokenLogprobs | null)[] }
  /** Text with the tokens it came from (a token whose text was held comes with the next text). */
  | { type: 'text'; choice: number; text: string; tokens: ChoiceToken[] }
  | {
      type: 'done';
      choice: number;
      finishReason: FinishReason;
      promptTokens: number;
      completionTokens: number;
    };

export interface ChoiceJob {
  choice: number;
  job: Omit<CompletionJob, 'signal'>;
}

/**
 * The life of one generation request: its choices run as concurrent engine sequences under one abort
 * signal, cancelled together when the client disconnects, after `requestTimeoutMs` (504), or when the
 * shutdown grace period ends. Also times the first token and counts tokens for `/metrics`.
 */
export class GenerationRun {
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);
  private readonly controller = new AbortController();
  private timedOut = false;
  private firstToken = true;
  private readonly timer: NodeJS.Timeout;
  private readonly onClose = () => {
    if (!this.exchange.response.writableFinished) this.controller.abort();
  };

  constructor(
    private readonly server: ServerContext,
    private readonly exchange: Exchange,
    private readonly receivedMs: number,
    idPrefix: string,
  ) {
    this.id = `${idPrefix}-${randomUUID().replaceAll('-', '')}`;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, server.options.requestTimeoutMs);
    exchange.response.on('close', this.onClose);
    server.inFlight.add(this.controller);
    server.metrics.inFlight = server.inFlight.size;
  }

  /** Runs every choice's job at once and yields their events; the first failure cancels the others. */
  async *events(jobs: readonly ChoiceJob[]): AsyncGenerator<ChoiceEvent> {
    const channel = new AsyncChannel<ChoiceEvent>();
    const { signal } = this.controller;
    let running = jobs.length;
    const pump = async ({ choice, job }: ChoiceJob): Promise<void> => {
      let held: ChoiceToken[] = [];
      let textLength = 0;
      for await (const event of this.server.engine.complete({ ...job, signal })) {
        if (event.type === 'prompt') {
          channel.push({ type: 'prompt', choice, logprobs: event.logprobs });
        } else if (event.type === 'text') {
          if (event.token) held.push({ ...event.token, offset: textLength });
          if (event.text === '') continue;
          if (this.firstToken) {
            this.firstToken = false;
            this.server.metrics.timeToFirstToken.observe((performance.now() - this.receivedMs) / 1000);
          }
          channel.push({ type: 'text', choice, text: event.text, tokens: held });
          textLength += event.text.length;
          held = [];
        } else {
          if (held.length > 0) channel.push({ type: 'text', choice, text: '', tokens: held });
          this.server.metrics.promptTokens.inc({}, event.promptTokens);
          this.server.metrics.completionTokens.inc({}, event.completionTokens);
          channel.push({ ...event, choice });
        }
      }
    };
    for (const job of jobs) {
      pump(job).then(
        () => {
          running -= 1;
          if (running === 0) channel.end();
        },
        (error: unknown) => {
          this.controller.abort();
          channel.end(this.failure(error));
        },
      );
    }
    if (jobs.length === 0) channel.end();
    try {
      yield* channel.drain();
    } finally {
      // The consumer stopped early (client gone, a write failed): free the sequences.
      this.controller.abort();
    }
  }

  /** The error to answer with: a timeout becomes 504, anything else stays itself. */
  failure(error: unknown): unknown {
    return this.timedOut
      ? new HttpError({
          code: 'TIMEOUT',
          message: `The completion took longer than ${this.server.options.requestTimeoutMs} ms and was cancelled.`,
          apiCode: 'timeout',
        })
      : error;
  }

  /** Clears the timer and listeners; records the request's duration. */
  finish(): void {
    clearTimeout(this.timer);
    this.exchange.response.off('close', this.onClose);
    this.server.inFlight.delete(this.controller);
    this.server.metrics.inFlight = this.server.inFlight.size;
    this.server.metrics.requestDuration.observe((performance.now() - this.receivedMs) / 1000);
  }
}

/** OpenAI's usage: prompt tokens once per prompt (not per choice), completion tokens over all choices. */
export function usageOf(promptLengths: readonly number[], completionTokens: number): Usage {
  const promptTokens = promptLengths.reduce((sum, length) => sum + length, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}
