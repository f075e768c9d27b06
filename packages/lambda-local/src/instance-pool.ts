import { availableParallelism } from 'node:os';
import type { Logger } from '@switchyard/core';
import type { CpuCgroups } from './cpu-cgroup.js';
import { lambdaApiErrors } from './errors.js';
import { FunctionInstance, type InvocationOutcome } from './function-instance.js';
import { type FunctionRecord, type FunctionVersion, versionsOf } from './function-record.js';
import type { FunctionRegistry } from './function-registry.js';
import type { FunctionRunner, InitializationType } from './instance-environment.js';
import type { NodeExecutable } from './node-executables.js';
import type { ResolvedLocalRuntimeOptions } from './options.js';
import type { Provisioner } from './provisioned-concurrency.js';
import { type NodeRuntime, nodeMajorOf } from './runtimes.js';
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
 * The execution environments of every function version, and the concurrency they are admitted under:
 * an invoke takes an idle provisioned instance of the version it runs, else an idle on-demand one,
 * else starts one (a cold start); idle on-demand instances are reclaimed after `idleTimeoutMs`.
 * Reserved concurrency caps a function's invokes in flight; the others share what the account has
 * left (`accountConcurrency − Σ reserved`). Over either limit an invoke gets 429 at once, as on
 * Lambda, rather than queueing.
 */
export class InstancePool implements Provisioner {
  private unreservedInFlight = 0;
  private readonly reaper: NodeJS.Timeout;
  private s3Endpoint: string | undefined;
  private cpuCgroups: CpuCgroups | undefined;
  private readonly warnedRuntimes = new Set<NodeRuntime>();
  /**
   * Every instance this pool started that may still be running, whatever its version became. A
   * version's set forgets an instance once the version is retired or its function deleted, and a
   * busy one (mid-INIT or mid-invoke) is only stopped when it finishes; `stop` must reach those too,
   * or a provisioned instance still in INIT when its function is deleted outlives the runtime.
   */
  private readonly started = new Set<FunctionInstance>();

  constructor(
    private readonly options: ResolvedLocalRuntimeOptions,
    private readonly registry: FunctionRegistry,
    private readonly runner: InstanceRunner,
    private readonly nodeExecutables: Record<NodeRuntime, NodeExecutable>,
    private readonly logger: Logger,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), Math.min(1000, options.idleTimeoutMs));
    this.reaper.unref();
  }

  /** `cpuEmulation: 'cgroup'`: the groups new instances are held to their vCPU share in. */
  limitCpuWith(cgroups: CpuCgroups): void {
    this.cpuCgroups = cgroups;
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

  /** An idle instance of `version` (provisioned ones first), or a new one once its INIT is over. */
  async acquire(version: FunctionVersion): Promise<AcquiredInstance> {
    const idle = [...version.instances].filter(
      (instance) => !instance.busy && instance.alive && instance.ready,
    );
    const warm = idle.find((instance) => instance.provisioned) ?? idle[0];
    if (warm) {
      warm.busy = true;
      return { instance: warm };
    }
    const instance = this.newInstance(version, 'on-demand');
    instance.busy = true;
    version.instances.add(instance);
    const init = await instance.start();
    if (init.kind === 'ready') return { instance, initDurationMs: init.initDurationMs };
    version.instances.delete(instance);
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

  /**
   * After an invoke: an instance that died, or belongs to a retired version or a deleted function,
   * goes; a provisioned one that died is replaced.
   */
  retireIfStale(record: FunctionRecord, version: FunctionVersion, instance: FunctionInstance): void {
    if (!instance.alive || version.retired || !this.registry.has(record)) {
      version.instances.delete(instance);
      void instance.stop();
      if (instance.provisioned && !version.retired) this.provision(version, version.provisionedTarget);
    }
  }

  /** A version that will not run again: idle instances stop now, busy ones when they finish. */
  retire(version: FunctionVersion): void {
    version.provisionedTarget = 0;
    for (const instance of version.instances) {
      if (!instance.busy) {
        version.instances.delete(instance);
        void instance.stop();
      }
    }
  }

  provision(version: FunctionVersion, target: number, onFailure?: (message: string) => void): void {
    version.provisionedTarget = target;
    const provisioned = [...version.instances].filter((instance) => instance.provisioned && instance.alive);
    // Surplus provisioned instances become on-demand ones (reclaimed once idle long enough).
    for (const instance of provisioned.slice(target)) instance.provisioned = false;
    for (let i = provisioned.length; i < target; i++) {
      const instance = this.newInstance(version, 'provisioned-concurrency');
      instance.provisioned = true;
      instance.busy = true;
      version.instances.add(instance);
      void instance.start().then((init) => {
        instance.busy = false;
        if (init.kind === 'ready') {
          if (version.retired) this.retire(version);
          return;
        }
        version.instances.delete(instance);
        onFailure?.(`${init.errorType}: ${init.errorMessage}`);
        this.logger.warn('a provisioned instance failed INIT', {
          function: version.functionName,
          version: version.version,
          errorType: init.errorType,
        });
      });
    }
  }

  readyProvisioned(version: FunctionVersion): number {
    let ready = 0;
    for (const instance of version.instances) {
      if (instance.provisioned && instance.alive && instance.ready) ready += 1;
    }
    return ready;
  }

  /** Stops every instance of a function. */
  async stopInstances(record: FunctionRecord): Promise<void> {
    const instances = versionsOf(record).flatMap((version) => [...version.instances]);
    await Promise.all(instances.map((instance) => instance.stop()));
  }

  /** Stops the reaper and every instance it started, of current, retired and deleted versions alike. */
  async stop(): Promise<void> {
    clearInterval(this.reaper);
    const instances = new Set(this.started);
    for (const record of this.registry.records())
      for (const version of versionsOf(record))
        for (const instance of version.instances) instances.add(instance);
    this.started.clear();
    await Promise.all([...instances].map((instance) => instance.stop()));
  }

  private newInstance(version: FunctionVersion, initializationType: InitializationType): FunctionInstance {
    // Forget the ones that are gone, so the set holds only what may still run.
    for (const instance of this.started) if (!instance.alive) this.started.delete(instance);
    const instance = this.createInstance(version, initializationType);
    this.started.add(instance);
    return instance;
  }

  private createInstance(version: FunctionVersion, initializationType: InitializationType): FunctionInstance {
    const { configuration } = version;
    return new FunctionInstance(
      {
        functionName: version.functionName,
        functionVersion: version.version,
        runtime: configuration.Runtime,
        nodeExecutable: this.nodeExecutable(configuration.Runtime).path,
        nodeMajor: this.nodeExecutable(configuration.Runtime).major,
        optDir: version.optDir,
        initializationType,
        memoryMB: configuration.MemorySize,
        handler: configuration.Handler,
        codeDir: version.code.codeDir,
        environment: version.environment,
        threads:
          this.options.cpuEmulation === 'off'
            ? availableParallelism()
            : vcpuThreads(configuration.MemorySize),
        ...(this.cpuCgroups ? { cpuCgroups: this.cpuCgroups } : {}),
        region: this.options.region,
        s3Endpoint: this.s3Endpoint,
        memoryPollMs: this.options.memoryPollMs,
        initTimeoutMs: this.options.initTimeoutMs,
        runner: this.runner.runner,
        ricBin: this.runner.ricBin,
        maxResponseBytes: this.options.maxPayloadBytes,
      },
      version.revision,
    );
  }

  /**
   * The `node` a runtime's instances run on; said once when it is not the runtime's major (such
   * functions do not run on the Node.js Lambda would give them).
   */
  private nodeExecutable(runtime: NodeRuntime): NodeExecutable {
    const executable = this.nodeExecutables[runtime];
    if (executable.major !== nodeMajorOf(runtime) && !this.warnedRuntimes.has(runtime)) {
      this.warnedRuntimes.add(runtime);
      this.logger.warn(
        `functions on ${runtime} run on this process's Node.js ${process.version}; set nodeExecutables['${runtime}'] to run them on Node.js ${nodeMajorOf(runtime)}`,
        { runtime },
      );
    }
    return executable;
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const record of this.registry.records()) {
      for (const version of versionsOf(record)) {
        for (const instance of version.instances) {
          if (instance.busy) continue;
          const expired = !instance.provisioned && now - instance.lastUsedMs >= this.options.idleTimeoutMs;
          if (expired || !instance.alive) {
            version.instances.delete(instance);
            void instance.stop();
            if (instance.provisioned && !version.retired) this.provision(version, version.provisionedTarget);
          }
        }
      }
    }
  }
}
