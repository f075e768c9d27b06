import { availableParallelism } from 'node:os';
import { lambdaApiErrors } from './errors.js';
import { FunctionInstance, type InvocationOutcome } from './function-instance.js';
import type { FunctionRecord, FunctionRegistry } from './function-registry.js';
import type { FunctionRunner } from './instance-environment.js';
import type { ResolvedLocalRuntimeOptions } from './options.js';
import { vcpuThreads } from './vcpu.js';

/** An instance for one invoke: warm, or just started (with its INIT outcome). */
export interface AcquiredInstance {
  instance: FunctionInstance;
  /** Set on a cold start. */
  initDurationMs?: number;
  /** Set when INIT failed: the invoke's outcome. */
  initError?: InvocationOutcome;
}

/** How instances are started: the runner and what it needs. */
export interface InstanceRunner {
  runner: FunctionRunner;
  /** For `runner: 'ric'`: the `aws-lambda-ric` executable. */
  ricBin?: string;
}

/**
 * The execution environments of every function, and the concurrency they are admitted under: an
 * invoke takes an idle instance of the function's current revision or starts one (a cold start);
 * idle instances are reclaimed after `idleTimeoutMs`. Reserved concurrency caps a function's invokes
 * in flight; the others share what the account has left (`accountConcurrency − Σ reserved`). Over
 * either limit an invoke gets 429 at once, as on Lambda, rather than queueing.
 */
export class InstancePool {
  private unreservedInFlight = 0;
  private readonly reaper: NodeJS.Timeout;
  private s3Endpoint: string | undefined;

  constructor(
    private readonly options: ResolvedLocalRuntimeOptions,
    private readonly registry: FunctionRegistry,
    private readonly runner: InstanceRunner,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), Math.min(1000, options.idleTimeoutMs));
    this.reaper.unref();
  }

  /** The embedded S3 endpoint new instances are told about (`SWITCHYARD_S3_ENDPOINT`). */
  useS3Endpoint(endpoint: string): void {
    this.s3Endpoint = endpoint;
  }

  /** Counts an invoke against reserved or unreserved concurrency, or throws the API's 429. */
  admit(record: FunctionRecord): void {
    if (record.reservedConcurrency !== undefined) {
      if (record.inFlight >= record.reservedConcurrency) {
        throw lambdaApiErrors.throttled(
          'ReservedFunctionConcurrentInvocationLimitExceeded',
          'Rate Exceeded.',
        );
      }
    } else if (this.unreservedInFlight >= this.options.accountConcurrency - this.registry.reservedTotal()) {
      throw lambdaApiErrors.throttled('ConcurrentInvocationLimitExceeded', 'Rate Exceeded.');
    }
    record.inFlight += 1;
    if (record.reservedConcurrency === undefined) this.unreservedInFlight += 1;
  }

  /** Ends what `admit` counted. */
  release(record: FunctionRecord): void {
    record.inFlight -= 1;
    if (record.reservedConcurrency === undefined) this.unreservedInFlight -= 1;
  }

  /** An idle instance of the current revision, or a new one once its INIT is over. */
  async acquire(record: FunctionRecord): Promise<AcquiredInstance> {
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
        codeDir: record.code.codeDir,
        environment: record.environment,
        threads:
          this.options.cpuEmulation === 'off'
            ? availableParallelism()
            : vcpuThreads(configuration.MemorySize),
        region: this.options.region,
        s3Endpoint: this.s3Endpoint,
        memoryPollMs: this.options.memoryPollMs,
        initTimeoutMs: this.options.initTimeoutMs,
        runner: this.runner.runner,
        ricBin: this.runner.ricBin,
        maxResponseBytes: this.options.maxPayloadBytes,
      },
      record.revision,
    );
    instance.busy = true;
    record.instances.add(instance);
    const init = await instance.start();
    if (init.kind === 'ready') return { instance, initDurationMs: init.initDurationMs };
    record.instances.delete(instance);
    return {
      instance,
      initDurationMs: init.initDurationMs,
      initError: {
        kind: 'error',
        errorType: init.errorType,
        errorMessage: init.errorMessage,
        trace: init.trace,
        durationMs: 0,
        logs: init.logs,
        maxMemoryUsedMB: instance.maxMemoryUsedMB,
        fatal: true,
      },
    };
  }

  /** After an invoke: an instance that died, or belongs to an old revision or a deleted function, goes. */
  retireIfStale(record: FunctionRecord, instance: FunctionInstance): void {
    const current = this.registry.has(record.configuration.FunctionName);
    if (!instance.alive || instance.revision !== record.revision || !current) {
      record.instances.delete(instance);
      void instance.stop();
    }
  }

  /** A new revision: idle instances of older ones are retired now, busy ones when they finish. */
  retireIdle(record: FunctionRecord): void {
    for (const instance of record.instances) {
      if (!instance.busy) {
        record.instances.delete(instance);
        void instance.stop();
      }
    }
  }

  /** Stops every instance of a function. */
  async stopInstances(record: FunctionRecord): Promise<void> {
    await Promise.all([...record.instances].map((instance) => instance.stop()));
    record.instances.clear();
  }

  /** Stops the reaper and every instance. */
  async stop(): Promise<void> {
    clearInterval(this.reaper);
    const instances = [...this.registry.records()].flatMap((record) => [...record.instances]);
    await Promise.all(instances.map((instance) => instance.stop()));
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const record of this.registry.records()) {
      for (const instance of record.instances) {
        if (!instance.busy && (now - instance.lastUsedMs >= this.options.idleTimeoutMs || !instance.alive)) {
          record.instances.delete(instance);
          void instance.stop();
        }
      }
    }
  }
}
