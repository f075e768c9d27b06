import type { Checkpoint } from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { GraphBuilder } from './graph-builder.js';

/**
 * Graph names. A decoder layer graph takes the residual stream of the packed tokens of every active
 * sequence, the rope tables, the packed past keys/values and an additive mask (block-diagonal per
 * sequence, causal), and returns the new keys/values, the attention residual, the MoE input (post-norm),
 * router logits/probabilities (MoE layers) or the finished layer output (dense layers).
 */
export const layerIo = {
  hidden: 'hidden',
  cos: 'cos',
  sin: 'sin',
  pastKey: 'past_key',
  pastValue: 'past_value',
  mask: 'mask',
  key: 'key',
  value: 'value',
  attentionResidual: 'attention_residual',
  moeInput: 'moe_input',
  routerLogits: 'router_logits',
  routerProbs: 'router_probs',
  layerOutput: 'layer_output',
  attentionArgmax: 'attention_argmax',
} as const;

function rotateHalf(g: GraphBuilder, x: string, headDim: number): string {
  const half = headDim / 2;
  const x1 = g.op('Slice', [x, g.ints([0]), g.ints([half]), g.ints([-1])]);
  const x2 = g.op('Slice', [x, g.ints([half]), g.ints([headDim]), g.ints([-1])]);
  return g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
}

function applyRope(g: GraphBuilder, x: string, cos: string, sin: string, headDim: number): string {
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotateHalf(g, x, headDim), sin])]);
}

function swiglu(
  g: GraphBuilder,
  x: string,
  name: string,
  checkpoint: Checkpoint,
  names: { gate: string; up: string; down: string },
  H: number,
  I: number,
): string {
  const gate = g.linear(x, `${name}.gate`, checkpoint.float32(names.gate, [I, H]), I, H);
  const up = g.linear(x, `${name}.up`, checkpoint.float32(names.up, [I, H]), I, H);
  return g.linear(
    g.op('Mul', [g.silu(gate), up]),
    `${name}.down`,
    checkpoint.float32(names.down, [H, I]),
    H,
    I,
  );
}

/** The dense part of decoder layer `layer` (attention with KV cache, norms, router or dense MLP). */
export function buildLayerGraph(checkpoint: Checkpoint, layer: number): Uint8Array {
  const c: ModelConfig = checkpoint.config;
  const n = c.names;
  const H = c.hiddenSize;
  const D = c.headDim;
  const nh = c.numAttentionHeads;
  const nkv = c.numKeyValueHeads;
  const g = new GraphBuilder(`layer${layer}`);
  const x = g.input(layerIo.hidden, 'float', ['T', H]);
  const cos = g.reshape(g.input(layerIo.cos, 'float', ['T', D]), [-1, 1, D]);
  const sin = g.reshape(g.input(layerIo.sin, 'float', ['T', D]), [-1, 1, D]);
  const pastKey = g.input(layerIo.pastKey, 'float', [nkv, 'P', D]);
  const pastValue = g.input(layerIo.pastValue, 'float', [nkv, 'P', D]);
  const mask = g.input(layerIo.mask, 'float', ['T', 'S']);

  const normed = g.rmsNorm(x, 'input_norm', checkpoint.float32(n.inputNorm(layer), [H]), c.rmsNormEps);
  const bias = (part: 'q_proj' | 'k_proj' | 'v_proj', size: number) =>
    c.attentionBias ? checkpoint.float32(`${n.attention(layer, part)}.bias`, [size]) : undefined;
  let q = g.linear(
    normed,
    'q_proj',
    checkpoint.float32(`${n.attention(layer, 'q_proj')}.weight`, [nh * D, H]),
    nh * D,
    H,
    bias('q_proj', nh * D),
  );
  let k = g.linear(
    normed,
    'k_proj',
    checkpoint.float32(`${n.attention(layer, 'k_proj')}.weight`, [nkv * D, H]),
    nkv * D,
    H,
    bias('k_proj', nkv * D),
  );
  const v = g.linear(
    normed,
    'v_proj',
    checkpoint.float32(`${n.attention(layer, 'v_proj')}.weight`, [nkv * D, H]),
    nkv * D,
    H,
    bias('v_proj', nkv * D),
  );
  if (c.qkNorm === 'full') {
    q = g.rmsNorm(
      q,
      'q_norm',
      checkpoint.float32(`${n.attention(layer, 'q_norm')}.weight`, [nh * D]),
      c.rmsNormEps,
    );
    k = g.rmsNorm(
      k,
      'k_norm',
      checkpoint.float32(`${n.attention(layer, 'k_norm')}.weight`, [nkv * D]),
      c.rmsNormEps,
    );
  }
  q = g.reshape(q, [-1, nh, D]);
  k = g.reshape(k, [-1, nkv, D]);
  if (c.qkNorm === 'head') {
    q = g.rmsNorm(
      q,
      'q_norm',
      checkpoint.float32(`${n.attention(layer, 'q_norm')}.weight`, [D]),
      c.rmsNormEps,
    );
    k = g.rmsNorm(
      k,
      'k_norm',
      checkpoint.float32(`${n.attention(layer, 'k_norm')}.weight`, [D]),
      c.rmsNormEps,
    );
  }
  q = applyRope(g, q, cos, sin, D);
  k = applyRope(g, k, cos, sin, D);
  const key = g.transpose(k, [1, 0, 2]);
  const value = g.transpose(g.reshape(v, [-1, nkv, D]), [1, 0, 2]);
  g.output(key, layerIo.key, 'float', [nkv, 'T', D]);
  g.output(value, layerIo.value, 'float', [nkv, 'T', D]);
  const keys = g.op('Concat', [pastKey, layerIo.key], { axis: 1 });
  const values = g.op('Concat', [pastValue, layerIo.value], { axis: 1 });
  // Query heads grouped by their key/value head: [nkv, group*T, D].
  const queries = g.reshape(g.transpose(q, [1, 0, 2]), [nkv, -1, D]);
  const scores = g.op('Mul', [g.matmul(queries, g.transpose(keys, [0, 2, 1])), g.scalar(D ** -0.5)]);
  const masked = g.op('Add', [g.reshape(scores, [nh, -1, 0]), mask]);
  const probs = g.op('Softmax', [masked], { axis: -1 });
  // Paper feature f3: the key with the highest attention summed over heads, per query token.
  const summed = g.op('ReduceSum', [probs, g.ints([0])], { keepdims: 0 });
  g.output(g.op('ArgMax', [summed], { axis: -1, keepdims: 0 }), layerIo.attentionArgmax, 'int64', ['T']);
  const context = g.matmul(g.reshape(probs, [nkv, -1, 0]), values);
  const merged = g.reshape(g.transpose(g.reshape(context, [nh, -1, D]), [1, 0, 2]), [-1, nh * D]);
  const attention = g.linear(
    merged,
    'o_proj',
    checkpoint.float32(`${n.attention(layer, 'o_proj')}.weight`, [H, nh * D]),
    H,
    nh * D,
  );
  const residual = g.op('Add', [x, attention]);
  g.output(residual, layerIo.attentionResidual, 'float', ['T', H]);
  const moeInput = g.rmsNorm(
    residual,
    'post_attention_norm',
    checkpoint.float32(n.postAttentionNorm(layer), [H]),
    c.rmsNormEps,
  );
  g.output(moeInput, layerIo.moeInput, 'float', ['T', H]);
  if (c.moeLayers.includes(layer)) {
    const E = c.numExperts;
    const logits = g.linear(layerIo.moeInput, 'router', checkpoint.float32(n.router(layer), [E, H]), E, H);
    g.output(logits, layerIo.routerLogits, 'float', ['T', E]);
    g.output(g.op('Softmax', [layerIo.routerLogits], { axis: -1 }), layerIo.routerProbs, 'float', ['T', E]);
  } else {
    const I = c.denseIntermediateSize;
    const mlp = swiglu(
      g,
      layerIo.moeInput,
      'mlp',
      checkpoint,
      { gate: n.denseMlp(layer, 'gate'), up: n.denseMlp(layer, 'up'), down: n.denseMlp(layer, 'down') },
      H,
      I,
    );
    g.output(g.op('Add', [layerIo.attentionResidual, mlp]), layerIo.layerOutput, 'float', ['T', H]);
  }
  return g.build();
}

/** Shared expert with its sigmoid gate (qwen2_moe): out = sigmoid(x·w_g) * SwiGLU(x). In process. */
export function buildGatedSharedExpertGraph(checkpoint: Checkpoint, layer: number): Uint8Array {
  const c = checkpoint.config;
  const n = c.names;
  const H = c.hiddenSize;
  const I = c.sharedExpertIntermediateSize;
  const g = new GraphBuilder(`layer${layer}_shared`);
  const x = g.input('hidden_states', 'float', ['T', H]);
  let y = swiglu(
    g,
    x,
    'shared',
    checkpoint,
    {
      gate: n.sharedExpert(layer, 'gate'),
      up: n.sharedExpert(layer, 'up'),
      down: n.sharedExpert(layer, 'down'),
    },
    H,
    I,
  );
  if (c.sharedExpertGated) {
    const gate = g.linear(x, 'shared_gate', checkpoint.float32(n.sharedExpertGate(layer), [1, H]), 1, H);
    y = g.op('Mul', [g.op('Sigmoid', [gate]), y]);
  }
  g.output(y, 'shared_output', 'float', ['T', H]);
  return g.build();
}

export function buildEmbeddingGraph(checkpoint: Checkpoint): Uint8Array {
  const c = checkpoint.config;
  const g = new GraphBuilder('embedding');
  const ids = g.input('input_ids', 'int64', ['T']);
  const table = g.weight(
    'embed_tokens',
    [c.vocabSize, c.hiddenSize],
    checkpoint.float32(c.names.embed, [c.vocabSize, c.hiddenSize]),
  );
  g.output(g.op('Gather', [table, ids], { axis: 0 }), 'hidden', 'float', ['T', c.hiddenSize]);
  return g.build();
}

/** Final norm + LM head: outputs `final_hidden` [T, H] and `logits` [T, V]. */
export function buildHeadGraph(checkpoint: Checkpoint): Uint8Array {
  const c = checkpoint.config;
  const H = c.hiddenSize;
  const V = c.vocabSize;
  const g = new GraphBuilder('head');
  const x = g.input('hidden', 'float', ['T', H]);
  const normed = g.rmsNorm(x, 'final_norm', checkpoint.float32(c.names.finalNorm, [H]), c.rmsNormEps);
  g.output(normed, 'final_hidden', 'float', ['T', H]);
  const headName = c.tieWordEmbeddings && !checkpoint.has(c.names.lmHead) ? c.names.embed : c.names.lmHead;
  g.output(
    g.linear('final_hidden', 'lm_head', checkpoint.float32(headName, [V, H]), V, H),
    'logits',
    'float',
    ['T', V],
  );
  return g.build();
}
