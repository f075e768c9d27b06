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

/** De-interleaves the last axis (x0, y0, x1, y1, …) → (x0, x1, …, y0, y1, …), as deepseek's rope expects. */
function deinterleave(g: GraphBuilder, x: string, heads: number, dim: number): string {
  return g.reshape(g.transpose(g.reshape(x, [-1, heads, dim / 2, 2]), [0, 1, 3, 2]), [-1, heads, dim]);
}

interface Projections {
  /** [T, nh, Dk] after rope. */
  q: string;
  /** [T, C, Dk] after rope. */
  k: string;
  /** [T, C, Dv]. */
  v: string;
}

function standardProjections(
  g: GraphBuilder,
  checkpoint: Checkpoint,
  layer: number,
  normed: string,
  cos: string,
  sin: string,
): Projections {
  const c = checkpoint.config;
  const n = c.names;
  const H = c.hiddenSize;
  const D = c.headDim;
  const nh = c.numAttentionHeads;
  const nkv = c.numKeyValueHeads;
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
  return { q: applyRope(g, q, cos, sin, D), k: applyRope(g, k, cos, sin, D), v: g.reshape(v, [-1, nkv, D]) };
}

/** Multi-head latent attention projections (deepseek_v3), expanded to per-head keys/values. */
function mlaProjections(
  g: GraphBuilder,
  checkpoint: Checkpoint,
  layer: number,
  normed: string,
  cos: string,
  sin: string,
): Projections {
  const c = checkpoint.config;
  const mla = c.mla!;
  const a = (part: string) => `${c.names.attention(layer, part)}.weight`;
  const H = c.hiddenSize;
  const nh = c.numAttentionHeads;
  const nope = mla.qkNopeHeadDim;
  const rd = mla.qkRopeHeadDim;
  const vd = mla.vHeadDim;
  const Dk = nope + rd;
  let q: string;
  if (mla.qLoraRank) {
    const r = mla.qLoraRank;
    const qa = g.rmsNorm(
      g.linear(normed, 'q_a_proj', checkpoint.float32(a('q_a_proj'), [r, H]), r, H),
      'q_a_layernorm',
      checkpoint.float32(a('q_a_layernorm'), [r]),
      c.rmsNormEps,
    );
    q = g.linear(qa, 'q_b_proj', checkpoint.float32(a('q_b_proj'), [nh * Dk, r]), nh * Dk, r);
  } else {
    q = g.linear(normed, 'q_proj', checkpoint.float32(a('q_proj'), [nh * Dk, H]), nh * Dk, H);
  }
  q = g.reshape(q, [-1, nh, Dk]);
  const slice = (x: string, from: number, to: number) =>
    g.op('Slice', [x, g.ints([from]), g.ints([to]), g.ints([-1])]);
  const qNope = slice(q, 0, nope);
  let qPe = slice(q, nope, Dk);
  const kvr = mla.kvLoraRank;
  const compressed = g.linear(
    normed,
    'kv_a_proj_with_mqa',
    checkpoint.float32(a('kv_a_proj_with_mqa'), [kvr + rd, H]),
    kvr + rd,
    H,
  );
  const kPass = g.rmsNorm(
    slice(compressed, 0, kvr),
    'kv_a_layernorm',
    checkpoint.float32(a('kv_a_layernorm'), [kvr]),
    c.rmsNormEps,
  );
  let kPe = g.reshape(slice(compressed, kvr, kvr + rd), [-1, 1, rd]);
  const kv = g.reshape(
    g.linear(
      kPass,
      'kv_b_proj',
      checkpoint.float32(a('kv_b_proj'), [nh * (nope + vd), kvr]),
      nh * (nope + vd),
      kvr,
    ),
    [-1, nh, nope + vd],
  );
  const kNope = slice(kv, 0, nope);
  const v = slice(kv, nope, nope + vd);
  if (c.rope.interleave) {
    qPe = deinterleave(g, qPe, nh, rd);
    kPe = deinterleave(g, kPe, 1, rd);
  }
  qPe = applyRope(g, qPe, cos, sin, rd);
  kPe = g.op('Expand', [applyRope(g, kPe, cos, sin, rd), g.ints([1, nh, 1])]);
  return { q: g.op('Concat', [qNope, qPe], { axis: -1 }), k: g.op('Concat', [kNope, kPe], { axis: -1 }), v };
}

/** `buildLayerGraph` as a GraphBuilder, before encoding (the runtime writes its weights as external data). */
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
  return g;
}

/** The dense part of decoder layer `layer` (attention with KV cache, norms, router or dense MLP). */
export function buildLayerGraph(checkpoint: Checkpoint, layer: number): Uint8Array {
  return layerGraph(checkpoint, layer).build();
}

/** `buildGatedSharedExpertGraph` as a GraphBuilder, before encoding (the runtime writes its weights as external data). */
export function gatedSharedExpertGraph(checkpoint: Checkpoint, layer: number): GraphBuilder {
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
  return g;
}

/** Shared expert with its sigmoid gate (qwen2_moe): out = sigmoid(x·w_g) * SwiGLU(x). In process. */
export function buildGatedSharedExpertGraph(checkpoint: Checkpoint, layer: number): Uint8Array {
  return gatedSharedExpertGraph(checkpoint, layer).build();
}

/** `buildEmbeddingGraph` as a GraphBuilder, before encoding (the runtime writes its weights as external data). */
export function embeddingGraph(checkpoint: Checkpoint): GraphBuilder {
  const c = checkpoint.config;
  const g = new GraphBuilder('embedding');
  const ids = g.input('input_ids', 'int64', ['T']);
  const table = g.weight(
    'embed_tokens',
    [c.vocabSize, c.hiddenSize],
    checkpoint.float32(c.names.embed, [c.vocabSize, c.hiddenSize]),
  );
  g.output(g.op('Gather', [table, ids], { axis: 0 }), 'hidden', 'float', ['T', c.hiddenSize]);
  return g;
}

/** ONNX bytes of `embeddingGraph`. */
export function buildEmbeddingGraph(checkpoint: Checkpoint): Uint8Array {
  return embeddingGraph(checkpoint).build();
}

/** `buildHeadGraph` as a GraphBuilder, before encoding (the runtime writes its weights as external data). */
export function headGraph(checkpoint: Checkpoint): GraphBuilder {
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
  return g;
}

/** Final norm + LM head: outputs `final_hidden` [T, H] and `logits` [T, V]. */
export function buildHeadGraph(checkpoint: Checkpoint): Uint8Array {
  return headGraph(checkpoint).build();
}
