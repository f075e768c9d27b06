import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRandom, noopLogger, parseWithSchema } from '@switchyard/core';
import { AliasRegistry } from './aliases.js';
import { ApiRouter } from './api-router.js';
import { CodeStore } from './code-store.js';
import { CpuCgroups } from './cpu-cgroup.js';
import type { FunctionRecord } from './function-record.js';
import { FunctionRegistry, type RegistryEvents } from './function-registry.js';
import type { FunctionRunner } from './instance-environment.js';
import { InstancePool, type InstanceRunner } from './instance-pool.js';
import { Invoker } from './invoke.js';
import { LayerStore } from './layer-store.js';
import { resolveNodeExecutables } from './node-executables.js';
import { type LocalRuntimeOptions, localRuntimeOptionsSchema } from './options.js';
import { ProvisionedConcurrency } from './provisioned-concurrency.js';
import { readBody } from './read-body.js';
import { locateRic } from './ric.js';
import { LocalS3Store } from './s3-server.js';

/** A running local runtime. */
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

/** Largest object the S3 API takes in one request. */
const maxS3BodyBytes = 1024 * 1024 * 1024;

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
 * Starts the embedded Lambda-compatible runtime (and its S3 API) on loopback: the Lambda REST API
 * subset Switchyard uses, every function instance its own Node.js process. What is emulated and how:
 * architecture/lambda-local.md.
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
  const runner: InstanceRunner = { runner: 'own' };
  if (resolved.runner === 'ric') {
    const ric = locateRic();
    if (ric.available) {
      runner.runner = 'ric';
      runner.ricBin = ric.bin;
    } else {
      logger.warn(`${ric.reason}: function instances run under Switchyard's own runner instead`, {
        runner: 'own',
      });
    }
  }
  const nodeExecutables = await resolveNodeExecutables(resolved.nodeExecutables);
  // First of what needs undoing: it fails, naming why, where the kernel cannot limit instances.
  const cpuCgroups = resolved.cpuEmulation === 'cgroup' ? CpuCgroups.open() : undefined;
  const s3 = new LocalS3Store();
  const codeStore = new CodeStore(resolved.workDir, s3);
  const layers = new LayerStore(resolved.region, codeStore);
  // The registry and aliases report to the pool and to provisioned concurrency, made just after them.
  const events: RegistryEvents = {
    retired: (version) => pool.retire(version),
    changed: (record: FunctionRecord) => provisioned.reconcile(record),
  };
  const registry = new FunctionRegistry(resolved, codeStore, layers, events);
  const aliases = new AliasRegistry(registry, createRandom(resolved.routingSeed), events);
  const pool = new InstancePool(resolved, registry, runner, nodeExecutables, logger);
  if (cpuCgroups) pool.limitCpuWith(cpuCgroups);
  const provisioned = new ProvisionedConcurrency(registry, pool, resolved.accountConcurrency);
  const invoker = new Invoker(resolved, registry, aliases, pool, logger);
  const router = new ApiRouter({ registry, aliases, layers, provisioned, invoker }, logger);
  let stopped = false;
  const stopRuntime = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await pool.stop();
    const groupsLeft = (await cpuCgroups?.close()) ?? [];
    if (groupsLeft.length > 0)
      logger.warn(`could not remove the cgroups ${groupsLeft.join(', ')}: processes are still in them`, {
        groups: groupsLeft,
      });
    registry.clear();
    codeStore.close();
  };

  const hostForUrl = resolved.host === '::1' ? '[::1]' : resolved.host;
  const lambdaServer = createServer((request, response) => void router.handle(request, response));
  lambdaServer.keepAliveTimeout = 65_000;
  lambdaServer.requestTimeout = 0;
  const servers: Server[] = [lambdaServer];
  let port: number;
  try {
    port = await listen(lambdaServer, resolved.port, resolved.host);
  } catch (error) {
    await stopRuntime();
    throw error;
  }
  let s3Endpoint: string | undefined;
  if (resolved.s3) {
    const s3Server = createServer((request, response) => {
      void readBody(request, maxS3BodyBytes)
        .then(({ body }) => s3.handle(request, response, body))
        .catch((error: unknown) => {
          logger.error('local S3 request failed', { error: String(error) });
          if (!response.headersSent) response.writeHead(500);
          response.end();
        });
    });
    servers.push(s3Server);
    const s3Port = await listen(s3Server, resolved.s3Port, resolved.host);
    s3Endpoint = `http://${hostForUrl}:${s3Port}`;
    pool.useS3Endpoint(s3Endpoint);
  }
  if (resolved.functionS3Endpoint) pool.useS3Endpoint(resolved.functionS3Endpoint);
  const endpoint = `http://${hostForUrl}:${port}`;
  logger.debug('local lambda runtime started', { endpoint, s3Endpoint, runner: runner.runner });
  return {
    endpoint,
    runner: runner.runner,
    s3Endpoint,
    s3: s3Endpoint ? s3 : undefined,
    async stop() {
      await Promise.all(servers.map(close));
      await stopRuntime();
    },
  };
}
