import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom, numberToBfloat16Bits, serializeSafetensors, type TensorInput } from '@switchyard/core';

/**
 * A seeded Hugging Face MoE checkpoint of any size with random weights: config.json plus one
 * safetensors shard per decoder layer and a model.safetensors.index.json, so a large checkpoint
 * never needs one multi-gigabyte buffer. Matrices are uniform in ±√(3 / fan-in) (unit-variance
 * activations stay unit-variance), norms 1 ± 0.1, so routing spreads over the experts.
 */
export interface SyntheticCheckpointSpec {
  /** `mixtral` (block_sparse_moe, w1/w2/w3) or `olmoe` (mlp.experts, q/k RMSNorm over the projection). */
  modelType: 'mixtral' | 'olmoe';
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numExperts: number;
  topK: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  vocabSize: number;
  maxPositionEmbeddings?: number;
  /** Storage type of every tensor (BF16 halves the files; the values are what both engines read). */
  dtype?: 'F32' | 'BF16';
  seed: number;
}

export interface SyntheticCheckpoint {
  dir: string;
  parameters: number;
  bytes: number;
}

export async function writeSyntheticCheckpoint(
  dir: string,
  spec: SyntheticCheckpointSpec,
): Promise<SyntheticCheckpoint> {
  const {
    hiddenSize: H,
    intermediateSize: I,
    numLayers: L,
    numExperts: E,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeads,
    vocabSize: V,
  } = spec;
  const headDim = H / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new Error(`hiddenSize ${H} does not split into ${heads} heads of an even size`);
  const dtype = spec.dtype ?? 'BF16';
  const olmoe = spec.modelType === 'olmoe';
  await mkdir(dir, { recursive: true });
  const config = {
    architectures: [olmoe ? 'OlmoeForCausalLM' : 'MixtralForCausalLM'],
    model_type: spec.modelType,
    hidden_size: H,
    intermediate_size: I,
    num_hidden_layers: L,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    [olmoe ? 'num_experts' : 'num_local_experts']: E,
    num_experts_per_tok: spec.topK,
    ...(olmoe ? { norm_topk_prob: false } : {}),
    rms_norm_eps: 1e-6,
    rope_theta: 10_000,
    vocab_size: V,
    max_position_embeddings: spec.maxPositionEmbeddings ?? 4096,
    tie_word_embeddings: false,
    hidden_act: 'silu',
  };
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  let seed = spec.seed;
  let parameters = 0;
  let bytes = 0;
  const weightMap: Record<string, string> = {};
  const tensor = (shape: number[], kind: 'matrix' | 'norm'): TensorInput => {
    const count = shape.reduce((a, b) => a * b, 1);
    const random = createRandom(seed++);
    const scale = kind === 'norm' ? 0.1 : Math.sqrt(3 / shape[shape.length - 1]!);
    const offset = kind === 'norm' ? 1 : 0;
    parameters += count;
    if (dtype === 'F32') {
      const values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = offset + (random() * 2 - 1) * scale;
      return { dtype, shape, data: values };
    }
    const bits = new Uint16Array(count);
    for (let i = 0; i < count; i++) bits[i] = numberToBfloat16Bits(offset + (random() * 2 - 1) * scale);
    return { dtype, shape, data: bits };
  };
  const writeShard = async (file: string, tensors: Record<string, TensorInput>) => {
    const encoded = serializeSafetensors(tensors);
    bytes += encoded.byteLength;
    await writeFile(join(dir, file), encoded);
    for (const name of Object.keys(tensors)) weightMap[name] = file;
  };

  const shards = L + 1;
  const shardName = (index: number) =>
    `model-${String(index + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
  await writeShard(shardName(0), {
    'model.embed_tokens.weight': tensor([V, H], 'matrix'),
    'model.norm.weight': tensor([H], 'norm'),
    'lm_head.weight': tensor([V, H], 'matrix'),
  });
  const block = olmoe ? 'mlp' : 'block_sparse_moe';
  const parts = olmoe
    ? { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' }
    : { gate: 'w1', up: 'w3', down: 'w2' };
  for (let layer = 0; layer < L; layer++) {
    const p = `model.layers.${layer}`;
    const tensors: Record<string, TensorInput> = {
      [`${p}.input_layernorm.weight`]: tensor([H], 'norm'),
      [`${p}.post_attention_layernorm.weight`]: tensor([H], 'norm'),
      [`${p}.self_attn.q_proj.weight`]: tensor([heads * headDim, H], 'matrix'),
      [`${p}.self_attn.k_proj.weight`]: tensor([kvHeads * headDim, H], 'matrix'),
      [`${p}.self_attn.v_proj.weight`]: tensor([kvHeads * headDim, H], 'matrix'),
      [`${p}.self_attn.o_proj.weight`]: tensor([H, heads * headDim], 'matrix'),
      [`${p}.${block}.gate.weight`]: tensor([E, H], 'matrix'),
    };
    if (olmoe) {
      tensors[`${p}.self_attn.q_norm.weight`] = tensor([heads * headDim], 'norm');
      tensors[`${p}.self_attn.k_norm.weight`] = tensor([kvHeads * headDim], 'norm');
    }
    for (let expert = 0; expert < E; expert++) {
      const e = `${p}.${block}.experts.${expert}`;
      tensors[`${e}.${parts.gate}.weight`] = tensor([I, H], 'matrix');
      tensors[`${e}.${parts.up}.weight`] = tensor([I, H], 'matrix');
      tensors[`${e}.${parts.down}.weight`] = tensor([H, I], 'matrix');
    }
    await writeShard(shardName(layer + 1), tensors);
  }
  await writeFile(
    join(dir, 'model.safetensors.index.json'),
    `${JSON.stringify({ metadata: { total_size: bytes }, weight_map: weightMap }, null, 2)}\n`,
  );
  return { dir, parameters, bytes };
}
