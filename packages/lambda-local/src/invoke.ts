import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRandom, delay, type Logger, type RandomSource } from '@switchyard/core';
import type { AliasRegistry } from './aliases.js';
import { isJsonOrEmpty, sendJson } from './api-http.js';
import { lambdaApiErrors } from './errors.js';
import type { FunctionInstance, InvocationContext, InvocationOutcome } from './function-instance.js';
import type { FunctionRecord, FunctionVersion } from './function-record.js';
import type { FunctionRegistry } from './function-registry.js';
import type { InstancePool } from './instance-pool.js';
import { invocationAnswer, invocationLog } from './invocation-report.js';
import type { ResolvedLocalRuntimeOptions } from './options.js';
import { readBody } from './read-body.js';
import { emulatedDurationMs } from './vcpu.js';

/** `X-Amz-Log-Result` carries the last 4 KB of the log. */
const logTailBytes = 4096;

/** The Invoke call's `X-Amz-Client-Context` (base64 JSON), decoded for the Runtime API. */
function clientContextOf(request: IncomingMessage): string | undefined {
  const header = request.headers['x-amz-client-context'];
  const value = Array.isArray(header) ? header[0] : header;
  return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

/** The event a function gets: the payload, or `{}` for an Invoke without one (as Lambda passes it). */
function eventOf(body: Buffer): Uint8Array {
  return body.length === 0 ? Buffer.from('{}') : body;
}

/** What one Invoke runs: the version (for an alias, the one its routing drew) and the ARN it was called by. */
interface InvocationTarget {
  version: FunctionVersion;
  invokedFunctionArn: string;
}

/**
 * `POST /2015-03-31/functions/{name}/invocations`: checks the request as Lambda does (function,
 * qualifier, state, payload size and JSON, concurrency), runs the event on an instance of the version
 * it names (`$LATEST` by default; an alias runs the version its routing draws) — RequestResponse, or in
 * the background for Event; DryRun only checks — emulates the vCPU share, and answers with the
 * payload, `X-Amz-Executed-Version`, `X-Amz-Function-Error` and the log tail ending in the REPORT line.
 */
export class Invoker {
  /** The seeded draw of `faults` (one per invocation that reaches an instance). */
  private readonly faultDraw: RandomSource;

  constructor(
    private readonly options: ResolvedLocalRuntimeOptions,
    private readonly registry: FunctionRegistry,
    private readonly aliases: AliasRegistry,
    private readonly pool: InstancePool,
    private readonly logger: Logger,
  ) {
    this.faultDraw = createRandom(options.faults.seed);
  }

  /** Which fault, if any, `faults` injects into the next invocation. */
  private drawFault(): 'kill' | 'fail' | undefined {
    const { killRate, failRate } = this.options.faults;
    if (killRate === 0 && failRate === 0) return undefined;
    const draw = this.faultDraw();
    if (draw < killRate) return 'kill';
    return draw < killRate + failRate ? 'fail' : undefined;
  }

  /**
   * The version an Invoke runs: `$LATEST` as of its last successful update (an update in progress
   * does not run yet), a published version, or what an alias routes to. A function or version still
   * Pending answers ResourceConflictException.
   */
  private target(record: FunctionRecord, qualifier: string | undefined): InvocationTarget {
    const invokedFunctionArn = this.registry.arn(record.name, qualifier);
    if (record.state === 'Pending') throw lambdaApiErrors.pending();
    if (qualifier === undefined || qualifier === '$LATEST') {
      return { version: record.latest, invokedFunctionArn };
    }
    const alias = record.aliases.get(qualifier);
    const version = record.versions.get(alias ? this.aliases.pick(alias) : qualifier);
    if (!version) throw lambdaApiErrors.functionNotFound(invokedFunctionArn);
    if (version.state === 'Pending') throw lambdaApiErrors.pending();
    return { version, invokedFunctionArn };
  }

  async invoke(
    request: IncomingMessage,
    response: ServerResponse,
    target: { name: string; qualifier: string | undefined },
  ): Promise<void> {
    const { name } = target;
    const qualifier =
      new URL(request.url ?? '/', 'http://localhost').searchParams.get('Qualifier') ?? target.qualifier;
    const { maxPayloadBytes } = this.options;
    const { body, tooLarge } = await readBody(request, maxPayloadBytes);
    const record = this.registry.get(name);
    const { version, invokedFunctionArn } = this.target(record, qualifier || undefined);
    if (tooLarge) {
      throw lambdaApiErrors.tooLarge(
        `Request must be smaller than ${maxPayloadBytes} bytes for the InvokeFunction operation`,
      );
    }
    if (!isJsonOrEmpty(body)) throw lambdaApiErrors.invalidJson();
    const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType === 'DryRun') return sendJson(response, 204, undefined);
    this.pool.admit(record);
    const requestId = randomUUID();
    let outcome: InvocationOutcome;
    let initDurationMs: number | undefined;
    let instance: FunctionInstance;
    try {
      // Asynchronous invoke: accepted now, run in the background (errors only reach the log).
      if (invocationType === 'Event') sendJson(response, 202, undefined);
      const acquired = await this.pool.acquire(version);
      instance = acquired.instance;
      initDurationMs = acquired.initDurationMs;
      const context: InvocationContext = { clientContext: clientContextOf(request), invokedFunctionArn };
      if (acquired.initError) outcome = acquired.initError;
      else {
        const fault = this.drawFault();
        const running = instance.invoke(
          requestId,
          eventOf(body),
          version.configuration.Timeout * 1000,
          context,
        );
        // A real crash: the process dies while it holds the event (the outcome is the exit error).
        // Killed at once, not a turn later: a fast handler could otherwise answer first.
        if (fault === 'kill') instance.kill();
        outcome = await running;
        if (fault) this.logger.debug('injected fault', { function: name, requestId, fault });
        if (fault === 'fail' && outcome.kind === 'result') outcome = injectedFailure(requestId, outcome);
      }
    } finally {
      this.pool.release(record);
    }
    this.pool.retireIfStale(record, version, instance);
    const memorySizeMB = version.configuration.MemorySize;
    let durationMs = outcome.durationMs;
    if (this.options.cpuEmulation === 'scale' && outcome.kind === 'result') {
      const scaled = emulatedDurationMs(outcome.durationMs, memorySizeMB);
      // Make the caller wait as long as a slice of one vCPU would have taken.
      if (scaled > durationMs) await delay(scaled - durationMs);
      durationMs = scaled;
    }
    const { payload, errorType } = invocationAnswer(outcome, maxPayloadBytes);
    const log = invocationLog({
      requestId,
      outcome,
      durationMs,
      initDurationMs,
      memorySizeMB,
      errorType,
      version: version.version,
      runtime: version.configuration.Runtime,
    });
    if (errorType) this.logger.debug('function error', { function: name, requestId, errorType });
    if (invocationType === 'Event') return;
    const headers: Record<string, string> = {
      'X-Amz-Executed-Version': version.version,
      'x-amzn-RequestId': requestId,
    };
    if (errorType) headers['X-Amz-Function-Error'] = 'Unhandled';
    if (String(request.headers['x-amz-log-type'] ?? '') === 'Tail') {
      headers['X-Amz-Log-Result'] = log.subarray(Math.max(0, log.length - logTailBytes)).toString('base64');
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': payload.byteLength,
      ...headers,
    });
    response.end(payload);
  }
}

/** A finished invocation's answer replaced by an injected function error (`faults.failRate`). */
function injectedFailure(
  requestId: string,
  outcome: Extract<InvocationOutcome, { kind: 'result' }>,
): InvocationOutcome {
  return {
    kind: 'error',
    errorType: 'Switchyard.InjectedFault',
    errorMessage: `RequestId: ${requestId} Error: injected fault (the local runtime's faults.failRate)`,
    durationMs: outcome.durationMs,
    logs: outcome.logs,
    maxMemoryUsedMB: outcome.maxMemoryUsedMB,
    fatal: false,
  };
}
