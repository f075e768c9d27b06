import type { Logger } from '@switchyard/core';
import { z } from 'zod';

/** Options of `startLocalRuntime`. */
export const localRuntimeOptionsSchema = z.object({
  /** Lambda API port; 0 picks a free one. */
  port: z.number().int().min(0).max(65535).default(0),
  /** S3 API port; 0 picks a free one. Set `s3: false` to not serve S3. */
  s3Port: z.number().int().min(0).max(65535).default(0),
  s3: z.boolean().default(true),
  /** Loopback only: the runtime executes arbitrary code and has no authentication. */
  host: z.enum(['127.0.0.1', '::1', 'localhost']).default('127.0.0.1'),
  region: z.string().default('us-east-1'),
  /** Account-wide concurrent executions (AWS default 1,000). Over it, invokes get 429. */
  accountConcurrency: z.number().int().positive().default(1000),
  /** Idle instances are reclaimed after this long (a later invoke cold-starts). */
  idleTimeoutMs: z.number().int().positive().default(60_000),
  /**
   * vCPU emulation: 'scale' gives each function `ceil(memory/1769)` threads (capped at the cores
   * here) and stretches reported duration (and response time) by 1/share below one vCPU; 'threads'
   * only sets the thread count; 'off' reports measured time and lets handlers pick threads.
   */
  cpuEmulation: z.enum(['scale', 'threads', 'off']).default('scale'),
  /** RSS watchdog poll interval. */
  memoryPollMs: z.number().int().positive().default(20),
  /** Lambda's INIT phase limit. */
  initTimeoutMs: z.number().int().positive().default(10_000),
  /** Largest request/response payload for synchronous invokes (Lambda: 6 MB). */
  maxPayloadBytes: z
    .number()
    .int()
    .positive()
    .default(6 * 1024 * 1024),
  /**
   * How function instances run: 'ric' — the official `aws-lambda-ric` against a per-instance Lambda
   * Runtime API (as in a Lambda container image); 'own' — Switchyard's own runner over a socket pair.
   * 'ric' falls back to 'own' (with one warning) where aws-lambda-ric or its native addon is missing.
   */
  runner: z.enum(['ric', 'own']).default('ric'),
  /** Directory for unzipped function code; defaults to a fresh directory under the OS temp dir. */
  workDir: z.string().optional(),
});

export type LocalRuntimeOptions = z.input<typeof localRuntimeOptionsSchema> & { logger?: Logger };
export type ResolvedLocalRuntimeOptions = z.output<typeof localRuntimeOptionsSchema>;

/** Options of `new LambdaExecutor(...)`. */
export const lambdaExecutorOptionsSchema = z.object({
  /** Endpoint of a Lambda-compatible API (the local runtime); omit for AWS. */
  endpoint: z.string().url().optional(),
  region: z.string().default('us-east-1'),
  /** At most this many invokes in flight; further ones wait (also sizes the HTTP agent). */
  maxConcurrency: z.number().int().positive().default(64),
  /** Attempts per invoke, including the first (429, 5xx, timeouts and connection errors retry). */
  maxAttempts: z.number().int().positive().default(4),
  /** Base of the full-jitter exponential backoff. */
  baseBackoffMs: z.number().nonnegative().default(50),
  maxBackoffMs: z.number().nonnegative().default(2000),
  /** Per-attempt timeout unless the request sets one. */
  timeoutMs: z.number().int().positive().default(60_000),
  /** Default qualifier (version or alias) for every invoke. */
  qualifier: z.string().optional(),
  /** Static credentials; the local runtime accepts any. Omit for the SDK's default chain on AWS. */
  credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }).optional(),
});

export type LambdaExecutorOptions = z.input<typeof lambdaExecutorOptionsSchema> & {
  logger?: Logger;
  /** Seeded randomness for the backoff jitter. */
  random?: () => number;
};
