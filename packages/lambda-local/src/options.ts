import { type Logger, lambdaLimits } from '@switchyard/core';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

/** Options of `startLocalRuntime`. Limits default to Lambda's (`lambdaLimits` in core). */
export const localRuntimeOptionsSchema = z.object({
  /** Lambda API port; 0 picks a free one. */
  port: port.default(0),
  /** S3 API port; 0 picks a free one. Set `s3: false` to not serve S3. */
  s3Port: port.default(0),
  s3: z.boolean().default(true),
  /** Loopback only: the runtime executes arbitrary code and has no authentication. */
  host: z.enum(['127.0.0.1', '::1', 'localhost']).default('127.0.0.1'),
  region: z.string().default('us-east-1'),
  /** Account-wide concurrent executions (AWS's default quota). Over it, invokes get 429. */
  accountConcurrency: z.number().int().positive().default(lambdaLimits.defaultAccountConcurrency),
  /** Idle instances are reclaimed after this long (a later invoke cold-starts). */
  idleTimeoutMs: z.number().int().positive().default(60_000),
  /**
   * vCPU emulation: 'scale' gives each function one thread per started vCPU of its memory's share
   * (capped at the cores here) and stretches reported duration (and response time) by 1/share below
   * one vCPU; 'threads' only sets the thread count; 'off' reports measured time and gives every core.
   */
  cpuEmulation: z.enum(['scale', 'threads', 'off']).default('scale'),
  /** RSS watchdog poll interval. */
  memoryPollMs: z.number().int().positive().default(20),
  /** Lambda's INIT phase limit. */
  initTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(lambdaLimits.initTimeoutS * 1000),
  /** Largest request/response payload of a synchronous invoke. */
  maxPayloadBytes: z.number().int().positive().default(lambdaLimits.syncPayloadBytes),
  /**
   * How function instances run: 'ric' — the official `aws-lambda-ric` against a per-instance Lambda
   * Runtime API (as in a Lambda container image); 'own' — Switchyard's own runner over a socket pair.
   * 'ric' falls back to 'own' (with one warning) where aws-lambda-ric or its native addon is missing.
   */
  runner: z.enum(['ric', 'own']).default('ric'),
  /** Directory for unzipped function code; defaults to a fresh directory under the OS temp dir. */
  workDir: z.string().optional(),
});

/** What `startLocalRuntime` takes: the schema's input, plus a logger (never part of the schema). */
export type LocalRuntimeOptions = z.input<typeof localRuntimeOptionsSchema> & { logger?: Logger };
/** The options after defaults. */
export type ResolvedLocalRuntimeOptions = z.output<typeof localRuntimeOptionsSchema>;
