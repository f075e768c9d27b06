import { z } from 'zod';

/** Everything `startServer` accepts; the apps build it from SWITCHYARD_* variables and flags (`serving-settings.ts`). */
export const serverOptionsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 = any free port (tests). */
  port: z.number().int().min(0).max(65_535).default(8080),
  /** Bearer tokens accepted; required when `host` is not a loopback address. */
  apiKeys: z.array(z.string().min(8, 'API keys must be at least 8 characters')).default([]),
  /** The id `/v1/models` lists and responses carry (vLLM's `--served-model-name`); defaults to the model's name. */
  modelName: z.string().min(1).optional(),
  /**
   * A chat server: `/v1/completions` renders each text prompt as one user message with the model's chat
   * template (and the assistant turn's header), so clients that only speak completions talk to a chat
   * model as they would in a chat. Token-id prompts are passed through. Needs a chat template.
   */
  chat: z.boolean().default(false),
  maxBodyBytes: z.number().int().positive().default(1_048_576),
  /** Upper bound on prompt length in tokens (also bounded by the model's context). */
  maxPromptTokens: z.number().int().positive().default(2048),
  /** Upper bound on `max_tokens`. */
  maxTokens: z.number().int().positive().default(512),
  /** `max_tokens` when the request does not say (OpenAI's default). */
  defaultMaxTokens: z.number().int().positive().default(16),
  /** Token bucket per API key (or per client address without keys); 0 disables. */
  rateLimitPerMinute: z.number().nonnegative().default(600),
  rateLimitBurst: z.number().int().positive().default(60),
  /** A completion that takes longer is cancelled (504, or an error event when streaming). */
  requestTimeoutMs: z.number().int().positive().default(120_000),
  /** Graceful shutdown waits this long for in-flight requests, then cancels them. */
  shutdownGraceMs: z.number().int().nonnegative().default(10_000),
  /** Serve `/metrics` without a bearer token (for scrapers on a trusted network). */
  publicMetrics: z.boolean().default(false),
  /** Dashboard history: one sample per interval, this many kept. */
  historyIntervalMs: z.number().int().positive().default(1000),
  historyLength: z.number().int().positive().default(600),
  /**
   * Where the Batch API keeps its SQLite database, uploaded files and batch outputs. Without it the
   * `/v1/files` and `/v1/batches` endpoints are not served.
   */
  dataDir: z.string().min(1).optional(),
  /**
   * Batch lines in flight at once over all batches. The scheduler runs them in its batch class: they
   * fill only the sequence slots and step tokens interactive requests leave.
   */
  batchConcurrency: z.number().int().positive().default(32),
  /** Largest file `POST /v1/files` accepts. */
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .default(200 * 1024 * 1024),
});

export type ServerOptions = z.input<typeof serverOptionsSchema>;
export type ResolvedServerOptions = z.output<typeof serverOptionsSchema>;

const loopbackHosts = new Set(['localhost', '::1', '[::1]', '::ffff:127.0.0.1']);

/** Whether binding to `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}
