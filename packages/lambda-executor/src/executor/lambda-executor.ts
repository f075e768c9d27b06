import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  type BillingReport,
  createRandom,
  delay,
  type Executor,
  type InvokeRequest,
  type InvokeResult,
  type Logger,
  lambdaLimits,
  noopLogger,
  parseReportLine,
  parseWithSchema,
  type RandomSource,
  type SwitchyardErrorCode,
} from '@switchyard/core';
import { decodeEnvelope, encodeEnvelope } from '@switchyard/expert-function/internal';
import { LambdaExecutorError } from '../errors.js';
import {
  type LambdaExecutorOptions,
  lambdaExecutorOptionsSchema,
  type ResolvedLambdaExecutorOptions,
} from '../options.js';
import { invokeErrorRule } from './invoke-errors.js';
import { Semaphore } from './semaphore.js';

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** What one attempt's failure means for the caller and for the retry loop. */
interface InvokeFailure {
  code: SwitchyardErrorCode;
  retryable: boolean;
  /** The SDK's exception name, when the Lambda API answered. */
  awsErrorName?: string;
}

function classify(error: unknown): InvokeFailure {
  const sdk = error as SdkError;
  const status = sdk.$metadata?.httpStatusCode;
  const name = sdk.name ?? '';
  if (status !== undefined) {
    const rule = invokeErrorRule(name, status);
    return { code: rule.code, retryable: rule.retryable, awsErrorName: name };
  }
  // No HTTP status: the connection failed (reset, refused, socket timeout) — worth another try.
  const transient = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|socket hang up|TimeoutError|NetworkingError/i;
  return {
    code: 'EXECUTOR_FAILED',
    retryable: transient.test(`${name} ${sdk.code ?? ''} ${sdk.message ?? ''}`),
  };
}

/**
 * `Executor` over `@aws-sdk/client-lambda`: the only way the orchestrator talks to expert
 * functions, on AWS or on the local runtime (same code, different `endpoint`). It invokes their
 * `live` alias (the version a deployment published) unless told another qualifier.
 *
 * Each invoke sends the binary payload in a base64 JSON envelope with `LogType: 'Tail'`, parses
 * the REPORT line of the log tail into the billing report, and unwraps the response. Per-attempt
 * timeouts, connection errors and the Invoke errors another attempt can fix (`invokeErrorRules`:
 * throttles, a function still Pending or updating, Lambda's internal faults, …) are retried with
 * full-jitter exponential backoff; the others fail at once. A semaphore caps invokes in flight and
 * the keep-alive agent is sized to match.
 */
export class LambdaExecutor implements Executor {
  readonly client: LambdaClient;
  private readonly options: ResolvedLambdaExecutorOptions;
  private readonly logger: Logger;
  private readonly random: RandomSource;
  private readonly semaphore: Semaphore;
  private readonly ownsClient: boolean;
  /** Per function and qualifier: the attempt timeout its configured Timeout gives (`attemptTimeoutMs`). */
  private readonly attemptTimeouts = new Map<string, Promise<number>>();

  constructor(options: LambdaExecutorOptions = {}) {
    const { logger = noopLogger, random, client, ...rest } = options;
    this.options = parseWithSchema(lambdaExecutorOptionsSchema, rest, 'LambdaExecutor options');
    this.logger = logger;
    // Seeded by default, so retries back off the same way run after run.
    this.random = random ?? createRandom(0x5eed);
    this.semaphore = new Semaphore(this.options.maxConcurrency);
    this.ownsClient = client === undefined;
    if (client) {
      this.client = client;
    } else {
      const sockets = this.options.maxConcurrency;
      // The SDK merges this over its defaults, so an explicit `undefined` would erase one: spread.
      this.client = new LambdaClient({
        region: this.options.region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        // Retries are ours (jittered, aware of timeouts); the SDK makes one attempt.
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({
          httpAgent: new HttpAgent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets }),
          httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets }),
          connectionTimeout: 5_000,
        }),
      });
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const release = await this.semaphore.acquire(request.signal).catch((reason: unknown) => {
      throw this.aborted(request, reason);
    });
    try {
      return await this.invokeWithRetries(request);
    } finally {
      release();
    }
  }

  /**
   * The per-attempt timeout of invokes of `functionName` (at `qualifier`, default the executor's) that
   * do not set one: `timeoutMs` when given, else the function's configured Timeout + Lambda's INIT
   * limit + 5 s, read once (Lambda's longest when the configuration cannot be read).
   */
  attemptTimeoutMs(functionName: string, qualifier = this.options.qualifier): Promise<number> {
    if (this.options.timeoutMs !== undefined) return Promise.resolve(this.options.timeoutMs);
    const key = `${functionName}:${qualifier}`;
    let found = this.attemptTimeouts.get(key);
    if (!found) {
      const allowanceS = lambdaLimits.initTimeoutS + 5;
      found = this.client
        .send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: qualifier }))
        .then(
          (configuration) => ((configuration.Timeout ?? lambdaLimits.maxTimeoutS) + allowanceS) * 1000,
          (error: unknown) => {
            this.logger.debug("cannot read the function's timeout; attempts wait Lambda's longest", {
              function: functionName,
              error: String(error),
            });
            return (lambdaLimits.maxTimeoutS + allowanceS) * 1000;
          },
        );
      this.attemptTimeouts.set(key, found);
    }
    return found;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private aborted(request: InvokeRequest, cause: unknown): LambdaExecutorError {
    return new LambdaExecutorError({
      code: 'ABORTED',
      message: 'invoke aborted by the caller',
      location: request.functionName,
      cause,
    });
  }

  private async invokeWithRetries(request: InvokeRequest): Promise<InvokeResult> {
    const payload = encodeEnvelope(request.payload);
    const qualifier = request.qualifier ?? this.options.qualifier;
    const timeoutMs = request.timeoutMs ?? (await this.attemptTimeoutMs(request.functionName, qualifier));
    let lastError: LambdaExecutorError | undefined;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (request.signal?.aborted) throw this.aborted(request, request.signal.reason);
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const forward = (): void => controller.abort(request.signal?.reason);
      request.signal?.addEventListener('abort', forward, { once: true });
      const started = performance.now();
      let output: InvokeCommandOutput;
      try {
        output = await this.client.send(
          new InvokeCommand({
            FunctionName: request.functionName,
            Payload: payload,
            LogType: 'Tail',
            InvocationType: 'RequestResponse',
            Qualifier: qualifier,
          }),
          { abortSignal: controller.signal },
        );
      } catch (error) {
        if (request.signal?.aborted) throw this.aborted(request, error);
        const kind: InvokeFailure = timedOut ? { code: 'TIMEOUT', retryable: true } : classify(error);
        lastError = new LambdaExecutorError({
          code: kind.code,
          message: timedOut
            ? `invoke timed out after ${timeoutMs} ms (attempt ${attempt})`
            : `invoke failed: ${(error as SdkError).name ?? 'Error'}: ${(error as SdkError).message ?? String(error)}`,
          location: request.functionName,
          retryable: kind.retryable,
          cause: error,
          awsErrorName: kind.awsErrorName || undefined,
        });
        if (!kind.retryable || attempt === this.options.maxAttempts) throw lastError;
        const backoffMs =
          this.random() *
          Math.min(this.options.maxBackoffMs, this.options.baseBackoffMs * 2 ** (attempt - 1));
        this.logger.debug('retrying invoke', {
          function: request.functionName,
          attempt,
          code: kind.code,
          backoffMs,
        });
        try {
          await delay(backoffMs, request.signal);
        } catch (reason) {
          throw this.aborted(request, reason);
        }
        continue;
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', forward);
      }
      return this.toResult(request, output, performance.now() - started);
    }
    throw (
      lastError ??
      new LambdaExecutorError({
        code: 'EXECUTOR_FAILED',
        message: 'no attempt made',
        location: request.functionName,
      })
    );
  }

  private toResult(request: InvokeRequest, output: InvokeCommandOutput, latencyMs: number): InvokeResult {
    const logTail = output.LogResult ? Buffer.from(output.LogResult, 'base64').toString('utf8') : undefined;
    const body = output.Payload ?? new Uint8Array();
    if (output.FunctionError) {
      let errorType = 'Unknown';
      let errorMessage = '';
      try {
        const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as {
          errorType?: string;
          errorMessage?: string;
        };
        errorType = parsed.errorType ?? errorType;
        errorMessage = parsed.errorMessage ?? '';
      } catch {
        errorMessage = Buffer.from(body).toString('utf8').slice(0, 500);
      }
      throw new LambdaExecutorError({
        code: 'FUNCTION_ERROR',
        message: `function error ${errorType}: ${errorMessage}`,
        location: request.functionName,
        functionErrorType: errorType,
        logTail,
      });
    }
    let billing: BillingReport | undefined = logTail ? parseReportLine(logTail) : undefined;
    if (!billing) {
      this.logger.warn('no REPORT line in the log tail; billing estimated from latency', {
        function: request.functionName,
      });
      billing = {
        requestId: output.$metadata.requestId ?? 'unknown',
        durationMs: latencyMs,
        billedDurationMs: Math.ceil(latencyMs),
        memorySizeMB: 0,
        maxMemoryUsedMB: 0,
      };
    }
    return { payload: this.unwrap(request, body), billing, logTail, latencyMs };
  }

  /** The function's answer without its envelope; a malformed one is this executor's WIRE_FORMAT_INVALID. */
  private unwrap(request: InvokeRequest, body: Uint8Array): Uint8Array {
    try {
      return decodeEnvelope(body, request.functionName);
    } catch (error) {
      throw new LambdaExecutorError({
        code: 'WIRE_FORMAT_INVALID',
        message:
          'the function answered with something other than a {"encoding":"base64","data":"…"} envelope',
        location: request.functionName,
        cause: error,
      });
    }
  }
}
