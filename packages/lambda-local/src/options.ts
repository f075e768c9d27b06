import { type Logger, lambdaLimits } from '@switchyard/core';
import { z } from 'zod';
import { nodeRuntimes } from './runtimes.js';

const port = z.number().int().min(0).max(65535);

/** Options of `startLocalRuntime`. Limits default to Lambda's (`lambdaLimits` in core). */
export const localRuntimeOptionsSchema = z.object({
  /** Lambda API port; 0 picks a free one. */
  port: port.default(0),
  /** S3 API port; 0 picks a free one. Set `s3: false` to not serve S3. */
  s3Port: port.default(0),
  s3: z.boolean().default(true),
  /**
   * The S3 endpoint function instances are told (`SWITCHYARD_S3_ENDPOINT`) instead of the embedded
   * one's: another S3 (a moto server) that holds graphs a deployment put there with a weights
   * bucket, so functions fetch them at INIT as on AWS. Path style, any credentials.
   */
  functionS3Endpoint: z.string().url().optional(),
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
   * one vCPU; 'cgroup' gives the same threads and lets the kernel hold each instance process to its
   * share (a cgroup v1 CFS quota, `CpuCgroups`; needs root), reporting measured time; 'threads' only
   * sets the thread count; 'off' reports measured time and gives every core.
   */
  cpuEmulation: z.enum(['scale', 'cgroup', 'threads', 'off']).default('scale'),
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
  /**
   * How long a new function (and a newly published version) stays `Pending` and an update stays
   * `InProgress` before it is `Active` / `Successful`. Meanwhile invokes of a Pending function and a
   * second update answer ResourceConflictException, as on Lambda; wait with the SDK's waiters. At 0
   * the answer to the call still says Pending / InProgress and the transition follows at once.
   */
  stateTransitionMs: z.number().int().nonnegative().default(0),
  /**
   * The `node` executable per Lambda runtime (e.g. from the npm `node` package: `npx -y node@22 -p
   * process.execPath`), checked at start. A runtime without one runs on this process's Node.js
   * (logged once when its major differs).
   */
  nodeExecutables: z
    .object(
      Object.fromEntries(nodeRuntimes.map((runtime) => [runtime, z.string().min(1).optional()])) as {
        [R in (typeof nodeRuntimes)[number]]: z.ZodOptional<z.ZodString>;
      },
    )
    .strict()
    .default({}),
  /** Seed of the draw that routes a weighted alias's invocations between its two versions. */
  routingSeed: z.number().int().default(1),
  /**
   * Fault injection for chaos tests, drawn per invocation from a seeded stream: `killRate` of
   * invocations have their instance's process SIGKILLed while it runs the event (the crash Lambda
   * reports as `Runtime.ExitError`; the next invocation cold-starts a new instance); `failRate` run to
   * the end and then answer a function error (`Switchyard.InjectedFault`) instead of their result.
   * Both are billed and logged with their REPORT line as any failed invocation. Off by default.
   */
  faults: z
    .strictObject({
      seed: z.number().int().default(1),
      killRate: z.number().min(0).max(1).default(0),
      failRate: z.number().min(0).max(1).default(0),
    })
    .refine((faults) => faults.killRate + faults.failRate <= 1, {
      message: 'killRate + failRate must be at most 1',
    })
    .prefault({}),
});

/** What `startLocalRuntime` takes: the schema's input, plus a logger (never part of the schema). */
export type LocalRuntimeOptions = z.input<typeof localRuntimeOptionsSchema> & { logger?: Logger };
/** The options after defaults. */
export type ResolvedLocalRuntimeOptions = z.output<typeof localRuntimeOptionsSchema>;
