import type { ExpertQuantization, Logger } from '@switchyard/core';
import type * as ort from 'onnxruntime-node';
import type { Checkpoint } from './checkpoint.js';
import { inferenceError } from './errors.js';
import { expertGraph, gatedSharedExpertGraph } from './expert-graph.js';
import { createSessionFromGraph } from './expert-runner.js';
import type { GraphBuilder } from './graph-builder.js';
import { layerGraph } from './layer-graph.js';
import { embeddingGraph, headGraph } from './token-graphs.js';

/** The onnxruntime sessions of a loaded model: one per graph, experts created on first use. */
export interface ModelSessions {
  embedding: ort.InferenceSession;
  /** One per decoder layer. */
  layers: ort.InferenceSession[];
  /** Gated shared expert per MoE layer (qwen2_moe). */
  shared: Map<number, ort.InferenceSession>;
  head: ort.InferenceSession;
  /** The session of a routed expert, built on first use (or up front with `eagerExperts`). */
  expert(layer: number, expert: number): Promise<ort.InferenceSession>;
  close(): Promise<void>;
}

/**
 * Builds every graph of the checkpoint and loads it into onnxruntime. One graph at a time: its
 * weights are read from the checkpoint, handed to onnxruntime and dropped before the next graph is
 * built, so loading holds at most one graph's float32 copy besides the sessions.
 */
export async function createModelSessions(
  checkpoint: Checkpoint,
  options: {
    threads: number;
    eagerExperts: boolean;
    quantization?: ExpertQuantization;
    quantizeSharedExperts?: boolean;
  },
  logger: Logger,
): Promise<ModelSessions> {
  const config = checkpoint.config;
  const started = performance.now();
  const session = async (graph: () => GraphBuilder, what: string) => {
    const created = await createSessionFromGraph(graph(), options.threads, what, logger);
    logger.debug('graph loaded', { graph: what });
    return created;
  };
  const embedding = await session(() => embeddingGraph(checkpoint), 'embedding graph');
  const layers: ort.InferenceSession[] = [];
  for (let layer = 0; layer < config.numLayers; layer++)
    layers.push(await session(() => layerGraph(checkpoint, layer), `layer ${layer} graph`));
  const shared = new Map<number, ort.InferenceSession>();
  if (config.sharedExpertIntermediateSize > 0) {
    for (const layer of config.moeLayers)
      shared.set(
        layer,
        await session(
          () =>
            gatedSharedExpertGraph(
              checkpoint,
              layer,
              options.quantizeSharedExperts ? options.quantization : undefined,
            ),
          `layer ${layer} shared expert graph`,
        ),
      );
  }
  const head = await session(() => headGraph(checkpoint), 'head graph');
  const experts = new Map<string, Promise<ort.InferenceSession>>();
  const expert = (layer: number, index: number): Promise<ort.InferenceSession> => {
    const key = `${layer}:${index}`;
    let created = experts.get(key);
    if (!created) {
      created = Promise.resolve().then(() =>
        session(
          () => expertGraph({ checkpoint }, layer, index, options.quantization),
          `layer ${layer} expert ${index} graph`,
        ),
      );
      experts.set(key, created);
    }
    return created;
  };
  if (options.eagerExperts)
    for (const layer of config.moeLayers) for (let e = 0; e < config.numExperts; e++) await expert(layer, e);
  logger.debug('model loaded', { architecture: config.architecture, ms: performance.now() - started });
  return {
    embedding,
    layers,
    shared,
    head,
    expert,
    async close() {
      await embedding.release();
      for (const layerSession of layers) await layerSession.release();
      for (const sharedSession of shared.values()) await sharedSession.release();
      await head.release();
      for (const expertSession of experts.values()) await (await expertSession).release();
    },
  };
}

/** Runs a session, turning an onnxruntime failure into INFERENCE_FAILED naming `what` ran. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  what: string,
): Promise<ort.InferenceSession.ReturnType> {
  try {
    return await session.run(feeds);
  } catch (error) {
    throw inferenceError(`onnxruntime failed: ${(error as Error).message}`, what, error);
  }
}
