import type { MoeStep } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { type AttentionGroup, buildAttentionGroups } from './attention-groups.js';
import type { ModelConfig } from './config.js';
import { inferenceError, ModelError } from './errors.js';
import { layerIo } from './layer-graph.js';
import { type ModelSessions, runSession } from './model-sessions.js';
import { ropeTables } from './rope.js';
import { type Routing, route } from './routing.js';
import { type Sequence, type SequenceState, sequenceState } from './sequence-state.js';

export interface ForwardInput {
  sequence: Sequence;
  /** New tokens to append to the sequence (prompt chunk or one decode token). */
  tokens: readonly number[];
  /**
   * Logits of every new token of this input, whatever `ForwardOptions.logits` says (prompt
   * log-probabilities). Only these rows go through the LM head besides each other input's last one.
   */
  allLogits?: boolean;
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
  /** Per input: [rows, V] logits (rows = its token count for 'all' or `allLogits`, 1 for 'last'). */
  logits: Float32Array[];
}

/** What a forward pass runs on: the model's config and sessions. */
export interface ForwardRuntime {
  config: ModelConfig;
  sessions: ModelSessions;
  /** deepseek_v3: the router's e_score_correction_bias per MoE layer. */
  correctionBiases: ReadonlyMap<number, Float32Array>;
  inProcessMoeStep: MoeStep;
}

/** The packed batch of a forward call: T new tokens of every input, back to back. */
interface PackedBatch {
  numTokens: number;
  inputs: readonly ForwardInput[];
  states: readonly SequenceState[];
  /** Per input, its first row in the packed batch. */
  tokenStart: number[];
  groups: AttentionGroup[];
}

/**
 * One forward pass over a batch of independent sequences (any mix of prefill chunks and decode
 * tokens). All inputs' tokens are packed into one [T, H] batch: ONE MoE step per MoE layer covers them
 * all. Appends the tokens to each sequence's cache.
 */
export async function forward(
  runtime: ForwardRuntime,
  inputs: readonly ForwardInput[],
  forwardOptions: ForwardOptions = {},
): Promise<ForwardResult> {
  const { config, sessions } = runtime;
  const V = config.vocabSize;
  const moeStep = forwardOptions.moeStep ?? runtime.inProcessMoeStep;
  const observer = forwardOptions.observer;
  const states = inputs.map((input) => sequenceState(input.sequence));
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
    {
      let t = 0;
      for (const [i, input] of inputs.entries()) {
        tokenStart.push(t);
        for (const [j, token] of input.tokens.entries()) {
          tokenIds[t] = BigInt(token);
          positions[t] = states[i]!.length + j;
          t++;
        }
      }
    }
    const { cos, sin } = ropeTables(config.rope, positions);
    // Everything after attention (router, MoE step) covers all T tokens; attention runs per group.
    const batch: PackedBatch = {
      numTokens: T,
      inputs,
      states,
      tokenStart,
      groups: buildAttentionGroups(config, inputs, states, tokenStart, cos, sin),
    };
    let hidden = (
      await runSession(sessions.embedding, { input_ids: new ort.Tensor('int64', tokenIds, [T]) }, 'embedding')
    ).hidden!.data as Float32Array;

    for (let layer = 0; layer < config.numLayers; layer++) {
      forwardOptions.signal?.throwIfAborted();
      observer?.hiddenState?.(layer, hidden);
      const isMoe = config.moeLayers.includes(layer);
      const attention = await attentionBlock(runtime, batch, layer, isMoe, hidden);
      if (!isMoe) {
        hidden = attention.outputs[layerIo.layerOutput]!;
        continue;
      }
      hidden = await moeBlock(runtime, batch, layer, attention, moeStep, forwardOptions);
    }
    const logits = await headLogits(runtime, batch, hidden, forwardOptions);
    for (const [i, state] of states.entries()) {
      state.tokens.push(...inputs[i]!.tokens);
      state.length += inputs[i]!.tokens.length;
    }
    return { logits };
  } finally {
    for (const state of states) state.busy = false;
  }
}

/** The attention part of one decoder layer's graph, run per attention group and gathered over all T rows. */
interface AttentionOutputs {
  /** The layer graph's [T, width] outputs by name (layerIo). */
  outputs: Record<string, Float32Array>;
  /** [T] the paper's attention-id feature. */
  attentionIds: Int32Array;
}

/**
 * Runs decoder layer `layer`'s graph once per attention group over its packed past keys/values,
 * appends the new keys/values to each sequence's cache and gathers the groups' outputs.
 */
async function attentionBlock(
  runtime: ForwardRuntime,
  batch: PackedBatch,
  layer: number,
  isMoe: boolean,
  hidden: Float32Array,
): Promise<AttentionOutputs> {
  const { config, sessions } = runtime;
  const { numTokens: T, inputs, states, tokenStart, groups } = batch;
  const H = config.hiddenSize;
  const nkv = config.cacheHeads;
  const Dk = config.keyDim;
  const Dv = config.valueDim;
  const E = config.numExperts;
  const single = groups.length === 1;
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
  for (const group of groups) {
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
        pastKey.set(cache.keys.subarray(keyFrom, keyFrom + state.length * Dk), (h * groupP + offset) * Dk);
        pastValue.set(
          cache.values.subarray(valueFrom, valueFrom + state.length * Dv),
          (h * groupP + offset) * Dv,
        );
      }
    }
    const groupHidden = single ? hidden : hidden.slice(group.start * H, (group.start + groupT) * H);
    const out = await runSession(
      sessions.layers[layer]!,
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
        cache.keys.set(newKeys.subarray(keyFrom, keyFrom + n * Dk), (h * cache.capacity + state.length) * Dk);
        cache.values.set(
          newValues.subarray(valueFrom, valueFrom + n * Dv),
          (h * cache.capacity + state.length) * Dv,
        );
      }
    }
    const argmaxIndex = out[layerIo.attentionArgmax]!.data as BigInt64Array;
    for (let t = 0; t < groupT; t++) attentionIds[group.start + t] = group.keyTokens[Number(argmaxIndex[t])]!;
    if (!isMoe) {
      take(layerIo.layerOutput, H, out[layerIo.layerOutput]!.data as Float32Array, group.start);
      continue;
    }
    take(layerIo.attentionResidual, H, out[layerIo.attentionResidual]!.data as Float32Array, group.start);
    take(layerIo.moeInput, H, out[layerIo.moeInput]!.data as Float32Array, group.start);
    take(layerIo.routerProbs, E, out[layerIo.routerProbs]!.data as Float32Array, group.start);
    take(layerIo.routerLogits, E, out[layerIo.routerLogits]!.data as Float32Array, group.start);
  }
  return { outputs: combined, attentionIds };
}

/**
 * The MoE block of layer `layer` over all T rows: routes, runs the MoE step (plus the shared expert)
 * and returns the next residual stream.
 */
async function moeBlock(
  runtime: ForwardRuntime,
  batch: PackedBatch,
  layer: number,
  attention: AttentionOutputs,
  moeStep: MoeStep,
  forwardOptions: ForwardOptions,
): Promise<Float32Array> {
  const { config, sessions } = runtime;
  const T = batch.numTokens;
  const H = config.hiddenSize;
  const out = attention.outputs;
  const residual = out[layerIo.attentionResidual]!;
  const moeInput = out[layerIo.moeInput]!;
  const routerProbs = out[layerIo.routerProbs]!;
  const routerLogits = out[layerIo.routerLogits]!;
  const routing = route(config, routerLogits, routerProbs, T, runtime.correctionBiases.get(layer));
  const routed = await moeStep({
    layer,
    hiddenStates: moeInput,
    numTokens: T,
    hiddenSize: H,
    topK: config.topK,
    topkIds: routing.topkIds,
    topkWeights: routing.topkWeights,
    signal: forwardOptions.signal,
  });
  if (routed.length !== T * H)
    throw inferenceError(`MoE step returned ${routed.length} values, expected ${T} × ${H}`, `layer ${layer}`);
  let moeOutput = routed;
  const sharedSession = sessions.shared.get(layer);
  if (sharedSession) {
    const sharedOut = (
      await runSession(
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
  forwardOptions.observer?.moeLayer?.({
    layer,
    numTokens: T,
    moeInput,
    moeOutput,
    routerLogits,
    routerProbs,
    routing,
    attentionIds: attention.attentionIds,
  });
  return next;
}

/**
 * LM head over the rows whose logits are wanted (every row when the observer wants the final hidden
 * state; else each input's last row, or all its rows with `allLogits`); per input, its [rows, V] logits.
 */
async function headLogits(
  runtime: ForwardRuntime,
  batch: PackedBatch,
  hidden: Float32Array,
  forwardOptions: ForwardOptions,
): Promise<Float32Array[]> {
  const { config, sessions } = runtime;
  const { numTokens: T, inputs, tokenStart } = batch;
  const H = config.hiddenSize;
  const V = config.vocabSize;
  const observer = forwardOptions.observer;
  const wantAll = forwardOptions.logits === 'all' || observer?.hiddenState !== undefined;
  const allRowsOf = (input: ForwardInput) => forwardOptions.logits === 'all' || input.allLogits === true;
  let headInput = hidden;
  let rows = T;
  /** Per input, its first row in the head's output. */
  let headStart: readonly number[] = tokenStart;
  if (!wantAll) {
    const gathered: number[] = [];
    rows = 0;
    for (const input of inputs) {
      gathered.push(rows);
      rows += input.allLogits ? input.tokens.length : 1;
    }
    headInput = new Float32Array(rows * H);
    for (const [i, input] of inputs.entries()) {
      const count = input.allLogits ? input.tokens.length : 1;
      const t = tokenStart[i]! + input.tokens.length - count;
      headInput.set(hidden.subarray(t * H, (t + count) * H), gathered[i]! * H);
    }
    headStart = gathered;
  }
  const headOut = await runSession(
    sessions.head,
    { hidden: new ort.Tensor('float32', headInput, [rows, H]) },
    'head',
  );
  if (observer?.hiddenState)
    observer.hiddenState(config.numLayers, headOut.final_hidden!.data as Float32Array);
  const allLogits = headOut.logits!.data as Float32Array;
  return inputs.map((input, i) => {
    if (allRowsOf(input))
      return allLogits.slice(headStart[i]! * V, (headStart[i]! + input.tokens.length) * V);
    const row = wantAll ? headStart[i]! + input.tokens.length - 1 : headStart[i]!;
    return allLogits.slice(row * V, (row + 1) * V);
  });
}
