/**
 * Makes a random-init OLMoE-shaped checkpoint with 64 experts, top-8 (hidden 64, 4 layers, byte
 * vocabulary), records its routing on tinyshakespeare calibration and held-out splits with
 * @switchyard/model, and writes the traces to fixtures/traces/olmoe-64x8-random/.
 *
 *   node --conditions=@switchyard/source --import tsx scripts/record-many-expert-traces.ts
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createRandom,
  randomNormal,
  serializeRoutingTrace,
  serializeSafetensors,
  type TensorInput,
} from '@switchyard/core';
import { loadModel, recordTrace } from '@switchyard/model';

const root = resolve(import.meta.dirname, '../../..');
const out = join(root, 'fixtures/traces/olmoe-64x8-random');
const config = {
  architectures: ['OlmoeForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  clip_qkv: null,
  dtype: 'float32',
  hidden_act: 'silu',
  hidden_size: 64,
  initializer_range: 0.15,
  intermediate_size: 32,
  max_position_embeddings: 256,
  model_type: 'olmoe',
  norm_topk_prob: false,
  num_attention_heads: 4,
  num_experts: 64,
  num_experts_per_tok: 8,
  num_hidden_layers: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_parameters: { rope_theta: 10000.0, rope_type: 'default' },
  tie_word_embeddings: false,
  vocab_size: 256,
};

const random = createRandom(20261128);
function tensor(shape: number[], scale: number, offset = 0): TensorInput {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = offset + scale * randomNormal(random);
  return { dtype: 'F32', shape, data };
}

const H = config.hidden_size;
const I = config.intermediate_size;
const heads = config.num_attention_heads;
const kvHeads = config.num_key_value_heads;
const headDim = H / heads;
const scale = config.initializer_range;
const tensors: Record<string, TensorInput> = {
  'lm_head.weight': tensor([256, H], scale),
  'model.embed_tokens.weight': tensor([256, H], 1),
  'model.norm.weight': tensor([H], 0.05, 1),
};
for (let layer = 0; layer < config.num_hidden_layers; layer++) {
  const p = `model.layers.${layer}`;
  tensors[`${p}.input_layernorm.weight`] = tensor([H], 0.05, 1);
  tensors[`${p}.post_attention_layernorm.weight`] = tensor([H], 0.05, 1);
  tensors[`${p}.self_attn.q_proj.weight`] = tensor([H, H], scale);
  tensors[`${p}.self_attn.k_proj.weight`] = tensor([kvHeads * headDim, H], scale);
  tensors[`${p}.self_attn.v_proj.weight`] = tensor([kvHeads * headDim, H], scale);
  tensors[`${p}.self_attn.o_proj.weight`] = tensor([H, H], scale);
  tensors[`${p}.self_attn.q_norm.weight`] = tensor([H], 0.05, 1);
  tensors[`${p}.self_attn.k_norm.weight`] = tensor([kvHeads * headDim], 0.05, 1);
  tensors[`${p}.mlp.gate.weight`] = tensor([config.num_experts, H], scale);
  for (let expert = 0; expert < config.num_experts; expert++) {
    const e = `${p}.mlp.experts.${expert}`;
    tensors[`${e}.gate_proj.weight`] = tensor([I, H], scale);
    tensors[`${e}.up_proj.weight`] = tensor([I, H], scale);
    tensors[`${e}.down_proj.weight`] = tensor([H, I], scale);
  }
}

const checkpoint = mkdtempSync(join(tmpdir(), 'olmoe-64x8-'));
try {
  writeFileSync(join(checkpoint, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(checkpoint, 'model.safetensors'), serializeSafetensors(tensors));
  const model = await loadModel(checkpoint, { name: 'olmoe-64x8-random' });
  const text = readFileSync(join(root, 'fixtures/data/tinyshakespeare.txt'));
  // Calibration from the start of the file, held-out from its last tenth (as the shakespeare fixtures).
  const splits = [
    { part: 'calibration', offset: 0, tokens: 16_384 },
    { part: 'heldout', offset: text.length - 16_384 - 1, tokens: 16_384 },
  ];
  mkdirSync(out, { recursive: true });
  for (const split of splits) {
    const bytes = text.subarray(split.offset, split.offset + split.tokens);
    const trace = await recordTrace(model, bytes, {
      chunk: 256,
      meta: { part: split.part, byte_offset: split.offset },
      onProgress: (done, total) => process.stderr.write(`\r${split.part} ${done}/${total}`),
    });
    process.stderr.write('\n');
    const { safetensors, json } = serializeRoutingTrace(trace);
    writeFileSync(join(out, `${split.part}.safetensors`), safetensors);
    writeFileSync(join(out, `${split.part}.json`), json);
  }
  await model.close?.();
} finally {
  rmSync(checkpoint, { recursive: true, force: true });
}
process.stdout.write(`wrote ${out}\n`);
