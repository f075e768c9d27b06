import { mlaProjections, standardProjections } from './attention-projections.js';
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

/**
 * The dense part of decoder layer `layer` (attention with KV cache, norms, router or dense MLP), as a
 * GraphBuilder (the runtime writes its weights as external data).
 */
export function layerGraph(checkpoint: Checkpoint, layer: number): GraphBuilder {
  const c: ModelConfig = checkpoint.config;
  const n = c.names;
  const H = c.hiddenSize;
  const nh = c.numAttentionHeads;
  const C = c.cacheHeads;
  const Dk = c.keyDim;
  const Dv = c.valueDim;
  const Rd = c.rope.dim;
  const g = new GraphBuilder(`layer${layer}`);
  const x = g.input(layerIo.hidden, 'float', ['T', H]);
  const cos = g.reshape(g.input(layerIo.cos, 'float', ['T', Rd]), [-1, 1, Rd]);
  const sin = g.reshape(g.input(layerIo.sin, 'float', ['T', Rd]), [-1, 1, Rd]);
  const pastKey = g.input(layerIo.pastKey, 'float', [C, 'P', Dk]);
  const pastValue = g.input(layerIo.pastValue, 'float', [C, 'P', Dv]);
  const mask = g.input(layerIo.mask, 'float', ['T', 'S']);

  const normed = g.rmsNorm(x, 'input_norm', checkpoint.float32(n.inputNorm(layer), [H]), c.rmsNormEps);
  const { q, k, v } = c.mla
    ? mlaProjections(g, checkpoint, layer, normed, cos, sin)
    : standardProjections(g, checkpoint, layer, normed, cos, sin);
  g.output(g.transpose(k, [1, 0, 2]), layerIo.key, 'float', [C, 'T', Dk]);
  g.output(g.transpose(v, [1, 0, 2]), layerIo.value, 'float', [C, 'T', Dv]);
  const keys = g.op('Concat', [pastKey, layerIo.key], { axis: 1 });
  const values = g.op('Concat', [pastValue, layerIo.value], { axis: 1 });
  // Query heads grouped by their key/value head: [C, group*T, Dk].
  const queries = g.reshape(g.transpose(q, [1, 0, 2]), [C, -1, Dk]);
  const scores = g.op('Mul', [g.matmul(queries, g.transpose(keys, [0, 2, 1])), g.scalar(Dk ** -0.5)]);
  const masked = g.op('Add', [g.reshape(scores, [nh, -1, 0]), mask]);
  let probs: string;
  if (c.attentionSinks) {
    // gpt_oss: a learned per-head logit joins the softmax as an extra column, then is dropped.
    const sinks = g.reshape(g.weight('sinks', [nh], checkpoint.float32(n.attention(layer, 'sinks'), [nh])), [
      nh,
      1,
      1,
    ]);
    const shape = g.op(
      'Concat',
      [g.op('Slice', [g.op('Shape', [masked]), g.ints([0]), g.ints([2]), g.ints([0])]), g.ints([1])],
      { axis: 0 },
    );
    const withSinks = g.op('Concat', [masked, g.op('Expand', [sinks, shape])], { axis: -1 });
    const all = g.op('Softmax', [withSinks], { axis: -1 });
    const width = g.op('Slice', [g.op('Shape', [masked]), g.ints([2]), g.ints([3]), g.ints([0])]);
    probs = g.op('Slice', [all, g.ints([0]), width, g.ints([-1])]);
  } else {
    probs = g.op('Softmax', [masked], { axis: -1 });
  }
  // Paper feature f3: the key with the highest attention summed over heads, per query token.
  const summed = g.op('ReduceSum', [probs, g.ints([0])], { keepdims: 0 });
  g.output(g.op('ArgMax', [summed], { axis: -1, keepdims: 0 }), layerIo.attentionArgmax, 'int64', ['T']);
  const context = g.matmul(g.reshape(probs, [C, -1, 0]), values);
  const merged = g.reshape(g.transpose(g.reshape(context, [nh, -1, Dv]), [1, 0, 2]), [-1, nh * Dv]);
  const oBias = c.attentionOutputBias
    ? checkpoint.float32(`${n.attention(layer, 'o_proj')}.bias`, [H])
    : undefined;
  const attention = g.linear(
    merged,
    'o_proj',
    checkpoint.float32(`${n.attention(layer, 'o_proj')}.weight`, [H, nh * Dv]),
    H,
    nh * Dv,
    oBias,
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
    const routerBias = c.routerBias
      ? checkpoint.float32(n.router(layer).replace(/weight$/, 'bias'), [E])
      : undefined;
    const logits = g.linear(
      layerIo.moeInput,
      'router',
      checkpoint.float32(n.router(layer), [E, H]),
      E,
      H,
      routerBias,
    );
    g.output(logits, layerIo.routerLogits, 'float', ['T', E]);
    const scores =
      c.routing === 'sigmoid-group-topk'
        ? g.op('Sigmoid', [layerIo.routerLogits])
        : g.op('Softmax', [layerIo.routerLogits], { axis: -1 });
    g.output(scores, layerIo.routerProbs, 'float', ['T', E]);
  } else {
    const I = c.denseIntermediateSize;
    const mlp = g.swiglu(
      layerIo.moeInput,
      { gate: 'mlp.gate', up: 'mlp.up', down: 'mlp.down' },
      {
        gate: checkpoint.float32(n.denseMlp(layer, 'gate'), [I, H]),
        up: checkpoint.float32(n.denseMlp(layer, 'up'), [I, H]),
        down: checkpoint.float32(n.denseMlp(layer, 'down'), [H, I]),
      },
      H,
      I,
    );
    g.output(g.op('Add', [layerIo.attentionResidual, mlp]), layerIo.layerOutput, 'float', ['T', H]);
  }
  return g;
}
