import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MoeStep } from '@switchyard/core';
import {
  type DeploymentPlan,
  describeError,
  type Logger,
  noopLogger,
  parseWithSchema,
  readRoutingTrace,
  SwitchyardError,
} from '@switchyard/core';
import { loadModel, type MoeModel } from '@switchyard/model';
import { fitPredictor, type Predictor } from '@switchyard/predictor';
import { z } from 'zod';
import { adaptationOptionsSchema, PlanAdapter } from './adaptation.js';
import { createBatchScheduler } from './batch-scheduler.js';
import type { Engine } from './engine.js';
import { type RunningServer, startServer } from './http-server.js';
import { createModelBackend } from './model-backend.js';
import { OnlinePredictor } from './online-predictor.js';
import type { ServerOptionsInput } from './options.js';
import { connectRemoteExperts, type RemoteExperts } from './remote-experts.js';

export const serveOptionsSchema = z.object({
  /** Hugging Face checkpoint directory (config.json + *.safetensors). */
  modelDir: z.string().min(1),
  /**
   * Where routed experts run. `in-process` runs them inside the server's onnxruntime sessions;
   * `local` deploys the plan to the embedded Lambda runtime (or `endpoint`) and scatter-gathers to it;
   * `aws` invokes the plan's already-deployed Lambda functions in `region`.
   */
  target: z.enum(['in-process', 'local', 'aws']).default('in-process'),
  /** Lambda API endpoint for `local` (a running `switchyard lambda serve`); default: start one in process. */
  endpoint: z.string().url().optional(),
  /** Deployment plan JSON for `local`/`aws`; default: one function per expert. */
  planPath: z.string().min(1).optional(),
  /** AWS region for `aws`. */
  region: z.string().min(1).optional(),
  /** Re-planning when the active plan's predicted cost drifts (`local` only); false disables it. */
  adaptation: z
    .union([adaptationOptionsSchema, z.literal(false)])
    .default(() => adaptationOptionsSchema.parse({})),
  batching: z.enum(['continuous', 'sequential']).default('continuous'),
  maxBatchSize: z.number().int().positive().max(1024).default(32),
  /** onnxruntime intra-op threads per session. */
  threads: z.number().int().positive().max(256).default(1),
  /** Seeds sampling for requests without a `seed`. */
  seed: z.number().int().nonnegative().optional(),
  /** Routing traces to fit the expert-popularity predictor on; it then learns online from served routing. */
  predictorTraces: z.array(z.string().min(1)).default([]),
});

export type ServeOptions = z.output<typeof serveOptionsSchema>;
export type ServeOptionsInput = z.input<typeof serveOptionsSchema>;

export interface ServingStack {
  server: RunningServer;
  engine: Engine;
  /** Present when a predictor was given or fitted: it learns from served routing. */
  onlinePredictor: OnlinePredictor | undefined;
  /** Present with `target` local/aws: the deployed functions and their billing. */
  remote: RemoteExperts | undefined;
  /** Present with `target: local` unless adaptation is off: re-plans and rolls out (`check({ force })`). */
  adapter: PlanAdapter | undefined;
  /** Graceful: drains the server, then closes the engine and model. */
  close(): Promise<void>;
}

async function maxPositions(modelDir: string): Promise<number> {
  try {
    const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as {
      max_position_embeddings?: unknown;
    };
    return typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : 2048;
  } catch (error) {
    throw new SwitchyardError({
      code: 'MODEL_LOAD_FAILED',
      message: `cannot read config.json: ${describeError(error)}`,
      location: modelDir,
      cause: error,
    });
  }
}

/** Loads the model, starts the continuous-batching engine and the HTTP server. */
export async function serve(
  optionsInput: ServeOptionsInput,
  serverOptions: ServerOptionsInput = {},
  { logger = noopLogger, predictor }: { logger?: Logger; predictor?: Predictor } = {},
): Promise<ServingStack> {
  const options = parseWithSchema(serveOptionsSchema, optionsInput, 'serve options', 'INVALID_CONFIG');
  if (!predictor && options.predictorTraces.length > 0) {
    const traces = [];
    for (const path of options.predictorTraces) traces.push(await readRoutingTrace(path));
    predictor = fitPredictor(traces, { logger });
  }
  const model = await loadModel(options.modelDir, { threads: options.threads, logger });
  if (predictor && predictor.state.moeLayers.join() !== model.summary.moeLayers.join()) {
    await model.close();
    throw new SwitchyardError({
      code: 'INVALID_CONFIG',
      message: `the predictor covers MoE layers ${predictor.state.moeLayers.join(', ')} but the model has ${model.summary.moeLayers.join(', ')}`,
      location: 'predictorTraces',
    });
  }
  let remote: RemoteExperts | undefined;
  if (options.target !== 'in-process') {
    try {
      remote = await connectRemoteExperts(model, {
        target: options.target,
        ...(options.planPath ? { planPath: options.planPath } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        logger,
      });
      await probe(model, remote, remote.moeStep);
    } catch (error) {
      await remote?.close();
      await model.close();
      throw error;
    }
  }
  const activePlan = remote?.plan;
  const placement = (plan: DeploymentPlan | undefined) =>
    plan
      ? `${remote!.target === 'aws' ? 'AWS Lambda' : `local Lambda runtime ${remote!.endpoint ?? ''}`.trim()}: ${plan.layers.reduce((n, layer) => n + layer.functions.reduce((m, fn) => m + fn.replicas, 0), 0)} functions (${plan.strategy} plan)`
      : 'in process (onnxruntime)';
  const backend = createModelBackend(model, {
    maxContextTokens: await maxPositions(options.modelDir),
    expertPlacement: placement(activePlan),
    ...(remote ? { moeStep: remote.moeStep } : {}),
  });
  const engine = createBatchScheduler(backend, {
    batching: options.batching,
    maxBatchSize: options.maxBatchSize,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    logger,
  });
  const online = predictor ? new OnlinePredictor(predictor, logger) : undefined;
  if (online) engine.onStep((event) => online.record(event));
  const adapter =
    remote && remote.target === 'local' && options.adaptation !== false
      ? new PlanAdapter(
          {
            summary: model.summary,
            remote,
            backend,
            engine,
            online,
            warm: (moeStep) => probe(model, remote!, moeStep),
            placement,
            logger,
          },
          options.adaptation,
        )
      : undefined;
  let server: RunningServer;
  try {
    server = await startServer(
      {
        engine,
        logger,
        ...(online ? { predictor: () => online.status() } : {}),
        ...(remote
          ? { billing: () => remote!.billing(), deployment: () => adapter?.plan ?? activePlan }
          : {}),
        ...(adapter ? { adaptation: () => adapter.snapshot() } : {}),
      },
      serverOptions,
    );
  } catch (error) {
    await adapter?.close();
    await engine.close();
    await remote?.close();
    throw error;
  }
  return {
    server,
    engine,
    onlinePredictor: online,
    remote,
    adapter,
    async close() {
      await server.close();
      await adapter?.close();
      await engine.close();
      // After draining: no step can still call a function.
      await remote?.close();
    },
  };
}

/**
 * One single-token MoE step through the deployed functions before serving, so a missing deployment,
 * credentials or endpoint fails at startup with the executor's error instead of on the first request.
 */
async function probe(model: MoeModel, remote: RemoteExperts, moeStep: MoeStep): Promise<void> {
  const { hiddenSize, topK, moeLayers } = model.summary;
  const topkIds = Int32Array.from({ length: topK }, (_, k) => k);
  const topkWeights = new Float32Array(topK).fill(1 / topK);
  for (const layer of moeLayers) {
    try {
      await moeStep({
        layer,
        hiddenStates: new Float32Array(hiddenSize),
        numTokens: 1,
        hiddenSize,
        topK,
        topkIds,
        topkWeights,
      });
    } catch (error) {
      throw new SwitchyardError({
        code: 'INVALID_CONFIG',
        message: `the expert functions of layer ${layer} could not be invoked on ${remote.target}${remote.target === 'aws' ? ' (are AWS credentials configured and the plan deployed with `switchyard deploy`?)' : ''}: ${describeError(error)}`,
        cause: error,
      });
    }
  }
}

/** The bundled demo model, found by walking up from this file to the repository's `fixtures/`. */
export function bundledModelDir(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (let i = 0; i < 8; i++) {
    const candidate = resolve(dir, 'fixtures/checkpoints/shakespeare-mixtral-8x2');
    if (existsSync(join(candidate, 'config.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new SwitchyardError({
    code: 'NOT_FOUND',
    message:
      'the bundled model fixtures/checkpoints/shakespeare-mixtral-8x2 was not found; pass a model directory',
  });
}
