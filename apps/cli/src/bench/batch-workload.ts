import { createRandom, quantile } from '@switchyard/core';
import type { Traffic } from '@switchyard/cost-model';

/** One request of the benchmark's job: its sizes after scaling and its arrival in the replay. */
export interface WorkloadRequest {
  customId: string;
  /** Seconds from the window's first arrival, as the trace recorded it (before any speed-up). */
  arrivalS: number;
  /** The trace's own sizes. */
  tracePromptTokens: number;
  traceOutputTokens: number;
  /** Sizes on the model: scaled, at least 1, prompt + output within the model's context. */
  promptTokens: number;
  outputTokens: number;
  /** A prompt of exactly `promptTokens` byte-level tokens. */
  prompt: string;
}

export interface BatchWorkload {
  /** Where the sizes came from (the trace's name and window). */
  source: string;
  /** Model tokens per trace token: the model's context ÷ the trace's 99th percentile of prompt + output. */
  scale: number;
  requests: WorkloadRequest[];
}

export interface BatchWorkloadOptions {
  /** How many consecutive arrivals of the trace make the job. */
  requests: number;
  /** Picks where the window of consecutive arrivals starts. */
  seed: number;
  /** The model's context (prompt + output), e.g. 512 for the bundled model. */
  maxContextTokens: number;
  /** Plain ASCII text the prompts are cut from (one byte = one token for a byte-level tokenizer). */
  text: string;
}

/**
 * A benchmark job from a recorded trace: a window of consecutive arrivals (so the replay keeps the
 * trace's bursts) with the trace's prompt and output lengths scaled by one factor onto the model's
 * context. The factor maps the trace's 99th percentile of prompt + output to the context, so the size
 * distribution keeps its shape (medians and tails in the same ratio); the 1 % of requests above it are
 * cut to fit (output kept, prompt shortened). Prompts are slices of `text` at seeded offsets.
 */
export function batchWorkload(traffic: Traffic, options: BatchWorkloadOptions): BatchWorkload {
  const { requests: count, seed, maxContextTokens, text } = options;
  const total = traffic.arrivalS.length;
  if (!Number.isInteger(count) || count < 1 || count > total)
    throw new RangeError(`requests must be an integer from 1 to the trace's ${total}, got ${count}`);
  if (!Number.isInteger(maxContextTokens) || maxContextTokens < 2)
    throw new RangeError(`maxContextTokens must be an integer of at least 2, got ${maxContextTokens}`);
  if (!/^[\x20-\x7e\n]*$/.test(text) || text.length < maxContextTokens)
    throw new RangeError(
      `the prompt text must be printable ASCII of at least ${maxContextTokens} characters`,
    );
  const sizes = Array.from(traffic.promptTokens, (prompt, i) => prompt + traffic.outputTokens[i]!);
  const scale = maxContextTokens / quantile(sizes, 0.99);
  const random = createRandom(seed);
  const start = Math.floor(random() * (total - count + 1));
  const requests: WorkloadRequest[] = [];
  for (let i = start; i < start + count; i++) {
    const outputTokens = Math.min(
      maxContextTokens - 1,
      Math.max(1, Math.round(traffic.outputTokens[i]! * scale)),
    );
    const promptTokens = Math.min(
      maxContextTokens - outputTokens,
      Math.max(1, Math.round(traffic.promptTokens[i]! * scale)),
    );
    const offset = Math.floor(random() * (text.length - promptTokens));
    requests.push({
      customId: `r${i - start}`,
      arrivalS: traffic.arrivalS[i]! - traffic.arrivalS[start]!,
      tracePromptTokens: traffic.promptTokens[i]!,
      traceOutputTokens: traffic.outputTokens[i]!,
      promptTokens,
      outputTokens,
      prompt: text.slice(offset, offset + promptTokens),
    });
  }
  return { source: `${traffic.name}, arrivals ${start + 1}–${start + count} of ${total}`, scale, requests };
}

/** The job as an OpenAI batch file: greedy completions with the scaled output lengths. */
export function batchFileOf(workload: BatchWorkload): string {
  return workload.requests
    .map((request) =>
      JSON.stringify({
        custom_id: request.customId,
        method: 'POST',
        url: '/v1/completions',
        body: completionBody(request),
      }),
    )
    .join('\n')
    .concat('\n');
}

/** The completion request body a workload request stands for (greedy, exactly its output length). */
export function completionBody(request: WorkloadRequest): Record<string, unknown> {
  return { prompt: request.prompt, max_tokens: request.outputTokens, temperature: 0 };
}
