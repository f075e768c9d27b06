import { quantile } from '@switchyard/core';

/**
 * A bounded closed-loop load generator: `concurrency` clients each send one completion, wait for
 * the answer and send the next, until `durationMs` has passed. Loopback only.
 */
export interface LoadOptions {
  url: string;
  apiKey?: string;
  concurrency: number;
  durationMs: number;
  body: (clientIndex: number, requestIndex: number) => Record<string, unknown>;
}

export interface LoadResult {
  concurrency: number;
  durationS: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  completionTokens: number;
  requestsPerS: number;
  tokensPerS: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const host = new URL(options.url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(`the load test only targets loopback, not ${host}`);
  }
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let completionTokens = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async (clientIndex: number): Promise<void> => {
    for (let requestIndex = 0; performance.now() < deadline; requestIndex++) {
      const sent = performance.now();
      try {
        const response = await fetch(`${options.url}/v1/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify(options.body(clientIndex, requestIndex)),
        });
        const json = (await response.json()) as {
          usage?: { completion_tokens: number };
          error?: { message: string };
        };
        if (!response.ok || !json.usage) throw new Error(`${response.status} ${json.error?.message ?? ''}`);
        completionTokens += json.usage.completion_tokens;
        latencies.push(performance.now() - sent);
      } catch (error) {
        errors += 1;
        if (errorSamples.length < 5)
          errorSamples.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => client(index)));
  const durationS = (performance.now() - started) / 1000;
  return {
    concurrency: options.concurrency,
    durationS,
    requests: latencies.length,
    errors,
    errorSamples,
    completionTokens,
    requestsPerS: latencies.length / durationS,
    tokensPerS: completionTokens / durationS,
    latencyP50Ms: quantile(latencies, 0.5),
    latencyP99Ms: quantile(latencies, 0.99),
    latencyMeanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
  };
}
