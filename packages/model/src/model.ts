import { basename, resolve } from 'node:path';
import {
  type ExpertQuantization,
  type Logger,
  type ModelSummary,
  type MoeStep,
  noopLogger,
  parseWithSchema,
} from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { type Checkpoint, loadCheckpoint, summarizeCheckpoint } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { checkModelQuantizable, resolveQuantization } from './expert-quantization.js';
import { type ForwardInput, type ForwardOptions, type ForwardResult, forward } from './forward.js';
import { type GenerateResult, generate } from './generate.js';
import { createModelSessions } from './model-sessions.js';
import { createInProcessMoeStep } from './moe-step.js';
import {
  type GenerateOptions,
  type LoadModelOptions,
  loadModelOptionsSchema,
  type ResolvedLoadModelOptions,
} from './options.js';
import { type Sequence, SequenceState, sequenceState } from './sequence-state.js';

export interface MoeModel {
  readonly summary: ModelSummary;
  readonly config: ModelConfig;
  readonly checkpoint: Checkpoint;
  /** The format the routed experts run in (`{ format: 'none' }` = float32); `buildExpertGraph(model, …)` follows it. */
  readonly quantization: ExpertQuantization;
  createSequence(): Sequence;
  /** deepseek_v3: the router's e_score_correction_bias of a MoE layer. */
  correctionBias(layer: number): Float32Array | undefined;
  /** Drops a sequence's KV cache. */
  releaseSequence(sequence: Sequence): void;
  /**
   * One forward pass over a batch of independent sequences (any mix of prefill chunks and decode
   * tokens). All inputs' tokens are packed into one [T, H] batch: ONE MoE step per MoE layer covers
   * them all. Appends the tokens to each sequence's cache.
   */
  forward(inputs: readonly ForwardInput[], options?: ForwardOptions): Promise<ForwardResult>;
  /** Batched generation over several prompts (each its own sequence). */
  generate(prompts: readonly (readonly number[])[], options?: GenerateOptions): Promise<GenerateResult[]>;
  /** The in-process MoE step (each expert runs once over all its tokens). */
  readonly inProcessMoeStep: MoeStep;
  /** Runs one expert graph in process over [n, H] rows. */
  runExpert(
    layer: number,
    expert: number,
    hiddenStates: Float32Array,
    numTokens: number,
  ): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Loads a Hugging Face MoE checkpoint directory and builds its onnxruntime sessions. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<MoeModel> {
  const { logger = noopLogger, ...rest } = options;
  const resolved = parseWithSchema(loadModelOptionsSchema, rest, 'loadModel options');
  const checkpoint = await loadCheckpoint(dir);
  logger.debug('checkpoint headers read', { files: checkpoint.files.length, dtype: checkpoint.dtype });
  const quantization = resolveQuantization(resolved.quantization);
  checkModelQuantizable(checkpoint.config, quantization, resolved.quantizeSharedExperts);
  const summary = summarizeCheckpoint(checkpoint, resolved.name ?? basename(resolve(dir)), quantization);
  return createRuntime(checkpoint, summary, { ...resolved, quantization }, logger);
}

async function createRuntime(
  checkpoint: Checkpoint,
  summary: ModelSummary,
  options: ResolvedLoadModelOptions,
  logger: Logger,
): Promise<MoeModel> {
  const config = checkpoint.config;
  const H = config.hiddenSize;
  const correctionBiases = new Map<number, Float32Array>();
  if (config.routing === 'sigmoid-group-topk') {
    for (const layer of config.moeLayers) {
      const name = config.names.router(layer).replace(/weight$/, 'e_score_correction_bias');
      if (checkpoint.has(name)) correctionBiases.set(layer, checkpoint.float32(name, [config.numExperts]));
    }
  }
  const sessions = await createModelSessions(checkpoint, options, logger);
  const runExpert = async (
    layer: number,
    expert: number,
    hiddenStates: Float32Array,
    numTokens: number,
  ): Promise<Float32Array> => {
    const session = await sessions.expert(layer, expert);
    const result = await session.run({
      hidden_states: new ort.Tensor('float32', hiddenStates, [numTokens, H]),
    });
    return result.expert_output!.data as Float32Array;
  };
  const inProcessMoeStep = createInProcessMoeStep({ run: runExpert });
  const runtime = { config, sessions, correctionBiases, inProcessMoeStep };
  let nextId = 1;
  const model: MoeModel = {
    summary,
    config,
    checkpoint,
    quantization: options.quantization ?? { format: 'none' },
    inProcessMoeStep,
    runExpert,
    createSequence: () =>
      new SequenceState(nextId++, config.numLayers, config.keyDim, config.valueDim, config.cacheHeads),
    correctionBias: (layer) => correctionBiases.get(layer),
    releaseSequence: (sequence) => sequenceState(sequence).release(),
    forward: (inputs, forwardOptions) => forward(runtime, inputs, forwardOptions),
    generate: (prompts, generateOptions) => generate(model, prompts, generateOptions),
    close: () => sessions.close(),
  };
  return model;
}
