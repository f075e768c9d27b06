import type { Checkpoint } from './checkpoint.js';
import { ModelError } from './errors.js';
import { GraphBuilder } from './graph-builder.js';

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

/**
 * ONNX bytes of a SwiGLU FFN: `expert_output = (silu(x Wg^T) * (x Wu^T)) Wd^T`, one input
 * `hidden_states` float32 [N, H], one output `expert_output` float32 [N, H], weights embedded.
 */
export function buildSwigluGraph(weights: SwigluWeights, name = 'expert'): Uint8Array {
  const { hiddenSize: H, intermediateSize: I } = weights;
  const g = new GraphBuilder(name);
  const x = g.input(expertGraphInput, 'float', ['num_tokens', H]);
  const gate = g.linear(x, 'gate_proj', weights.gate, I, H);
  const up = g.linear(x, 'up_proj', weights.up, I, H);
  const hidden = g.op('Mul', [g.silu(gate), up]);
  const y = g.linear(hidden, 'down_proj', weights.down, H, I);
  g.output(y, expertGraphOutput, 'float', ['num_tokens', H]);
  return g.build();
}

/** Anything that holds a loaded checkpoint (a `MoeModel` or a `Checkpoint` wrapper). */
export interface CheckpointHolder {
  checkpoint: Checkpoint;
}

/** The SwiGLU weights of routed expert `expert` in decoder layer `layer`. */
export function expertWeights(model: CheckpointHolder, layer: number, expert: number): SwigluWeights {
  const { config } = model.checkpoint;
  if (!config.moeLayers.includes(layer))
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `layer ${layer} has no MoE block; MoE layers: ${config.moeLayers.join(', ')}`,
      location: 'layer',
    });
  if (!Number.isInteger(expert) || expert < 0 || expert >= config.numExperts)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `expert ${expert} is outside 0..${config.numExperts - 1}`,
      location: 'expert',
    });
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

/** ONNX bytes of one routed expert's FFN (see `buildSwigluGraph` for the contract). */
export function buildExpertGraph(model: CheckpointHolder, layer: number, expert: number): Uint8Array {
  return buildSwigluGraph(expertWeights(model, layer, expert), `layer${layer}_expert${expert}`);
}

/**
 * ONNX bytes of a layer's shared expert FFN (same contract). The qwen2_moe sigmoid gate is not part
 * of this graph: it stays in the orchestrator with the router.
 */
export function buildSharedExpertGraph(model: CheckpointHolder, layer: number): Uint8Array {
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
  return buildSwigluGraph(
    {
      hiddenSize: H,
      intermediateSize: I,
      gate: model.checkpoint.float32(names.sharedExpert(layer, 'gate'), [I, H]),
      up: model.checkpoint.float32(names.sharedExpert(layer, 'up'), [I, H]),
      down: model.checkpoint.float32(names.sharedExpert(layer, 'down'), [H, I]),
    },
    `layer${layer}_shared_expert`,
  );
}
