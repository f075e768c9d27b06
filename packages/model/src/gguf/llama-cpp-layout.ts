import type { Checkpoint } from '../checkpoint.js';
import type { ModelConfig } from '../config.js';
import { ModelError } from '../errors.js';
import { type GgufTensorType, type GgufValue, ggufFileTypes } from './gguf-format.js';
import type { GgufContents, GgufTensor } from './gguf-writer.js';

/**
 * How llama.cpp names and describes a Hugging Face MoE checkpoint: its GGUF architecture, the
 * `{architecture}.*` hyper-parameter keys and the `blk.{layer}.*` tensor names its loader looks up.
 * Facts from llama.cpp's model loader (llama-arch / llama-model); the code is ours.
 */
export interface LlamaCppExport {
  /** GGUF `general.architecture`, e.g. `llama` for a Mixtral checkpoint. */
  architecture: string;
  contents: GgufContents;
}

export interface LlamaCppLayoutOptions {
  /** Type of the large matrices; norms and routers stay F32, as llama.cpp's own converter keeps them. */
  tensorType: GgufTensorType;
  name: string;
}

const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
const f32 = (value: number): GgufValue => ({ type: 'float32', value });
const str = (value: string): GgufValue => ({ type: 'string', value });

/**
 * GPT-2's byte → printable-character map (every byte gets a visible character; bytes that are not
 * printable Latin-1 take code points from 256 up, in byte order). A byte-level BPE vocabulary lists
 * its tokens in this alphabet.
 */
export function byteToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : next++));
  return out;
}

/**
 * A byte-level vocabulary for checkpoints without a tokenizer (token id = UTF-8 byte): llama.cpp's
 * "gpt2" BPE vocabulary with the 256 byte tokens and no merges, so llama.cpp tokenizes text into
 * bytes exactly as Switchyard's byte-level models expect; ids past 255 are placeholder tokens. (The
 * "none" vocabulary llama.cpp also knows cannot be used: node-llama-cpp tokenizes on load and aborts.)
 * No BOS is added.
 */
export function byteLevelVocabulary(vocabSize: number): Record<string, GgufValue> {
  const bytes = byteToUnicode();
  const tokens = Array.from({ length: vocabSize }, (_, id) =>
    id < 256 ? bytes[id]! : `<placeholder_${id}>`,
  );
  return {
    'tokenizer.ggml.model': str('gpt2'),
    'tokenizer.ggml.pre': str('default'),
    'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: tokens },
    // 1 = normal token, 5 = unused.
    'tokenizer.ggml.token_type': {
      type: 'array',
      itemType: 'int32',
      value: tokens.map((_, id) => (id < 256 ? 1 : 5)),
    },
    'tokenizer.ggml.merges': { type: 'array', itemType: 'string', value: [] },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
  };
}

/**
 * llama.cpp's `llama` architecture applies rope to adjacent pairs (x0, x1), (x2, x3), …; Hugging Face
 * Llama/Mixtral checkpoints rotate the two halves of each head (x_i, x_{i+d/2}). Reordering the rows
 * of q_proj and k_proj per head — GGUF row 2i+j is hub row j·d/2 + i — makes the two agree (the same
 * reordering llama.cpp's converter applies).
 */
export function interleaveRopeRows(weight: Float32Array, heads: number, columns: number): Float32Array {
  const rows = weight.length / columns;
  const headDim = rows / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `${rows} rows do not split into ${heads} heads of an even size`,
      location: 'interleaveRopeRows',
    });
  const half = headDim / 2;
  const out = new Float32Array(weight.length);
  for (let head = 0; head < heads; head++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (head * headDim + j * half + i) * columns;
        const to = (head * headDim + 2 * i + j) * columns;
        out.set(weight.subarray(from, from + columns), to);
      }
    }
  }
  return out;
}

/** The routed experts of one layer stacked into [experts, rows, columns] (llama.cpp's `*_exps` tensors). */
function stackedExperts(
  checkpoint: Checkpoint,
  layer: number,
  part: 'gate' | 'up' | 'down',
  shape: [number, number],
): () => Float32Array {
  const { config } = checkpoint;
  return () => {
    const size = shape[0] * shape[1];
    const out = new Float32Array(config.numExperts * size);
    for (let expert = 0; expert < config.numExperts; expert++)
      out.set(checkpoint.float32(config.names.expert(layer, expert, part), shape), expert * size);
    return out;
  };
}

function unsupported(config: ModelConfig, reason: string, field: string): ModelError {
  return new ModelError({
    code: 'UNSUPPORTED_ARCHITECTURE',
    message: `cannot export ${config.architecture} to GGUF: ${reason}`,
    location: `config.json: ${field}`,
  });
}

/** What differs between the llama.cpp architectures written here. */
interface ArchitectureSpec {
  /** GGUF `general.architecture`. */
  gguf: string;
  /** llama.cpp rotates adjacent pairs (`llama`): q/k rows are reordered; the others rotate halves, as the hub does. */
  interleaveRope: boolean;
  /** llama.cpp's fixed choice of renormalising the top-k router weights for this architecture. */
  normTopkProb: boolean;
}

const architectureSpecs: Partial<Record<ModelConfig['architecture'], ArchitectureSpec>> = {
  mixtral: { gguf: 'llama', interleaveRope: true, normTopkProb: true },
  qwen2_moe: { gguf: 'qwen2moe', interleaveRope: false, normTopkProb: false },
  qwen3_moe: { gguf: 'qwen3moe', interleaveRope: false, normTopkProb: true },
  olmoe: { gguf: 'olmoe', interleaveRope: false, normTopkProb: false },
};

/** Architectures with a llama.cpp layout here (model_type → GGUF architecture). */
export const llamaCppArchitectures = Object.fromEntries(
  Object.entries(architectureSpecs).map(([modelType, spec]) => [modelType, spec!.gguf]),
) as Readonly<Record<string, string>>;

/** Refuses what llama.cpp's loader for the architecture would compute differently from the checkpoint. */
function checkExportable(c: ModelConfig, spec: ArchitectureSpec): void {
  if (c.rope.kind !== 'default') throw unsupported(c, `rope ${c.rope.kind} is not written`, 'rope_scaling');
  if (c.slidingWindows.some((w) => w !== null))
    throw unsupported(c, 'sliding-window attention is not written', 'sliding_window');
  if (c.moeLayers.length !== c.numLayers)
    throw unsupported(c, `llama.cpp's ${spec.gguf} has a MoE block in every layer`, 'mlp_only_layers');
  if (c.normTopkProb !== spec.normTopkProb)
    throw unsupported(
      c,
      `llama.cpp's ${spec.gguf} ${spec.normTopkProb ? 'renormalises' : 'does not renormalise'} the top-k router weights`,
      'norm_topk_prob',
    );
  if (c.qkNorm === 'full' && c.numKeyValueHeads !== c.numAttentionHeads)
    throw unsupported(
      c,
      `llama.cpp's ${spec.gguf} normalises k over the hidden size, so it needs as many key/value heads as attention heads (${c.numKeyValueHeads} ≠ ${c.numAttentionHeads})`,
      'num_key_value_heads',
    );
  if (c.sharedExpertIntermediateSize > 0 && !c.sharedExpertGated)
    throw unsupported(c, 'an ungated shared expert is not written', 'shared_expert_intermediate_size');
}

/**
 * The decoder-only MoE layout llama.cpp shares across `llama` (Mixtral), `qwen2moe`, `qwen3moe` and
 * `olmoe`: softmax router, stacked SwiGLU experts, optional q/k/v biases, q/k RMSNorm per head
 * (qwen3) or over the projection (olmoe), and a sigmoid-gated shared expert (qwen2).
 */
function decoderMoeLayout(
  checkpoint: Checkpoint,
  options: LlamaCppLayoutOptions,
  spec: ArchitectureSpec,
): LlamaCppExport {
  const c = checkpoint.config;
  checkExportable(c, spec);
  const arch = spec.gguf;
  const H = c.hiddenSize;
  const I = c.expertIntermediateSize;
  const S = c.sharedExpertIntermediateSize;
  const qRows = c.numAttentionHeads * c.headDim;
  const kvRows = c.numKeyValueHeads * c.headDim;
  const maxPositions = checkpoint.rawConfig.max_position_embeddings;
  const metadata: Record<string, GgufValue> = {
    'general.architecture': str(arch),
    'general.name': str(options.name),
    'general.file_type': u32(ggufFileTypes[options.tensorType]),
    [`${arch}.vocab_size`]: u32(c.vocabSize),
    [`${arch}.context_length`]: u32(typeof maxPositions === 'number' ? maxPositions : 4096),
    [`${arch}.embedding_length`]: u32(H),
    [`${arch}.block_count`]: u32(c.numLayers),
    [`${arch}.feed_forward_length`]: u32(I),
    [`${arch}.expert_feed_forward_length`]: u32(I),
    ...(S > 0 ? { [`${arch}.expert_shared_feed_forward_length`]: u32(S) } : {}),
    [`${arch}.attention.head_count`]: u32(c.numAttentionHeads),
    [`${arch}.attention.head_count_kv`]: u32(c.numKeyValueHeads),
    [`${arch}.attention.key_length`]: u32(c.headDim),
    [`${arch}.attention.value_length`]: u32(c.headDim),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(c.rmsNormEps),
    [`${arch}.rope.dimension_count`]: u32(c.rope.dim),
    [`${arch}.rope.freq_base`]: f32(c.rope.theta),
    [`${arch}.expert_count`]: u32(c.numExperts),
    [`${arch}.expert_used_count`]: u32(c.topK),
    ...byteLevelVocabulary(c.vocabSize),
  };
  const big = options.tensorType;
  const n = c.names;
  const tensor = (
    name: string,
    shape: number[],
    type: GgufTensorType,
    data: () => Float32Array,
  ): GgufTensor => ({
    name,
    shape,
    type,
    data,
  });
  const read = (name: string, shape: number[]) => () => checkpoint.float32(name, shape);
  const ropeRows = (name: string, rows: number, heads: number) =>
    spec.interleaveRope
      ? () => interleaveRopeRows(checkpoint.float32(name, [rows, H]), heads, H)
      : read(name, [rows, H]);
  const ropeBias = (name: string, rows: number, heads: number) =>
    spec.interleaveRope
      ? () => interleaveRopeRows(checkpoint.float32(name, [rows]), heads, 1)
      : read(name, [rows]);
  const tensors: GgufTensor[] = [
    tensor('token_embd.weight', [c.vocabSize, H], big, read(n.embed, [c.vocabSize, H])),
  ];
  for (let layer = 0; layer < c.numLayers; layer++) {
    const blk = `blk.${layer}`;
    const attention = (part: string) => n.attention(layer, part);
    tensors.push(
      tensor(`${blk}.attn_norm.weight`, [H], 'F32', read(n.inputNorm(layer), [H])),
      tensor(
        `${blk}.attn_q.weight`,
        [qRows, H],
        big,
        ropeRows(attention('q_proj.weight'), qRows, c.numAttentionHeads),
      ),
      tensor(
        `${blk}.attn_k.weight`,
        [kvRows, H],
        big,
        ropeRows(attention('k_proj.weight'), kvRows, c.numKeyValueHeads),
      ),
      tensor(`${blk}.attn_v.weight`, [kvRows, H], big, read(attention('v_proj.weight'), [kvRows, H])),
    );
    if (c.attentionBias)
      tensors.push(
        tensor(
          `${blk}.attn_q.bias`,
          [qRows],
          'F32',
          ropeBias(attention('q_proj.bias'), qRows, c.numAttentionHeads),
        ),
        tensor(
          `${blk}.attn_k.bias`,
          [kvRows],
          'F32',
          ropeBias(attention('k_proj.bias'), kvRows, c.numKeyValueHeads),
        ),
        tensor(`${blk}.attn_v.bias`, [kvRows], 'F32', read(attention('v_proj.bias'), [kvRows])),
      );
    if (c.qkNorm !== 'none') {
      // Per head (qwen3: [head_dim]) or over the whole projection (olmoe: [heads·head_dim]).
      const [qSize, kSize] = c.qkNorm === 'head' ? [c.headDim, c.headDim] : [qRows, kvRows];
      tensors.push(
        tensor(`${blk}.attn_q_norm.weight`, [qSize], 'F32', read(attention('q_norm.weight'), [qSize])),
        tensor(`${blk}.attn_k_norm.weight`, [kSize], 'F32', read(attention('k_norm.weight'), [kSize])),
      );
    }
    tensors.push(
      tensor(`${blk}.attn_output.weight`, [H, qRows], big, read(attention('o_proj.weight'), [H, qRows])),
      tensor(`${blk}.ffn_norm.weight`, [H], 'F32', read(n.postAttentionNorm(layer), [H])),
      tensor(
        `${blk}.ffn_gate_inp.weight`,
        [c.numExperts, H],
        'F32',
        read(n.router(layer), [c.numExperts, H]),
      ),
      tensor(
        `${blk}.ffn_gate_exps.weight`,
        [c.numExperts, I, H],
        big,
        stackedExperts(checkpoint, layer, 'gate', [I, H]),
      ),
      tensor(
        `${blk}.ffn_down_exps.weight`,
        [c.numExperts, H, I],
        big,
        stackedExperts(checkpoint, layer, 'down', [H, I]),
      ),
      tensor(
        `${blk}.ffn_up_exps.weight`,
        [c.numExperts, I, H],
        big,
        stackedExperts(checkpoint, layer, 'up', [I, H]),
      ),
    );
    if (S > 0)
      tensors.push(
        // The shared expert's sigmoid gate is one row [1, H]; llama.cpp keeps it as a vector.
        tensor(`${blk}.ffn_gate_inp_shexp.weight`, [H], 'F32', read(n.sharedExpertGate(layer), [1, H])),
        tensor(`${blk}.ffn_gate_shexp.weight`, [S, H], big, read(n.sharedExpert(layer, 'gate'), [S, H])),
        tensor(`${blk}.ffn_up_shexp.weight`, [S, H], big, read(n.sharedExpert(layer, 'up'), [S, H])),
        tensor(`${blk}.ffn_down_shexp.weight`, [H, S], big, read(n.sharedExpert(layer, 'down'), [H, S])),
      );
  }
  tensors.push(tensor('output_norm.weight', [H], 'F32', read(n.finalNorm, [H])));
  // A tied head has no output.weight: llama.cpp then uses token_embd.weight.
  if (!c.tieWordEmbeddings)
    tensors.push(tensor('output.weight', [c.vocabSize, H], big, read(n.lmHead, [c.vocabSize, H])));
  return { architecture: arch, contents: { metadata, tensors } };
}

/** The GGUF contents llama.cpp expects for this checkpoint; UNSUPPORTED_ARCHITECTURE names what is not written. */
export function llamaCppLayout(checkpoint: Checkpoint, options: LlamaCppLayoutOptions): LlamaCppExport {
  const architecture = checkpoint.config.architecture;
  const spec = architectureSpecs[architecture];
  if (spec) return decoderMoeLayout(checkpoint, options, spec);
  throw new ModelError({
    code: 'UNSUPPORTED_ARCHITECTURE',
    message: `no GGUF layout for model_type ${JSON.stringify(architecture)}; exportable: ${Object.keys(llamaCppArchitectures).join(', ')}`,
    location: `${checkpoint.dir}/config.json: model_type`,
  });
}
