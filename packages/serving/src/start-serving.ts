import {
  type DeploymentPlan,
  describeError,
  type Logger,
  type MoeStep,
  noopLogger,
  parseWithSchema,
  readRoutingTrace,
} from '@switchyard/core';
import { loadModel, type MoeModel } from '@switchyard/model';
import { fitPredictor, type Predictor } from '@switchyard/predictor';
import { loadTokenizer, readGenerationConfig, type Tokenizer } from '@switchyard/tokenizer';
import { PlanAdapter } from './adaptation.js';
import { createBatchScheduler } from './batch-scheduler.js';
import type { Engine } from './engine.js';
import { ServingError } from './errors.js';
import { createModelBackend } from './model-backend.js';
import { OnlinePredictor } from './online-predictor.js';
import { type ServingOptions, servingOptionsSchema } from './options.js';
import { connectRemoteExperts, type RemoteExperts } from './remote-experts.js';
import type { StatusProviders } from './status.js';

export interface ServingDependencies {
  logger?: Logger;
  /** A fitted predictor to learn online (instead of fitting one on `predictorTraces`). */
  predictor?: Predictor;
  /** The tokenizer to serve with (default: the checkpoint's own, `loadTokenizer(modelDir)`). */
  tokenizer?: Tokenizer;
}

export interface ServingStack {
  engine: Engine;
  /** Present when a predictor was given or fitted: it learns from served routing. */
  onlinePredictor: OnlinePredictor | undefined;
  /** Present with `target` local/aws: the deployed functions and their billing. */
  remote: RemoteExperts | undefined;
  /** Present with `target: local` unless adaptation is off: re-plans and rolls out (`check({ force })`). */
  adapter: PlanAdapter | undefined;
  /** Billing, adaptation, predictor quality and the active plan, for whoever reports on the stack. */
  status: StatusProviders;
  /** Closes the engine (cancelling what it still runs), then the functions and the model. */
  close(): Promise<void>;
}

/** Context length when config.json has no `max_position_embeddings`. */
const defaultContextTokens = 2048;

/** How routed experts run, for `/v1/deployment` and the dashboard. */
function placementOf(remote: RemoteExperts | undefined, plan: DeploymentPlan | undefined): string {
  if (!remote || !plan) return 'in process (onnxruntime)';
  const where =
    remote.target === 'aws' ? 'AWS Lambda' : `local Lambda runtime ${remote.endpoint ?? ''}`.trim();
  const functions = plan.layers.reduce(
    (n, layer) => n + layer.functions.reduce((m, fn) => m + fn.replicas, 0),
    0,
  );
  return `${where}: ${functions} functions (${plan.strategy} plan)`;
}

/**
 * The composition root of serving: loads the model (and fits the predictor), connects the expert
 * functions of `target` local/aws, and starts the continuous-batching engine, the online predictor and
 * plan adaptation over them. Serving it over HTTP is `@switchyard/serving/http`'s `serve`.
 */
export async function startServing(
  optionsInput: ServingOptions,
  { logger = noopLogger, predictor, tokenizer }: ServingDependencies = {},
): Promise<ServingStack> {
  const options = parseWithSchema(servingOptionsSchema, optionsInput, 'serving options', 'INVALID_CONFIG');
  if (!predictor && options.predictorTraces.length > 0) {
    const traces = [];
    for (const path of options.predictorTraces) traces.push(await readRoutingTrace(path));
    predictor = fitPredictor(traces, { logger });
  }
  // Tokenizer files and generation_config.json fail fast, before the model's sessions are built.
  tokenizer ??= await loadTokenizer(options.modelDir, { logger });
  const generationConfig = await readGenerationConfig(options.modelDir);
  const model = await loadModel(options.modelDir, {
    threads: options.threads,
    quantization: options.quantization,
    logger,
  });
  if (predictor && predictor.state.moeLayers.join() !== model.summary.moeLayers.join()) {
    await model.close();
    throw new ServingError({
      code: 'INVALID_CONFIG',
      message: `the predictor covers MoE layers ${predictor.state.moeLayers.join(', ')} but the model has ${model.summary.moeLayers.join(', ')}`,
      location: 'predictorTraces',
    });
  }
  let remote: RemoteExperts | undefined;
  try {
    if (options.target !== 'in-process') {
      remote = await connectRemoteExperts(
        model,
        {
          target: options.target,
          planPath: options.planPath,
          endpoint: options.endpoint,
          region: options.region,
        },
        { logger },
      );
      await probe(model, remote, remote.moeStep);
    }
  } catch (error) {
    await remote?.close();
    await model.close();
    throw error;
  }
  const activePlan = remote?.plan;
  const backend = createModelBackend(model, {
    maxContextTokens: model.config.maxPositionEmbeddings ?? defaultContextTokens,
    expertPlacement: placementOf(remote, activePlan),
    moeStep: remote?.moeStep,
  });
  const engine = createBatchScheduler(backend, options, { tokenizer, generationConfig, logger });
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
            placement: (plan) => placementOf(remote, plan),
            logger,
          },
          options.adaptation,
        )
      : undefined;
  const status: StatusProviders = {
    predictor: online ? () => online.status() : undefined,
    billing: remote ? () => remote!.billing() : undefined,
    deployment: remote ? () => adapter?.plan ?? activePlan : undefined,
    adaptation: adapter ? () => adapter.snapshot() : undefined,
  };
  return {
    engine,
    onlinePredictor: online,
    remote,
    adapter,
    status,
    async close() {
      await adapter?.close();
      await engine.close();
      // After the engine: no step can still call a function.
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
      throw new ServingError({
        code: 'INVALID_CONFIG',
        message: `the expert functions of layer ${layer} could not be invoked on ${remote.target}${remote.target === 'aws' ? ' (are AWS credentials configured and the plan deployed?)' : ''}: ${describeError(error)}`,
        cause: error,
      });
    }
  }
}
