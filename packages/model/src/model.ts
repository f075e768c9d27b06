import { basename, resolve } from 'node:path';
import {
  createRandom,
  type Logger,
  type ModelSummary,
  type MoeStep,
  noopLogger,
  parseWithSchema,
} from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { type Checkpoint, loadCheckpoint, summarizeCheckpoint } from './checkpoint.js';
import type { ModelConfig, RopeConfig } from './config.js';
import { inferenceError, ModelError } from './errors.js';
import { expertGraph } from './expert-graph.js';
import { createSessionFromGraph } from './expert-runner.js';
import type { GraphBuilder } from './graph-builder.js';
import { embeddingGraph, gatedSharedExpertGraph, headGraph, layerGraph, layerIo } from './layer-graphs.js';
import { createInProcessMoeStep } from './moe-step.js';
import {
  type GenerateOptions,
  generateOptionsSchema,
  type LoadModelOptions,
  loadModelOptionsSchema,
  type ResolvedLoadModelOptions,
} from './options.js';
import { type Routing, route } from './routing.js';
import { endsWith, sampleToken } from './sampling.js';

/** One sequence's state: its tokens so far and its KV cache (per layer). Created by `model.createSequence()`. */
export interface Sequence {
  readonly id: number;
  /** Every token fed so far (prompt and generated). */
  readonly tokens: readonly number[];
  /** Positions held in the KV cache. */
  readonly length: number;
}

export interface ForwardInput {
  sequence: Sequence;
  /** New tokens to append to the sequence (prompt chunk or one decode token). */
  tokens: readonly number[];
}

/** What one MoE layer did for the packed tokens of a forward call. */
export interface MoeLayerEvent {
  layer: number;
  numTokens: number;
  moeInput: Float32Array;
  moeOutput: Float32Array;
  routerLogits: Float32Array;
  routerProbs: Float32Array;
  routing: Routing;
  /** [T] token id with the highest head-summed attention in this layer's attention block (paper f3). */
  attentionIds: Int32Array;
}

export interface ForwardObserver {
  /** Residual stream entering decoder layer `layer`; `layer === numLayers` is the final-norm output. */
  hiddenState?(layer: number, hidden: Float32Array): void;
  moeLayer?(event: MoeLayerEvent): void;
}

export interface ForwardOptions {
  /** Replaces the in-process MoE step (scatter-gather plugs in here). */
  moeStep?: MoeStep;
  /** Logits of every new token, or only of each input's last one (default). */
  logits?: 'all' | 'last';
  observer?: ForwardObserver;
  signal?: AbortSignal;
}

export interface ForwardResult {
  /** Per input: [rows, V] logits (rows = its token count for 'all', 1 for 'last'). */
  logits: Float32Array[];
}

export interface GenerateResult {
  /** The new token ids only. */
  tokens: number[];
  finishReason: 'length' | 'stop';
}

export interface MoeModel {
  readonly summary: ModelSummary;
  readonly config: ModelConfig;
  readonly checkpoint: Checkpoint;
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
  generate(
    prompts: readonly (readonly number[])[],
    options?: GenerateOptions & { moeStep?: MoeStep; signal?: AbortSignal },
  ): Promise<GenerateResult[]>;
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

interface LayerCache {
  keys: Float32Array;
  values: Float32Array;
  capacity: number;
}

class SequenceState implements Sequence {
  tokens: number[] = [];
  length = 0;
  busy = false;
  released = false;
  readonly caches: LayerCache[];
  constructor(
    readonly id: number,
    numLayers: number,
    private readonly keySize: number,
    private readonly valueSize: number,
    private readonly numKvHeads: number,
  ) {
    this.caches = Array.from({ length: numLayers }, () => ({
      keys: new Float32Array(0),
      values: new Float32Array(0),
      capacity: 0,
    }));
  }

  /** Makes room for `needed` positions in a [nkv, capacity, D] cache. */
  reserve(layer: number, needed: number): LayerCache {
    const cache = this.caches[layer]!;
    if (needed <= cache.capacity) return cache;
    const capacity = Math.max(needed, cache.capacity * 2, 16);
    const grow = (old: Float32Array, rowSize: number): Float32Array => {
      const next = new Float32Array(this.numKvHeads * capacity * rowSize);
      for (let h = 0; h < this.numKvHeads; h++) {
        next.set(
          old.subarray(h * cache.capacity * rowSize, (h * cache.capacity + this.length) * rowSize),
          h * capacity * rowSize,
        );
      }
      return next;
    };
    cache.keys = grow(cache.keys, this.keySize);
    cache.values = grow(cache.values, this.valueSize);
    cache.capacity = capacity;
    return cache;
  }
}

/** Inverse frequencies and the cos/sin scale of the rope (default, or YaRN as transformers computes it). */
export function ropeFrequencies(rope: RopeConfig): { invFreq: Float32Array; scale: number } {
  const half = rope.dim / 2;
  const invFreq = new Float32Array(half);
  const positionFreq = (i: number) => Math.fround(rope.theta ** Math.fround((2 * i) / rope.dim));
  if (rope.kind === 'default') {
    for (let i = 0; i < half; i++) invFreq[i] = 1 / positionFreq(i);
    return { invFreq, scale: 1 };
  }
  const correctionDim = (rotations: number) =>
    (rope.dim * Math.log(rope.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(rope.theta));
  let low = correctionDim(rope.betaFast);
  let high = correctionDim(rope.betaSlow);
  if (rope.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, rope.dim - 1);
  if (low === high) high += 0.001;
  for (let i = 0; i < half; i++) {
    const ramp = Math.min(1, Math.max(0, Math.fround((i - low) / (high - low))));
    const extrapolationFactor = Math.fround(1 - ramp);
    const extrapolation = Math.fround(1 / positionFreq(i));
    const interpolation = Math.fround(1 / Math.fround(rope.factor * positionFreq(i)));
    invFreq[i] =
      Math.fround(interpolation * Math.fround(1 - extrapolationFactor)) +
      Math.fround(extrapolation * extrapolationFactor);
  }
  const scale = rope.attentionFactor ?? (rope.factor <= 1 ? 1 : 0.1 * Math.log(rope.factor) + 1);
  return { invFreq, scale };
}

/** Rope tables [T, dim] in the rotate-half layout, computed in float32 steps like transformers. */
function ropeTables(rope: RopeConfig, positions: Int32Array): { cos: Float32Array; sin: Float32Array } {
  const D = rope.dim;
  const half = D / 2;
  const { invFreq, scale } = ropeFrequencies(rope);
  const cos = new Float32Array(positions.length * D);
  const sin = new Float32Array(positions.length * D);
  for (let t = 0; t < positions.length; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(positions[t]! * invFreq[i]!);
      const c = Math.fround(Math.cos(angle)) * scale;
      const s = Math.fround(Math.sin(angle)) * scale;
      cos[t * D + i] = c;
      cos[t * D + half + i] = c;
      sin[t * D + i] = s;
      sin[t * D + half + i] = s;
    }
  }
  return { cos, sin };
}

/** Largest packed attention mask (query rows × key columns) before inputs are split into separate attention runs. */
const maxPackedMaskEntries = 1 << 18;

/** Splits consecutive inputs into attention groups whose packed mask stays under `maxPackedMaskEntries`. */
export function planAttentionGroups(
  inputs: ReadonlyArray<{ newTokens: number; past: number }>,
  maxEntries = maxPackedMaskEntries,
): Array<{ first: number; end: number }> {
  const groups: Array<{ first: number; end: number }> = [];
  let first = 0;
  let rows = 0;
  let columns = 0;
  for (const [i, input] of inputs.entries()) {
    const nextRows = rows + input.newTokens;
    const nextColumns = columns + input.newTokens + input.past;
    if (i > first && nextRows * nextColumns > maxEntries) {
      groups.push({ first, end: i });
      first = i;
      rows = input.newTokens;
      columns = input.newTokens + input.past;
    } else {
      rows = nextRows;
      columns = nextColumns;
    }
  }
  if (inputs.length > first) groups.push({ first, end: inputs.length });
  return groups;
}

/** Loads a Hugging Face MoE checkpoint directory and builds its onnxruntime sessions. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<MoeModel> {
  const { logger = noopLogger, ...rest } = options;
  const resolved = parseWithSchema(loadModelOptionsSchema, rest, 'loadModel options');
  const checkpoint = await loadCheckpoint(dir);
  logger.debug('checkpoint headers read', { files: checkpoint.files.length, dtype: checkpoint.dtype });
  const summary = summarizeCheckpoint(checkpoint, resolved.name ?? basename(resolve(dir)));
  return createRuntime(checkpoint, summary, resolved, logger);
}

async function createRuntime(
  checkpoint: Checkpoint,
  summary: ModelSummary,
  options: ResolvedLoadModelOptions,
  logger: Logger,
): Promise<MoeModel> {
  const config = checkpoint.config;
  const threads = options.threads;
  const H = config.hiddenSize;
  const nkv = config.cacheHeads;
  const Dk = config.keyDim;
  const Dv = config.valueDim;
  const V = config.vocabSize;
  const correctionBiases = new Map<number, Float32Array>();
  if (config.routing === 'sigmoid-group-topk') {
    for (const layer of config.moeLayers) {
      const name = config.names.router(layer).replace(/weight$/, 'e_score_correction_bias');
      if (checkpoint.has(name)) correctionBiases.set(layer, checkpoint.float32(name, [config.numExperts]));
    }
  }
  const started = performance.now();
  // One graph at a time: its weights are read from the checkpoint, handed to onnxruntime and dropped
  // before the next graph is built, so loading holds at most one graph's float32 copy besides the sessions.
  const session = async (graph: () => GraphBuilder, what: string) => {
    const created = await createSessionFromGraph(graph(), threads, what, logger);
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
        await session(() => gatedSharedExpertGraph(checkpoint, layer), `layer ${layer} shared expert graph`),
      );
  }
  const head = await session(() => headGraph(checkpoint), 'head graph');
  const experts = new Map<string, Promise<ort.InferenceSession>>();
  const expertSession = (layer: number, expert: number): Promise<ort.InferenceSession> => {
    const key = `${layer}:${expert}`;
    let created = experts.get(key);
    if (!created) {
      created = Promise.resolve().then(() =>
        session(() => expertGraph({ checkpoint }, layer, expert), `layer ${layer} expert ${expert} graph`),
      );
      experts.set(key, created);
    }
    return created;
  };
  if (options.eagerExperts)
    for (const layer of config.moeLayers)
      for (let e = 0; e < config.numExperts; e++) await expertSession(layer, e);
  logger.debug('model loaded', { architecture: config.architecture, ms: performance.now() - started });

  const runExpert = async (
    layer: number,
    expert: number,
    hiddenStates: Float32Array,
    numTokens: number,
  ): Promise<Float32Array> => {
    const session = await expertSession(layer, expert);
    const result = await session.run({
      hidden_states: new ort.Tensor('float32', hiddenStates, [numTokens, H]),
    });
    return result.expert_output!.data as Float32Array;
  };
  const inProcessMoeStep = createInProcessMoeStep({ run: runExpert });

  let nextId = 1;
  const asState = (sequence: Sequence): SequenceState => {
    if (!(sequence instanceof SequenceState))
      throw new ModelError({
        code: 'INVALID_INPUT',
        message: 'not a sequence of this model',
        location: 'sequence',
      });
    if (sequence.released)
      throw new ModelError({
        code: 'INVALID_INPUT',
        message: `sequence ${sequence.id} was released`,
        location: 'sequence',
      });
    return sequence;
  };

  const run = async (
    session: ort.InferenceSession,
    feeds: Record<string, ort.Tensor>,
    what: string,
  ): Promise<ort.InferenceSession.ReturnType> => {
    try {
      return await session.run(feeds);
    } catch (error) {
      throw inferenceError(`onnxruntime failed: ${(error as Error).message}`, what, error);
    }
  };

  const forward = async (
    inputs: readonly ForwardInput[],
    forwardOptions: ForwardOptions = {},
  ): Promise<ForwardResult> => {
    const moeStep = forwardOptions.moeStep ?? inProcessMoeStep;
    const observer = forwardOptions.observer;
    const states = inputs.map((input) => asState(input.sequence));
    if (new Set(states).size !== states.length)
      throw new ModelError({
        code: 'INVALID_INPUT',
        message: 'a sequence appears twice in one forward call',
        location: 'inputs',
      });
    for (const [i, input] of inputs.entries()) {
      if (input.tokens.length === 0)
        throw new ModelError({
          code: 'INVALID_INPUT',
          message: 'no tokens',
          location: `inputs[${i}].tokens`,
        });
      for (const token of input.tokens) {
        if (!Number.isInteger(token) || token < 0 || token >= V)
          throw new ModelError({
            code: 'INVALID_INPUT',
            message: `token id ${token} is outside 0..${V - 1}`,
            location: `inputs[${i}].tokens`,
          });
      }
      if (states[i]!.busy)
        throw new ModelError({
          code: 'INVALID_INPUT',
          message: `sequence ${states[i]!.id} is already in a forward call`,
          location: `inputs[${i}]`,
        });
    }
    if (inputs.length === 0) return { logits: [] };
    for (const state of states) state.busy = true;
    try {
      const T = inputs.reduce((sum, input) => sum + input.tokens.length, 0);
      const tokenIds = new BigInt64Array(T);
      const positions = new Int32Array(T);
      const tokenStart: number[] = [];
      const pastStart: number[] = [];
      let P = 0;
      {
        let t = 0;
        for (const [i, input] of inputs.entries()) {
          tokenStart.push(t);
          pastStart.push(P);
          P += states[i]!.length;
          for (const [j, token] of input.tokens.entries()) {
            tokenIds[t] = BigInt(token);
            positions[t] = states[i]!.length + j;
            t++;
          }
        }
      }
      const { cos, sin } = ropeTables(config.rope, positions);
      const Rd = config.rope.dim;
      // Attention groups: consecutive inputs attend together over one packed block-diagonal mask while
      // that mask stays small (decode batches); long prefills get their own group so attention work
      // stays linear in the batch. Everything after attention (router, MoE step) covers all T tokens.
      const groups = planAttentionGroups(
        inputs.map((input, i) => ({ newTokens: input.tokens.length, past: states[i]!.length })),
      );
      const groupData = groups.map(({ first, end }) => {
        const start = tokenStart[first]!;
        let groupT = 0;
        let groupP = 0;
        const localPast: number[] = [];
        for (let i = first; i < end; i++) {
          localPast.push(groupP);
          groupT += inputs[i]!.tokens.length;
          groupP += states[i]!.length;
        }
        const S = groupP + groupT;
        // A sliding window keeps only keys less than `window` positions back.
        const buildMask = (window: number | null): ort.Tensor => {
          const mask = new Float32Array(groupT * S).fill(Number.NEGATIVE_INFINITY);
          for (let i = first; i < end; i++) {
            const past = states[i]!.length;
            const localToken = tokenStart[i]! - start;
            const pastOffset = localPast[i - first]!;
            for (let j = 0; j < inputs[i]!.tokens.length; j++) {
              const row = (localToken + j) * S;
              const position = past + j;
              const firstKey = window === null ? 0 : Math.max(0, position - window + 1);
              if (firstKey < past) mask.fill(0, row + pastOffset + firstKey, row + pastOffset + past);
              mask.fill(
                0,
                row + groupP + localToken + Math.max(0, firstKey - past),
                row + groupP + localToken + j + 1,
              );
            }
          }
          return new ort.Tensor('float32', mask, [groupT, S]);
        };
        const masks = new Map<number | null, ort.Tensor>();
        for (const window of new Set(config.slidingWindows)) masks.set(window, buildMask(window));
        // Which token sits at each packed key position (for the attention-id feature).
        const keyTokens = new Int32Array(S);
        for (let i = first; i < end; i++) {
          keyTokens.set(states[i]!.tokens.slice(0, states[i]!.length), localPast[i - first]!);
          keyTokens.set(inputs[i]!.tokens, groupP + tokenStart[i]! - start);
        }
        return {
          first,
          end,
          start,
          groupT,
          groupP,
          localPast,
          masks,
          keyTokens,
          cos: new ort.Tensor('float32', cos.slice(start * Rd, (start + groupT) * Rd), [groupT, Rd]),
          sin: new ort.Tensor('float32', sin.slice(start * Rd, (start + groupT) * Rd), [groupT, Rd]),
        };
      });
      let hidden = (await run(embedding, { input_ids: new ort.Tensor('int64', tokenIds, [T]) }, 'embedding'))
        .hidden!.data as Float32Array;

      for (let layer = 0; layer < config.numLayers; layer++) {
        forwardOptions.signal?.throwIfAborted();
        observer?.hiddenState?.(layer, hidden);
        const isMoe = config.moeLayers.includes(layer);
        const E = config.numExperts;
        const single = groupData.length === 1;
        const combined: Record<string, Float32Array> = {};
        const attentionIds = new Int32Array(T);
        const take = (name: string, width: number, data: Float32Array, start: number): void => {
          if (single) {
            combined[name] = data;
            return;
          }
          combined[name] ??= new Float32Array(T * width);
          combined[name]!.set(data, start * width);
        };
        for (const group of groupData) {
          const { groupT, groupP } = group;
          const pastKey = new Float32Array(nkv * groupP * Dk);
          const pastValue = new Float32Array(nkv * groupP * Dv);
          for (let i = group.first; i < group.end; i++) {
            const state = states[i]!;
            const cache = state.caches[layer]!;
            const offset = group.localPast[i - group.first]!;
            for (let h = 0; h < nkv; h++) {
              const keyFrom = h * cache.capacity * Dk;
              const valueFrom = h * cache.capacity * Dv;
              pastKey.set(
                cache.keys.subarray(keyFrom, keyFrom + state.length * Dk),
                (h * groupP + offset) * Dk,
              );
              pastValue.set(
                cache.values.subarray(valueFrom, valueFrom + state.length * Dv),
                (h * groupP + offset) * Dv,
              );
            }
          }
          const groupHidden = single ? hidden : hidden.slice(group.start * H, (group.start + groupT) * H);
          const out = await run(
            layers[layer]!,
            {
              [layerIo.hidden]: new ort.Tensor('float32', groupHidden, [groupT, H]),
              [layerIo.cos]: group.cos,
              [layerIo.sin]: group.sin,
              [layerIo.pastKey]: new ort.Tensor('float32', pastKey, [nkv, groupP, Dk]),
              [layerIo.pastValue]: new ort.Tensor('float32', pastValue, [nkv, groupP, Dv]),
              [layerIo.mask]: group.masks.get(config.slidingWindows[layer] ?? null)!,
            },
            `layer ${layer}`,
          );
          const newKeys = out[layerIo.key]!.data as Float32Array;
          const newValues = out[layerIo.value]!.data as Float32Array;
          for (let i = group.first; i < group.end; i++) {
            const state = states[i]!;
            const n = inputs[i]!.tokens.length;
            const local = tokenStart[i]! - group.start;
            const cache = state.reserve(layer, state.length + n);
            for (let h = 0; h < nkv; h++) {
              const keyFrom = (h * groupT + local) * Dk;
              const valueFrom = (h * groupT + local) * Dv;
              cache.keys.set(
                newKeys.subarray(keyFrom, keyFrom + n * Dk),
                (h * cache.capacity + state.length) * Dk,
              );
              cache.values.set(
                newValues.subarray(valueFrom, valueFrom + n * Dv),
                (h * cache.capacity + state.length) * Dv,
              );
            }
          }
          const argmaxIndex = out[layerIo.attentionArgmax]!.data as BigInt64Array;
          for (let t = 0; t < groupT; t++)
            attentionIds[group.start + t] = group.keyTokens[Number(argmaxIndex[t])]!;
          if (!isMoe) {
            take(layerIo.layerOutput, H, out[layerIo.layerOutput]!.data as Float32Array, group.start);
            continue;
          }
          take(
            layerIo.attentionResidual,
            H,
            out[layerIo.attentionResidual]!.data as Float32Array,
            group.start,
          );
          take(layerIo.moeInput, H, out[layerIo.moeInput]!.data as Float32Array, group.start);
          take(layerIo.routerProbs, E, out[layerIo.routerProbs]!.data as Float32Array, group.start);
          take(layerIo.routerLogits, E, out[layerIo.routerLogits]!.data as Float32Array, group.start);
        }
        const out = combined;
        if (!isMoe) {
          hidden = out[layerIo.layerOutput]!;
          continue;
        }
        const residual = out[layerIo.attentionResidual]!;
        const moeInput = out[layerIo.moeInput]!;
        const routerProbs = out[layerIo.routerProbs]!;
        const routerLogits = out[layerIo.routerLogits]!;
        const routing = route(config, routerLogits, routerProbs, T, correctionBiases.get(layer));
        const routed = await moeStep({
          layer,
          hiddenStates: moeInput,
          numTokens: T,
          hiddenSize: H,
          topK: config.topK,
          topkIds: routing.topkIds,
          topkWeights: routing.topkWeights,
          ...(forwardOptions.signal ? { signal: forwardOptions.signal } : {}),
        });
        if (routed.length !== T * H)
          throw inferenceError(
            `MoE step returned ${routed.length} values, expected ${T} × ${H}`,
            `layer ${layer}`,
          );
        let moeOutput = routed;
        const sharedSession = shared.get(layer);
        if (sharedSession) {
          const sharedOut = (
            await run(
              sharedSession,
              { hidden_states: new ort.Tensor('float32', moeInput, [T, H]) },
              `layer ${layer} shared expert`,
            )
          ).shared_output!.data as Float32Array;
          moeOutput = new Float32Array(T * H);
          for (let i = 0; i < T * H; i++) moeOutput[i] = routed[i]! + sharedOut[i]!;
        }
        const next = new Float32Array(T * H);
        for (let i = 0; i < T * H; i++) next[i] = residual[i]! + moeOutput[i]!;
        if (observer?.moeLayer) {
          observer.moeLayer({
            layer,
            numTokens: T,
            moeInput,
            moeOutput,
            routerLogits,
            routerProbs,
            routing,
            attentionIds,
          });
        }
        hidden = next;
      }
      // LM head over the rows whose logits are wanted (every row when the observer wants the final hidden state).
      const wantAll = forwardOptions.logits === 'all' || observer?.hiddenState !== undefined;
      let headInput = hidden;
      let rows = T;
      if (!wantAll) {
        rows = inputs.length;
        headInput = new Float32Array(rows * H);
        for (const [i, input] of inputs.entries()) {
          const t = tokenStart[i]! + input.tokens.length - 1;
          headInput.set(hidden.subarray(t * H, (t + 1) * H), i * H);
        }
      }
      const headOut = await run(head, { hidden: new ort.Tensor('float32', headInput, [rows, H]) }, 'head');
      if (observer?.hiddenState)
        observer.hiddenState(config.numLayers, headOut.final_hidden!.data as Float32Array);
      const allLogits = headOut.logits!.data as Float32Array;
      const logits = inputs.map((input, i) => {
        if (forwardOptions.logits === 'all')
          return allLogits.slice(tokenStart[i]! * V, (tokenStart[i]! + input.tokens.length) * V);
        const row = wantAll ? tokenStart[i]! + input.tokens.length - 1 : i;
        return allLogits.slice(row * V, (row + 1) * V);
      });
      for (const [i, state] of states.entries()) {
        state.tokens.push(...inputs[i]!.tokens);
        state.length += inputs[i]!.tokens.length;
      }
      return { logits };
    } finally {
      for (const state of states) state.busy = false;
    }
  };

  const model: MoeModel = {
    summary,
    config,
    checkpoint,
    inProcessMoeStep,
    runExpert,
    createSequence: () => new SequenceState(nextId++, config.numLayers, Dk, Dv, nkv),
    correctionBias: (layer) => correctionBiases.get(layer),
    releaseSequence(sequence) {
      const state = asState(sequence);
      state.released = true;
      for (const cache of state.caches) {
        cache.keys = new Float32Array(0);
        cache.values = new Float32Array(0);
        cache.capacity = 0;
      }
    },
    forward,
    async generate(prompts, generateOptions = {}) {
      const { moeStep, signal, ...rest } = generateOptions;
      const resolved = parseWithSchema(generateOptionsSchema, rest, 'generate options');
      const sequences = prompts.map(() => model.createSequence());
      const randoms = prompts.map((_, i) => createRandom(resolved.seed + i * 0x9e3779b9));
      const results: GenerateResult[] = prompts.map(() => ({ tokens: [], finishReason: 'length' }));
      let active = prompts
        .map((prompt, i) => ({ index: i, next: [...prompt] }))
        .filter((entry) => {
          if (entry.next.length === 0)
            throw new ModelError({
              code: 'INVALID_INPUT',
              message: 'prompt is empty',
              location: `prompts[${entry.index}]`,
            });
          return resolved.maxNewTokens > 0;
        });
      try {
        while (active.length > 0) {
          const { logits } = await forward(
            active.map((entry) => ({ sequence: sequences[entry.index]!, tokens: entry.next })),
            { ...(moeStep ? { moeStep } : {}), ...(signal ? { signal } : {}) },
          );
          const still: typeof active = [];
          for (const [row, entry] of active.entries()) {
            const token = sampleToken(logits[row]!, resolved, randoms[entry.index]!);
            const result = results[entry.index]!;
            result.tokens.push(token);
            const stop = resolved.stopSequences.find((sequence) => endsWith(result.tokens, sequence));
            if (stop) {
              result.tokens.length -= stop.length;
              result.finishReason = 'stop';
            } else if (resolved.stopTokens.includes(token)) {
              result.finishReason = 'stop';
            } else if (result.tokens.length < resolved.maxNewTokens) {
              still.push({ index: entry.index, next: [token] });
            }
          }
          active = still;
        }
      } finally {
        for (const sequence of sequences) model.releaseSequence(sequence);
      }
      return results;
    },
    async close() {
      await embedding.release();
      for (const session of layers) await session.release();
      for (const session of shared.values()) await session.release();
      await head.release();
      for (const session of experts.values()) await (await session).release();
    },
  };
  return model;
}
