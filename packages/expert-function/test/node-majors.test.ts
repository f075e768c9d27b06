import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  type Runtime,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { decodeExpertMessage, encodeExpertMessage, parseReportLine } from '@switchyard/core';
import {
  type LocalRuntime,
  localCodeBucket,
  type NodeRuntime,
  startLocalRuntime,
} from '@switchyard/lambda-local';
import { buildExpertGraph, createExpertRunner, loadCheckpoint } from '@switchyard/model';
import { build, type Options } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../src/envelope.js';
import { expertManifestFile } from '../src/manifest.js';
import bundleConfigs from '../tsup.config.js';

/**
 * The code that runs inside an expert function, on the Node.js majors it is deployed with: the
 * handler bundle as the package builds it (tsup, this package's own config), staged like a function
 * package (graphs, manifest, onnxruntime-node in node_modules), invoked through the embedded Lambda
 * runtime on the `node` binaries of the npm `node` package — Node.js 22 for `nodejs22.x`, 24 for
 * `nodejs24.x` — and checked bit for bit against the in-process runner of `@switchyard/model`.
 */

const run = promisify(execFile);
const checkpointDir = fileURLToPath(
  new URL('../../../fixtures/checkpoints/shakespeare-mixtral-8x2', import.meta.url),
);
const H = 128;
const runtimes: Array<[NodeRuntime, number]> = [
  ['nodejs22.x', 22],
  ['nodejs24.x', 24],
];

/** The `node` binary of npm's `node` package at `major` (npx keeps it in its cache after the first run). */
async function nodeBinary(major: number): Promise<string> {
  const { stdout } = await run('npx', ['--yes', `node@${major}`, '-p', 'process.execPath'], {
    timeout: 300_000,
  });
  return stdout.trim().split('\n').at(-1) as string;
}

/** The handler bundle, built with the package's own tsup entry for it into `outDir`. */
async function buildHandlerBundle(outDir: string): Promise<string> {
  const configs = (Array.isArray(bundleConfigs) ? bundleConfigs : [bundleConfigs]) as Options[];
  const lambdaConfig = configs.find(
    (config) => typeof config.entry === 'object' && 'lambda/expert-function' in (config.entry as object),
  );
  if (!lambdaConfig) throw new Error("tsup.config.ts has no 'lambda/expert-function' entry");
  // The config's paths are relative to the package: made absolute, as the test does not run there.
  const packageDir = fileURLToPath(new URL('..', import.meta.url));
  const entry = Object.fromEntries(
    Object.entries(lambdaConfig.entry as Record<string, string>).map(([name, path]) => [
      name,
      join(packageDir, path),
    ]),
  );
  await build({ ...lambdaConfig, entry, outDir, silent: true, config: false });
  return join(outDir, 'lambda', 'expert-function.mjs');
}

describe('the expert function on Node.js 22 and 24 (npm `node` binaries) through the embedded runtime', () => {
  let runtime: LocalRuntime;
  let lambda: LambdaClient;
  let dir: string;
  let expected: Float32Array;
  const activations = Float32Array.from({ length: 9 * H }, (_, i) => Math.sin(i * 0.37) * 0.9);
  const request = (): Uint8Array =>
    encodeExpertMessage({
      kind: 'request',
      dtype: 'f32',
      layer: 0,
      sequence: 4,
      hiddenSize: H,
      expertIds: [0, 1],
      tokenCounts: [4, 5],
      activations,
    });

  beforeAll(async () => {
    const [node22, node24] = await Promise.all([nodeBinary(22), nodeBinary(24)]);
    dir = mkdtempSync(join(tmpdir(), 'switchyard-node-majors-'));
    const functionDir = join(dir, 'function');
    mkdirSync(join(functionDir, 'graphs'), { recursive: true });
    const bundle = await buildHandlerBundle(join(dir, 'build'));
    writeFileSync(join(functionDir, 'expert-function.mjs'), readFileSync(bundle));
    // The harness around the deployed handler: says which Node.js ran it, in the invocation's log.
    writeFileSync(
      join(functionDir, 'probe.mjs'),
      "import { handler as expert } from './expert-function.mjs';\nexport const handler = async (event, context) => {\n  const answer = await expert(event, context);\n  console.log('node', process.version);\n  return answer;\n};\n",
    );
    const onnxruntime = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    mkdirSync(join(functionDir, 'node_modules'));
    symlinkSync(onnxruntime, join(functionDir, 'node_modules', 'onnxruntime-node'), 'dir');

    const checkpoint = await loadCheckpoint(checkpointDir);
    for (const expert of [0, 1]) {
      writeFileSync(
        join(functionDir, 'graphs', `e${expert}.onnx`),
        buildExpertGraph({ checkpoint }, 0, expert),
      );
    }
    writeFileSync(
      join(functionDir, expertManifestFile),
      JSON.stringify({
        kind: 'switchyard.expert-manifest',
        version: 1,
        hiddenSize: H,
        threads: 1,
        experts: [0, 1].map((expert) => ({ layer: 0, expert, file: `graphs/e${expert}.onnx` })),
      }),
    );
    expected = new Float32Array(9 * H);
    for (const [expert, start, count] of [
      [0, 0, 4],
      [1, 4, 5],
    ] as const) {
      const runner = await createExpertRunner(buildExpertGraph({ checkpoint }, 0, expert), { threads: 1 });
      expected.set(await runner.run(activations.slice(start * H, (start + count) * H), count), start * H);
      await runner.close();
    }

    runtime = await startLocalRuntime({
      s3: false,
      cpuEmulation: 'off',
      nodeExecutables: { 'nodejs22.x': node22, 'nodejs24.x': node24 },
    });
    lambda = new LambdaClient({
      endpoint: runtime.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    for (const [name] of runtimes) {
      const functionName = `expert-${name.replace('.', '-')}`;
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: functionName,
          Runtime: name as Runtime,
          Role: 'arn:aws:iam::000000000000:role/local',
          Handler: 'probe.handler',
          MemorySize: 1024,
          Timeout: 60,
          Code: { S3Bucket: localCodeBucket, S3Key: functionDir },
        }),
      );
      await waitUntilFunctionActiveV2(
        { client: lambda, minDelay: 0.05, maxDelay: 0.2, maxWaitTime: 30 },
        { FunctionName: functionName },
      );
    }
  }, 600_000);

  afterAll(async () => {
    lambda?.destroy();
    await runtime?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(runtimes)(
    '%s runs the built handler on Node.js %i and answers bit for bit',
    async (name, major) => {
      const output = await lambda.send(
        new InvokeCommand({
          FunctionName: `expert-${name.replace('.', '-')}`,
          Payload: encodeEnvelope(request()),
          LogType: 'Tail',
        }),
      );
      const log = Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
      expect(output.FunctionError, new TextDecoder().decode(output.Payload)).toBeUndefined();
      expect(log).toMatch(new RegExp(`node v${major}\\.`));
      expect(log).toContain(`INIT_START Runtime Version: nodejs:${major}.`);
      expect(parseReportLine(log)?.initDurationMs).toBeGreaterThan(0);
      const response = decodeExpertMessage(decodeEnvelope(output.Payload ?? new Uint8Array(), name));
      expect(response).toMatchObject({ kind: 'response', layer: 0, sequence: 4, expertIds: [0, 1] });
      expect(response.activations).toEqual(expected);
    },
  );
});
