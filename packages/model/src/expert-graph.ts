import type { ExpertQuantization } from '@switchyard/core';
import type { Checkpoint } from './checkpoint.js';
import { ModelError } from './errors.js';
import { checkQuantizable } from './expert-quantization.js';
import { GraphBuilder, type GraphQuantization } from './graph-builder.js';

/** Weights of one SwiGLU FFN in torch Linear layout: gate/up [I, H], down [H, I]. */
export interface SwigluWeights {
  hiddenSize: number;
  intermediateSize: number;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
}

/** Input and output names of every expert graph (the contract the expert function relies on). */
export const expertGraphInput = 'hidden_states';
export const expertGraphOutput = 'expert_output';

/** `buildSwigluGraph` as a GraphBuilder, before encoding (the runtime writes its weights as external data). */
export function swigluGraph(
  weights: SwigluWeights,
  name = 'expert',
  quantization?: GraphQuantization,
): GraphBuilder {
  const { hiddenSize: H, intermediateSize: I } = weights;
  const g = new GraphBuilder(name);
  const x = g.input(expertGraphInput, 'float', ['num_tokens', H]);
  const y = g.swiglu(x, { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' }, weights, H, I, quantization);
  g.output(y, expertGraphOutput, 'float', ['num_tokens', H]);
  return g;
}

/**
 * ONNX bytes of a SwiGLU FFN: `expert_output = (silu(x Wg^T) * (x Wu^T)) Wd^T`, one input
 * `hidden_states` float32 [N, H], one output `expert_output` float32 [N, H], weights embedded (float32,
 * or int8 / int4 with `quantization`).
 */
export function buildSwigluGraph(
  weights: SwigluWeights,
  name = 'expert',
  quantization?: ExpertQuantization,
): Uint8Array {
  checkQuantizable(`${name}.gate_proj`, weights.hiddenSize, quantization ?? { format: 'none' });
  checkQuantizable(`${name}.down_proj`, weights.intermediateSize, quantization ?? { format: 'none' });
  return swigluGraph(weights, name, quantization).build();
}

/** What `buildExpertGraph` and `buildSharedExpertGraph` take. */
export interface ExpertGraphOptions {
  /**
   * The weights' format; absent = the holder's (`MoeModel.quantization`), float32 for a bare
   * checkpoint. int4 defaults to blocks of 32.
   */
  quantization?: ExpertQuantization;
}

/** Anything that holds a loaded checkpoint (a `MoeModel` or a `Checkpoint` wrapper). */
export interface CheckpointHolder {
  checkpoint: Checkpoint;
  /** The format the holder's experts run in (a `MoeModel`'s); graphs are built in it unless told otherwise. */
  quantization?: ExpertQuantization;
}

/** The SwiGLU weights of routed expert `expert` in decoder layer `layer`. */
export function expertWeights(model: CheckpointHolder, layer: number, expert: number): SwigluWeights {
  const { config } = model.checkpoint;
  checkExpert(config.moeLayers, config.numExperts, layer, expert);
  const H = config.hiddenSize;
  const I = config.expertIntermediateSize;
  const names = config.names;
  return {
    hiddenSize: H,
    intermediateSize: I,
    gate: model.checkpoint.float32(names.expert(layer, expert, 'gate'), [I, H]),
    up: model.checkpoint.float32(names.expert(layer, expert, 'up'), [I, H]),
    down: model.checkpoint.float32(names.expert(layer, expert, 'down'), [H, I]),
  };
}

/** gpt_oss expert weights in [in, out] layout with biases, gate/up de-interleaved from the fused tensor. */
export interface ClampedSwigluWeights {
  hiddenSize: number;
  intermediateSize: number;
  /** [H, I] each. */
  gate: Float32Array;
  up: Float32Array;
  gateBias: Float32Array;
  upBias: Float32Array;
  /** [I, H]. */
  down: Float32Array;
  downBias: Float32Array;
  limit: number;
  alpha: number;
}

/**
 * gpt_oss expert: g = min(x·Wg + bg, limit); u = clamp(x·Wu + bu, ±limit);
 * y = ((u + 1) · g · sigmoid(alpha · g))·Wd + bd. Same graph contract as `buildSwigluGraph`.
 */
export function clampedSwigluGraph(
  weights: ClampedSwigluWeights,
  name = 'expert',
  quantization?: GraphQuantization,
): GraphBuilder {
  const { hiddenSize: H, intermediateSize: I } = weights;
  const g = new GraphBuilder(name);
  const x = g.input(expertGraphInput, 'float', ['num_tokens', H]);
  const gateLinear = g.op('Add', [
    g.matmulWeight(x, 'gate', weights.gate, H, I, quantization),
    g.weight('gate_bias', [I], weights.gateBias),
  ]);
  const upLinear = g.op('Add', [
    g.matmulWeight(x, 'up', weights.up, H, I, quantization),
    g.weight('up_bias', [I], weights.upBias),
  ]);
  const gate = g.op('Min', [gateLinear, g.scalar(weights.limit)]);
  const up = g.op('Max', [g.op('Min', [upLinear, g.scalar(weights.limit)]), g.scalar(-weights.limit)]);
  const glu = g.op('Mul', [gate, g.op('Sigmoid', [g.op('Mul', [gate, g.scalar(weights.alpha)])])]);
  const hidden = g.op('Mul', [g.op('Add', [up, g.scalar(1)]), glu]);
  const y = g.op('Add', [
    g.matmulWeight(hidden, 'down', weights.down, I, H, quantization),
    g.weight('down_bias', [H], weights.downBias),
  ]);
  g.output(y, expertGraphOutput, 'float', ['num_tokens', H]);
  return g;
}

/** The gpt_oss expert's weights sliced out of the layer's fused tensors. */
export function clampedExpertWeights(
  model: CheckpointHolder,
  layer: number,
  expert: number,
): ClampedSwigluWeights {
  const { config } = model.checkpoint;
  checkExpert(config.moeLayers, config.numExperts, layer, expert);
  const H = config.hiddenSize;
  const I = config.expertIntermediateSize;
  const E = config.numExperts;
  const names = config.names;
  // Reads the whole fused tensor once per call; experts are built one at a time so peak memory stays bounded.
  const gateUp = model.checkpoint.float32(names.fusedExperts(layer, 'gate_up_proj'), [E, H, 2 * I]);
  const gateUpBias = model.checkpoint.float32(names.fusedExperts(layer, 'gate_up_proj_bias'), [E, 2 * I]);
  const down = model.checkpoint.float32(names.fusedExperts(layer, 'down_proj'), [E, I, H]);
  const downBias = model.checkpoint.float32(names.fusedExperts(layer, 'down_proj_bias'), [E, H]);
  const gate = new Float32Array(H * I);
  const up = new Float32Array(H * I);
  const base = expert * H * 2 * I;
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < I; i++) {
      gate[h * I + i] = gateUp[base + h * 2 * I + 2 * i]!;
      up[h * I + i] = gateUp[base + h * 2 * I + 2 * i + 1]!;
    }
  }
  const gateBias = new Float32Array(I);
  const upBias = new Float32Array(I);
  for (let i = 0; i < I; i++) {
    gateBias[i] = gateUpBias[expert * 2 * I + 2 * i]!;
    upBias[i] = gateUpBias[expert * 2 * I + 2 * i + 1]!;
  }
  return {
    hiddenSize: H,
    intermediateSize: I,
    gate,
    up,
    gateBias,
    upBias,
    down: down.slice(expert * I * H, (expert + 1) * I * H),
    downBias: downBias.slice(expert * H, (expert + 1) * H),
    limit: config.swigluLimit,
    alpha: config.swigluAlpha,
  };
}

function checkExpert(moeLayers: number[], numExperts: number, layer: number, expert: number): void {
  if (!moeLayers.includes(layer))
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `layer ${layer} has no MoE block; MoE layers: ${moeLayers.join(', ')}`,
      location: 'layer',
    });
  if (!Number.isInteger(expert) || expert < 0 || expert >= numExperts)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `expert ${expert} is outside 0..${numExperts - 1}`,
      location: 'expert',
    });
}

/**
 * INVALID_INPUT naming the tensor when the expert's weights cannot be quantized as asked (int4 with an
 * input dimension the block size does not divide).
 */
function checkExpertQuantizable(
  model: CheckpointHolder,
  layer: number,
  expert: number,
  quantization: ExpertQuantization | undefined,
): void {
  if (!quantization) return;
  const { config } = model.checkpoint;
  const names = config.names;
  if (config.expertKind === 'gpt-oss') {
    checkQuantizable(names.fusedExperts(layer, 'gate_up_proj'), config.hiddenSize, quantization);
    checkQuantizable(names.fusedExperts(layer, 'down_proj'), config.expertIntermediateSize, quantization);
  } else {
    checkQuantizable(names.expert(layer, expert, 'gate'), config.hiddenSize, quantization);
    checkQuantizable(names.expert(layer, expert, 'down'), config.expertIntermediateSize, quantization);
  }
}

/** `buildExpertGraph` as a GraphBuilder, before encoding (the runtime writes its weights as external data). */
export function expertGraph(
  model: CheckpointHolder,
  layer: number,
  expert: number,
  quantization?: GraphQuantization,
): GraphBuilder {
  checkExpertQuantizable(model, layer, expert, quantization);
  const name = `layer${layer}_expert${expert}`;
  if (model.checkpoint.config.expertKind === 'gpt-oss')
    return clampedSwigluGraph(clampedExpertWeights(model, layer, expert), name, quantization);
  return swigluGraph(expertWeights(model, layer, expert), name, quantization);
}

/**
 * ONNX bytes of one routed expert's FFN (see `buildSwigluGraph` for the contract), float32 or in
 * `options.quantization`'s format. Quantizing is deterministic: the same checkpoint gives the same bytes.
 */
export function buildExpertGraph(
  model: CheckpointHolder,
  layer: number,
  expert: number,
  options: ExpertGraphOptions = {},
): Uint8Array {
  return expertGraph(model, layer, expert, options.quantization ?? model.quantization).build();
}

/**
 * ONNX bytes of a layer's shared expert FFN (same contract), float32 or quantized. The qwen2_moe
 * sigmoid gate is not part of this graph: it stays in the orchestrator with the router.
 */
export function buildSharedExpertGraph(
  model: CheckpointHolder,
  layer: number,
  options: ExpertGraphOptions = {},
): Uint8Array {
  const { config } = model.checkpoint;
  const I = config.sharedExpertIntermediateSize;
  if (I === 0 || !config.moeLayers.includes(layer))
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `layer ${layer} has no shared expert`,
      location: 'layer',
    });
  const H = config.hiddenSize;
  const names = config.names;
  const quantization = options.quantization ?? model.quantization;
  if (quantization) {
    checkQuantizable(names.sharedExpert(layer, 'gate'), H, quantization);
    checkQuantizable(names.sharedExpert(layer, 'down'), I, quantization);
  }
  return swigluGraph(
    {
      hiddenSize: H,
      intermediateSize: I,
      gate: model.checkpoint.float32(names.sharedExpert(layer, 'gate'), [I, H]),
      up: model.checkpoint.float32(names.sharedExpert(layer, 'up'), [I, H]),
      down: model.checkpoint.float32(names.sharedExpert(layer, 'down'), [H, I]),
    },
    `layer${layer}_shared_expert`,
    quantization,
  ).build();
}

/**
 * Shared expert with its sigmoid gate (qwen2_moe): out = sigmoid(x·w_g) * SwiGLU(x), run in process
 * (the runtime writes its weights as external data).
 */
export function gatedSharedExpertGraph(
  checkpoint: Checkpoint,
  layer: number,
  quantization?: ExpertQuantization,
): GraphBuilder {
  const c = checkpoint.config;
  const n = c.names;
  const H = c.hiddenSize;
  const I = c.sharedExpertIntermediateSize;
  const g = new GraphBuilder(`layer${layer}_shared`);
  const x = g.input('hidden_states', 'float', ['T', H]);
  let y = g.swiglu(
    x,
    { gate: 'shared.gate', up: 'shared.up', down: 'shared.down' },
    {
      gate: checkpoint.float32(n.sharedExpert(layer, 'gate'), [I, H]),
      up: checkpoint.float32(n.sharedExpert(layer, 'up'), [I, H]),
      down: checkpoint.float32(n.sharedExpert(layer, 'down'), [H, I]),
    },
    H,
    I,
    quantization,
  );
  if (c.sharedExpertGated) {
    const gate = g.linear(x, 'shared_gate', checkpoint.float32(n.sharedExpertGate(layer), [1, H]), 1, H);
    y = g.op('Mul', [g.op('Sigmoid', [gate]), y]);
  }
  g.output(y, 'shared_output', 'float', ['T', H]);
  return g;
}
