import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { formatReportLine, type Logger, noopLogger, parseWithSchema } from '@switchyard/core';
import { apiErrors, LambdaApiError } from '../errors.js';
import {
  type LocalRuntimeOptions,
  localRuntimeOptionsSchema,
  type ResolvedLocalRuntimeOptions,
} from '../options.js';
import { FunctionInstance, type FunctionRunner, type InvocationOutcome } from './function-instance.js';
import { readBody } from './read-body.js';
import { locateRic } from './ric.js';
import { LocalS3Store } from './s3-server.js';
import { emulatedDurationMs, vcpuThreads } from './vcpu.js';
import { readZip } from './zip.js';

/**
 * Local extension of the Lambda API: `Code: { S3Bucket: '__local__', S3Key: '/abs/dir' }` runs the
 * code straight from a local directory (no zip, no copy). Only the local runtime understands it.
 */
export const localCodeBucket = '__local__';

export interface LocalRuntime {
  /** Lambda API endpoint, e.g. `http://127.0.0.1:9001`; give it to `new LambdaClient({ endpoint })`. */
  endpoint: string;
  /** Path-style S3 API endpoint (use `forcePathStyle: true`), unless started with `s3: false`. */
  s3Endpoint?: string;
  /** The S3 store behind `s3Endpoint`, for direct access in process. */
  s3?: LocalS3Store;
  /** What runs function instances: `ric` (aws-lambda-ric over the Runtime API) or `own`. */
  runner: FunctionRunner;
  /** Kills every function process, closes the servers and removes unzipped code. */
  stop(): Promise<void>;
}

interface FunctionRecord {
  configuration: Record<string, unknown> & {
    FunctionName: string;
    MemorySize: number;
    Timeout: number;
    Handler: string;
  };
  environment: Record<string, string>;
  tags: Record<string, string>;
  codeDir: string;
  ownsCodeDir: boolean;
  revision: number;
  reservedConcurrency: number | undefined;
  inFlight: number;
  instances: Set<FunctionInstance>;
}

const functionNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
const maxApiBodyBytes = 80 * 1024 * 1024;
const logTailBytes = 4096;

function lambdaTimestamp(date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

/** `name`, `name:qualifier`, or a (partial) ARN → name and qualifier. */
function parseFunctionName(raw: string): { name: string; qualifier: string | undefined } {
  const decoded = decodeURIComponent(raw);
  const afterArn = decoded.includes(':function:')
    ? decoded.slice(decoded.indexOf(':function:') + 10)
    : decoded;
  const [name = '', qualifier] = afterArn.split(':');
  return { name, qualifier };
}

function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(body);
}

function sendApiError(response: ServerResponse, error: LambdaApiError): void {
  sendJson(
    response,
    error.status,
    { Type: 'User', message: error.message, ...error.extra },
    { 'x-amzn-ErrorType': `${error.errorType}:`, ...error.headers },
  );
}

function validateSettings(body: Record<string, unknown>): void {
  const memory = body.MemorySize;
  if (
    memory !== undefined &&
    (typeof memory !== 'number' || !Number.isInteger(memory) || memory < 128 || memory > 10240)
  ) {
    throw apiErrors.invalid(
      `1 validation error detected: Value '${String(memory)}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`,
    );
  }
  const timeout = body.Timeout;
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 900)
  ) {
    throw apiErrors.invalid(
      `1 validation error detected: Value '${String(timeout)}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900`,
    );
  }
}

/**
 * The embedded Lambda-compatible runtime: the Lambda REST API subset Switchyard uses and a minimal
 * S3 API, on loopback. Every function instance is its own Node.js process. See
 * `architecture/lambda-executor.md` for what is emulated and how.
 */
class LocalLambdaRuntime {
  readonly options: ResolvedLocalRuntimeOptions;
  readonly functions = new Map<string, FunctionRecord>();
  readonly s3 = new LocalS3Store();
  readonly workDir: string;
  private readonly ownsWorkDir: boolean;
  private readonly logger: Logger;
  private accountInFlight = 0;
  private unreservedInFlight = 0;
  private reaper: NodeJS.Timeout | undefined;
  s3Endpoint: string | undefined;
  runner: FunctionRunner = 'own';
  ricBin: string | undefined;
  private stopped = false;

  constructor(options: ResolvedLocalRuntimeOptions, logger: Logger) {
    this.options = options;
    this.logger = logger;
    this.ownsWorkDir = options.workDir === undefined;
    this.workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'switchyard-lambda-'));
    mkdirSync(this.workDir, { recursive: true });
    this.reaper = setInterval(() => this.reapIdle(), Math.min(1000, options.idleTimeoutMs));
    this.reaper.unref();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      if (error instanceof LambdaApiError) {
        sendApiError(response, error);
        return;
      }
      this.logger.error('local runtime request failed', { error: String(error), url: request.url });
      sendApiError(response, new LambdaApiError(500, 'ServiceException', String(error)));
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    if (invoke && method === 'POST') {
      await this.invoke(request, response, invoke[1] as string, url);
      return;
    }
    const { body, tooLarge } = await readBody(request, maxApiBodyBytes);
    if (tooLarge) throw apiErrors.tooLarge('Request must be smaller than 83886080 bytes');
    const json = (): Record<string, unknown> => {
      if (body.length === 0) return {};
      try {
        return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new LambdaApiError(
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json',
        );
      }
    };
    if (path === '/2015-03-31/functions') {
      if (method === 'POST') return sendJson(response, 201, this.createFunction(json()));
      if (method === 'GET') return sendJson(response, 200, this.listFunctions(url));
    }
    if (path === '/2016-08-19/account-settings' && method === 'GET') {
      const reserved = [...this.functions.values()].reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
      return sendJson(response, 200, {
        AccountLimit: {
          ConcurrentExecutions: this.options.accountConcurrency,
          UnreservedConcurrentExecutions: this.options.accountConcurrency - reserved,
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          TotalCodeSize: 80530636800,
        },
        AccountUsage: { FunctionCount: this.functions.size, TotalCodeSize: 0 },
      });
    }
    const functionPath = /^\/2015-03-31\/functions\/([^/]+)(\/configuration|\/code)?$/.exec(path);
    if (functionPath) {
      const { name } = parseFunctionName(functionPath[1] as string);
      const record = this.get(name);
      const suffix = functionPath[2];
      if (!suffix && method === 'GET') return sendJson(response, 200, this.describe(record));
      if (!suffix && method === 'DELETE') {
        await this.deleteFunction(record);
        return sendJson(response, 204, undefined);
      }
      if (suffix === '/configuration' && method === 'GET')
        return sendJson(response, 200, this.configurationOf(record));
      if (suffix === '/configuration' && method === 'PUT') {
        return sendJson(response, 200, this.updateConfiguration(record, json()));
      }
      if (suffix === '/code' && method === 'PUT')
        return sendJson(response, 200, this.updateCode(record, json()));
    }
    const concurrency = /^\/\d{4}-\d{2}-\d{2}\/functions\/([^/]+)\/concurrency$/.exec(path);
    if (concurrency) {
      const record = this.get(parseFunctionName(concurrency[1] as string).name);
      if (method === 'PUT') return sendJson(response, 200, this.putConcurrency(record, json()));
      if (method === 'GET') {
        return sendJson(
          response,
          200,
          record.reservedConcurrency === undefined
            ? {}
            : { ReservedConcurrentExecutions: record.reservedConcurrency },
        );
      }
      if (method === 'DELETE') {
        record.reservedConcurrency = undefined;
        return sendJson(response, 204, undefined);
      }
    }
    throw new LambdaApiError(
      404,
      'UnknownOperationException',
      `The local runtime does not implement ${method} ${path}`,
    );
  }

  private get(name: string): FunctionRecord {
    const record = this.functions.get(name);
    if (!record) {
      throw apiErrors.notFound(`arn:aws:lambda:${this.options.region}:000000000000:function:${name}`);
    }
    return record;
  }

  private arn(name: string): string {
    return `arn:aws:lambda:${this.options.region}:000000000000:function:${name}`;
  }

  /** Unzips `Code.ZipFile`, reads a zip from the local S3, or uses a local directory (extension). */
  private materialiseCode(
    name: string,
    code: Record<string, unknown>,
  ): { codeDir: string; ownsCodeDir: boolean; sha256: string; size: number } {
    if (code.S3Bucket === localCodeBucket) {
      const dir = String(code.S3Key ?? '');
      if (!isAbsolute(dir))
        throw apiErrors.invalid(`Local code location must be an absolute directory, got '${dir}'`);
      try {
        if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      } catch {
        throw apiErrors.invalid(`Local code directory ${dir} does not exist`);
      }
      return {
        codeDir: dir,
        ownsCodeDir: false,
        sha256: createHash('sha256').update(dir).digest('base64'),
        size: 0,
      };
    }
    let zip: Uint8Array | undefined;
    if (typeof code.ZipFile === 'string') zip = Buffer.from(code.ZipFile, 'base64');
    else if (typeof code.S3Bucket === 'string' && typeof code.S3Key === 'string') {
      zip = this.s3.getObject(code.S3Bucket, code.S3Key);
      if (!zip)
        throw apiErrors.invalid(
          `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Key: ${code.S3Key}`,
        );
    }
    if (!zip) throw apiErrors.invalid('Please provide a source for function code (ZipFile, S3Bucket/S3Key).');
    let entries: ReturnType<typeof readZip>;
    try {
      entries = readZip(zip);
    } catch (error) {
      throw apiErrors.invalid(
        `Could not unzip uploaded file. Please check your file, then try to upload again. (${String(error)})`,
      );
    }
    const unzipped = entries.reduce((sum, entry) => sum + entry.data.byteLength, 0);
    if (unzipped > 262_144_000) {
      throw apiErrors.invalid(`Unzipped size must be smaller than 262144000 bytes (got ${unzipped})`);
    }
    const codeDir = mkdtempSync(join(this.workDir, `${name}-`));
    for (const entry of entries) {
      const target = join(codeDir, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.data, { mode: entry.mode ?? 0o644 });
    }
    return {
      codeDir,
      ownsCodeDir: true,
      sha256: createHash('sha256').update(zip).digest('base64'),
      size: zip.byteLength,
    };
  }

  private createFunction(body: Record<string, unknown>): Record<string, unknown> {
    const name = String(body.FunctionName ?? '');
    if (!functionNamePattern.test(name)) {
      throw apiErrors.invalid(
        `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint`,
      );
    }
    if (this.functions.has(name)) throw apiErrors.conflict(`Function already exist: ${name}`);
    if (typeof body.Handler !== 'string' || body.Handler.length === 0) {
      throw apiErrors.invalid('The Handler parameter is required for Zip package type functions');
    }
    validateSettings(body);
    const code = this.materialiseCode(name, (body.Code as Record<string, unknown> | undefined) ?? {});
    const environment = ((body.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables ?? {}) as Record<string, string>;
    const record: FunctionRecord = {
      configuration: {
        FunctionName: name,
        FunctionArn: this.arn(name),
        Runtime: String(body.Runtime ?? 'nodejs20.x'),
        Role: String(body.Role ?? 'arn:aws:iam::000000000000:role/lambda-role'),
        Handler: body.Handler,
        CodeSize: code.size,
        Description: String(body.Description ?? ''),
        Timeout: (body.Timeout as number | undefined) ?? 3,
        MemorySize: (body.MemorySize as number | undefined) ?? 128,
        LastModified: lambdaTimestamp(),
        CodeSha256: code.sha256,
        Version: '$LATEST',
        State: 'Active',
        LastUpdateStatus: 'Successful',
        PackageType: 'Zip',
        Architectures: (body.Architectures as string[] | undefined) ?? ['x86_64'],
        EphemeralStorage: { Size: 512 },
        RevisionId: randomUUID(),
      },
      environment,
      tags: (body.Tags as Record<string, string> | undefined) ?? {},
      codeDir: code.codeDir,
      ownsCodeDir: code.ownsCodeDir,
      revision: 0,
      reservedConcurrency: undefined,
      inFlight: 0,
      instances: new Set(),
    };
    this.functions.set(name, record);
    return this.configurationOf(record);
  }

  private configurationOf(record: FunctionRecord): Record<string, unknown> {
    return {
      ...record.configuration,
      ...(Object.keys(record.environment).length > 0
        ? { Environment: { Variables: record.environment } }
        : {}),
    };
  }

  private describe(record: FunctionRecord): Record<string, unknown> {
    return {
      Configuration: this.configurationOf(record),
      Code: { RepositoryType: 'S3', Location: `file://${record.codeDir}` },
      Tags: record.tags,
      ...(record.reservedConcurrency === undefined
        ? {}
        : { Concurrency: { ReservedConcurrentExecutions: record.reservedConcurrency } }),
    };
  }

  private listFunctions(url: URL): Record<string, unknown> {
    const names = [...this.functions.keys()].sort();
    const marker = url.searchParams.get('Marker');
    const maxItems = Math.min(Number(url.searchParams.get('MaxItems') ?? 50) || 50, 10000);
    const start = marker ? names.findIndex((name) => name > marker) : 0;
    const page = start < 0 ? [] : names.slice(start, start + maxItems);
    const last = page.at(-1);
    return {
      Functions: page.map((name) => this.configurationOf(this.functions.get(name) as FunctionRecord)),
      ...(last && start + maxItems < names.length ? { NextMarker: last } : {}),
    };
  }

  /** A new revision: idle instances of older ones are retired now, busy ones when they finish. */
  private bumpRevision(record: FunctionRecord): void {
    record.revision += 1;
    record.configuration.LastModified = lambdaTimestamp();
    record.configuration.RevisionId = randomUUID();
    for (const instance of record.instances) {
      if (!instance.busy) {
        record.instances.delete(instance);
        void instance.stop();
      }
    }
  }

  private updateConfiguration(
    record: FunctionRecord,
    body: Record<string, unknown>,
  ): Record<string, unknown> {
    validateSettings(body);
    for (const key of ['MemorySize', 'Timeout', 'Handler', 'Description', 'Role', 'Runtime'] as const) {
      if (body[key] !== undefined) (record.configuration as Record<string, unknown>)[key] = body[key];
    }
    const variables = (body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables;
    if (variables) record.environment = variables;
    this.bumpRevision(record);
    return this.configurationOf(record);
  }

  private updateCode(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    const code = this.materialiseCode(record.configuration.FunctionName, body);
    if (record.ownsCodeDir) rmSync(record.codeDir, { recursive: true, force: true });
    record.codeDir = code.codeDir;
    record.ownsCodeDir = code.ownsCodeDir;
    record.configuration.CodeSha256 = code.sha256;
    record.configuration.CodeSize = code.size;
    this.bumpRevision(record);
    return this.configurationOf(record);
  }

  private putConcurrency(record: FunctionRecord, body: Record<string, unknown>): Record<string, unknown> {
    const value = body.ReservedConcurrentExecutions;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw apiErrors.invalid('ReservedConcurrentExecutions must be a non-negative integer');
    }
    const others = [...this.functions.values()]
      .filter((f) => f !== record)
      .reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
    if (others + value > this.options.accountConcurrency) {
      throw apiErrors.invalid(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0].`,
      );
    }
    record.reservedConcurrency = value;
    return { ReservedConcurrentExecutions: value };
  }

  private async deleteFunction(record: FunctionRecord): Promise<void> {
    this.functions.delete(record.configuration.FunctionName);
    await Promise.all([...record.instances].map((instance) => instance.stop()));
    record.instances.clear();
    if (record.ownsCodeDir) rmSync(record.codeDir, { recursive: true, force: true });
  }

  private reservedTotal(): number {
    let total = 0;
    for (const record of this.functions.values()) total += record.reservedConcurrency ?? 0;
    return total;
  }

  private async acquire(
    record: FunctionRecord,
  ): Promise<{ instance: FunctionInstance; initDurationMs?: number; initError?: InvocationOutcome }> {
    for (const instance of record.instances) {
      if (!instance.busy && instance.alive && instance.revision === record.revision) {
        instance.busy = true;
        return { instance };
      }
    }
    const { configuration } = record;
    const instance = new FunctionInstance(
      {
        functionName: configuration.FunctionName,
        memoryMB: configuration.MemorySize,
        handler: configuration.Handler,
        codeDir: record.codeDir,
        environment: record.environment,
        threads:
          this.options.cpuEmulation === 'off'
            ? availableParallelism()
            : vcpuThreads(configuration.MemorySize),
        region: this.options.region,
        ...(this.s3Endpoint ? { s3Endpoint: this.s3Endpoint } : {}),
        memoryPollMs: this.options.memoryPollMs,
        initTimeoutMs: this.options.initTimeoutMs,
        runner: this.runner,
        ...(this.ricBin ? { ricBin: this.ricBin } : {}),
        maxResponseBytes: this.options.maxPayloadBytes,
      },
      record.revision,
    );
    instance.busy = true;
    record.instances.add(instance);
    const init = await instance.start();
    if (init.kind === 'error') {
      record.instances.delete(instance);
      return {
        instance,
        initDurationMs: init.initDurationMs,
        initError: {
          kind: 'error',
          errorType: init.errorType,
          errorMessage: init.errorMessage,
          ...(init.trace ? { trace: init.trace } : {}),
          durationMs: 0,
          logs: init.logs,
          maxMemoryUsedMB: instance.maxMemoryUsedMB,
          fatal: true,
        },
      };
    }
    return { instance, initDurationMs: init.initDurationMs };
  }

  private async invoke(
    request: IncomingMessage,
    response: ServerResponse,
    rawName: string,
    url: URL,
  ): Promise<void> {
    const { name, qualifier: arnQualifier } = parseFunctionName(rawName);
    const qualifier = url.searchParams.get('Qualifier') ?? arnQualifier;
    const { body, tooLarge } = await readBody(request, this.options.maxPayloadBytes);
    const record = this.get(name);
    if (qualifier !== undefined && qualifier !== '$LATEST') {
      throw new LambdaApiError(
        404,
        'ResourceNotFoundException',
        `Function not found: ${this.arn(name)}:${qualifier}`,
      );
    }
    if (tooLarge) {
      throw apiErrors.tooLarge(
        `Request must be smaller than ${this.options.maxPayloadBytes} bytes for the InvokeFunction operation`,
      );
    }
    if (body.length > 0) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch {
        throw new LambdaApiError(
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json',
        );
      }
    }
    const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType === 'DryRun') return sendJson(response, 204, undefined);
    this.admit(record);
    const requestId = randomUUID();
    let outcome: InvocationOutcome;
    let initDurationMs: number | undefined;
    let instance: FunctionInstance | undefined;
    try {
      if (invocationType === 'Event') {
        // Asynchronous invoke: accepted now, run in the background (errors only reach the log).
        sendJson(response, 202, undefined);
      }
      const acquired = await this.acquire(record);
      instance = acquired.instance;
      initDurationMs = acquired.initDurationMs;
      if (acquired.initError) outcome = acquired.initError;
      else {
        const timeoutMs = record.configuration.Timeout * 1000;
        outcome = await instance.invoke(requestId, body, timeoutMs, clientContextOf(request));
      }
    } finally {
      record.inFlight -= 1;
      this.accountInFlight -= 1;
      if (record.reservedConcurrency === undefined) this.unreservedInFlight -= 1;
    }
    if (!instance.alive || instance.revision !== record.revision || !this.functions.has(name)) {
      record.instances.delete(instance);
      void instance.stop();
    }
    const memoryMB = record.configuration.MemorySize;
    let durationMs = outcome.durationMs;
    if (this.options.cpuEmulation === 'scale' && outcome.kind === 'result') {
      const scaled = emulatedDurationMs(outcome.durationMs, memoryMB);
      // Make the caller wait as long as a slice of one vCPU would have taken.
      if (scaled > durationMs) await new Promise((resolve) => setTimeout(resolve, scaled - durationMs));
      durationMs = scaled;
    }
    let payload: Uint8Array;
    let functionError: string | undefined;
    let errorType: string | undefined;
    if (outcome.kind === 'result' && outcome.payload.byteLength > this.options.maxPayloadBytes) {
      errorType = 'Function.ResponseSizeTooLarge';
      functionError = 'Unhandled';
      payload = Buffer.from(
        JSON.stringify({
          errorType,
          errorMessage: `Response payload size exceeded maximum allowed payload size (${this.options.maxPayloadBytes} bytes).`,
        }),
      );
    } else if (outcome.kind === 'result') {
      payload = outcome.payload;
    } else {
      errorType = outcome.errorType;
      functionError = 'Unhandled';
      payload = Buffer.from(
        JSON.stringify({
          errorType: outcome.errorType,
          errorMessage: outcome.errorMessage,
          ...(outcome.trace ? { trace: outcome.trace } : {}),
        }),
      );
    }
    // Since 1 Aug 2025 Lambda bills the INIT phase too; billed = ceil(duration + init) to 1 ms.
    const billedDurationMs = Math.max(1, Math.ceil(durationMs + (initDurationMs ?? 0)));
    const report = formatReportLine({
      requestId,
      durationMs,
      billedDurationMs,
      memorySizeMB: memoryMB,
      maxMemoryUsedMB: outcome.maxMemoryUsedMB,
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
    });
    const lines: string[] = [];
    if (initDurationMs !== undefined) lines.push('INIT_START Runtime Version: nodejs:20.switchyard-local\n');
    lines.push(`START RequestId: ${requestId} Version: $LATEST\n`);
    lines.push(outcome.logs);
    if (outcome.kind === 'error' && outcome.fatal) {
      lines.push(`${new Date().toISOString()} ${requestId} ${outcome.errorMessage}\n`);
    }
    lines.push(`END RequestId: ${requestId}\n`);
    lines.push(`${report}${errorType ? `Status: error\tError Type: ${errorType}` : ''}\n`);
    const log = Buffer.from(lines.join(''), 'utf8');
    if (errorType) this.logger.debug('function error', { function: name, requestId, errorType });
    if (invocationType === 'Event') return;
    const headers: Record<string, string> = {
      'X-Amz-Executed-Version': '$LATEST',
      'x-amzn-RequestId': requestId,
    };
    if (functionError) headers['X-Amz-Function-Error'] = functionError;
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

  /** Counts the invoke against reserved or unreserved concurrency, or throws 429. */
  private admit(record: FunctionRecord): void {
    if (record.reservedConcurrency !== undefined) {
      if (record.inFlight >= record.reservedConcurrency) {
        throw apiErrors.throttled('ReservedFunctionConcurrentInvocationLimitExceeded', 'Rate Exceeded.');
      }
    } else if (this.unreservedInFlight >= this.options.accountConcurrency - this.reservedTotal()) {
      throw apiErrors.throttled('ConcurrentInvocationLimitExceeded', 'Rate Exceeded.');
    }
    record.inFlight += 1;
    this.accountInFlight += 1;
    if (record.reservedConcurrency === undefined) this.unreservedInFlight += 1;
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const record of this.functions.values()) {
      for (const instance of record.instances) {
        if (!instance.busy && (now - instance.lastUsedMs >= this.options.idleTimeoutMs || !instance.alive)) {
          record.instances.delete(instance);
          void instance.stop();
        }
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.reaper) clearInterval(this.reaper);
    const instances = [...this.functions.values()].flatMap((record) => [...record.instances]);
    await Promise.all(instances.map((instance) => instance.stop()));
    for (const record of this.functions.values()) {
      if (record.ownsCodeDir) rmSync(record.codeDir, { recursive: true, force: true });
    }
    this.functions.clear();
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** The Invoke call's `X-Amz-Client-Context` (base64 JSON), decoded for the Runtime API. */
function clientContextOf(request: IncomingMessage): { clientContext?: string } {
  const header = request.headers['x-amz-client-context'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return {};
  return { clientContext: Buffer.from(value, 'base64').toString('utf8') };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts the embedded Lambda-compatible runtime (and its S3 API) on loopback.
 *
 * ```ts
 * const runtime = await startLocalRuntime();
 * const lambda = new LambdaClient({ endpoint: runtime.endpoint, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * // … CreateFunction, Invoke …
 * await runtime.stop();
 * ```
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const { logger = noopLogger, ...rest } = options;
  const resolved = parseWithSchema(localRuntimeOptionsSchema, rest, 'startLocalRuntime options');
  const runtime = new LocalLambdaRuntime(resolved, logger);
  if (resolved.runner === 'ric') {
    const ric = locateRic();
    if (ric.available) {
      runtime.runner = 'ric';
      runtime.ricBin = ric.bin;
    } else {
      logger.warn(`${ric.reason}: function instances run under Switchyard's own runner instead`, {
        runner: 'own',
      });
    }
  }
  const hostForUrl = resolved.host === '::1' ? '[::1]' : resolved.host;
  const lambdaServer = createServer((request, response) => void runtime.handle(request, response));
  lambdaServer.keepAliveTimeout = 65_000;
  lambdaServer.requestTimeout = 0;
  const servers: Server[] = [lambdaServer];
  let port: number;
  try {
    port = await listen(lambdaServer, resolved.port, resolved.host);
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  let s3Endpoint: string | undefined;
  if (resolved.s3) {
    const s3Server = createServer((request, response) => {
      void readBody(request, 1024 * 1024 * 1024)
        .then(({ body }) => runtime.s3.handle(request, response, body))
        .catch((error: unknown) => {
          logger.error('local S3 request failed', { error: String(error) });
          if (!response.headersSent) response.writeHead(500);
          response.end();
        });
    });
    servers.push(s3Server);
    const s3Port = await listen(s3Server, resolved.s3Port, resolved.host);
    s3Endpoint = `http://${hostForUrl}:${s3Port}`;
    runtime.s3Endpoint = s3Endpoint;
  }
  const endpoint = `http://${hostForUrl}:${port}`;
  logger.debug('local lambda runtime started', { endpoint, s3Endpoint, runner: runtime.runner });
  return {
    endpoint,
    runner: runtime.runner,
    ...(s3Endpoint ? { s3Endpoint, s3: runtime.s3 } : {}),
    async stop() {
      await Promise.all(servers.map(close));
      await runtime.stop();
    },
  };
}
