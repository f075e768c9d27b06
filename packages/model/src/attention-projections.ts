import type { Checkpoint } from './checkpoint.js';
import type { GraphBuilder } from './graph-builder.js';

function rotateHalf(g: GraphBuilder, x: string, headDim: number): string {
  const half = headDim / 2;
  const x1 = g.op('Slice', [x, g.ints([0]), g.ints([half]), g.ints([-1])]);
  const x2 = g.op('Slice', [x, g.ints([half]), g.ints([headDim]), g.ints([-1])]);
  return g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
}

function applyRope(g: GraphBuilder, x: string, cos: string, sin: string, headDim: number): string {
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotateHalf(g, x, headDim), sin])]);
}

/** De-interleaves the last axis (x0, y0, x1, y1, …) → (x0, x1, …, y0, y1, …), as deepseek's rope expects. */
function deinterleave(g: GraphBuilder, x: string, heads: number, dim: number): string {
  return g.reshape(g.transpose(g.reshape(x, [-1, heads, dim / 2, 2]), [0, 1, 3, 2]), [-1, heads, dim]);
}

/** Per-head queries, keys and values of one attention block, as graph values. */
export interface Projections {
  /** [T, nh, Dk] after rope. */
  q: string;
  /** [T, C, Dk] after rope. */
  k: string;
  /** [T, C, Dv]. */
  v: string;
}

/** q/k/v projections of multi-head or grouped-query attention, with q/k norms and rope. */
export function standardProjections(
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
  // One projection of `normed` to `size` features, with its bias where the architecture has one.
  const project = (part: 'q_proj' | 'k_proj' | 'v_proj', size: number) =>
    g.linear(
      normed,
      part,
      checkpoint.float32(`${n.attention(layer, part)}.weight`, [size, H]),
      size,
      H,
      c.attentionBias ? checkpoint.float32(`${n.attention(layer, part)}.bias`, [size]) : undefined,
    );
  let q = project('q_proj', nh * D);
  let k = project('k_proj', nkv * D);
  const v = project('v_proj', nkv * D);
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
export function mlaProjections(
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
