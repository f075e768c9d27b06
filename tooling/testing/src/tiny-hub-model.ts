import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRandom,
  numberToBfloat16Bits,
  type RandomSource,
  serializeSafetensors,
  type TensorInput,
} from '@switchyard/core';
import {
  gptOssChatTemplatePath,
  type TokenizerFixtureName,
  tokenizerFixtureDir,
} from './tokenizer-fixtures.js';

/** The architecture each tokenizer fixture comes with, and the hub model's vocabulary and EOS ids. */
export const tinyHubModels = {
  // Qwen3-30B-A3B: vocab 151936, generation_config eos [151645, 151643].
  qwen3: {
    architecture: 'qwen3_moe',
    vocabSize: 151_936,
    eosTokenIds: [151_645, 151_643],
    bosTokenId: 151_643,
  },
  // DeepSeek-V3: vocab 129280, bos 0, eos 1.
  deepseek_v3: { architecture: 'deepseek_v3', vocabSize: 129_280, eosTokenIds: [1], bosTokenId: 0 },
  // gpt-oss-20b: vocab 201088, eos <|return|> <|endoftext|> <|call|>.
  gptoss: {
    architecture: 'gpt_oss',
    vocabSize: 201_088,
    eosTokenIds: [200_002, 199_999, 200_012],
    bosTokenId: 199_998,
  },
  // A Mixtral with Llama 3.1's vocabulary: eos <|end_of_text|> <|eom_id|> <|eot_id|>.
  llama3_1: {
    architecture: 'mixtral',
    vocabSize: 128_256,
    eosTokenIds: [128_001, 128_008, 128_009],
    bosTokenId: 128_000,
  },
  // Mixtral's own SentencePiece vocabulary is Llama 2's: 32000 tokens, bos 1, eos 2.
  llama2: { architecture: 'mixtral', vocabSize: 32_000, eosTokenIds: [2], bosTokenId: 1 },
} as const satisfies Record<
  TokenizerFixtureName,
  { architecture: string; vocabSize: number; eosTokenIds: readonly number[]; bosTokenId: number }
>;

export interface TinyHubModelOptions {
  /** Seed of the random weights (default 1). */
  seed?: number;
  /** Where to write (default: a new temporary directory). */
  dir?: string;
  /** config.json's max_position_embeddings (default 512). */
  maxPositionEmbeddings?: number;
}

export interface TinyHubModel {
  dir: string;
  name: TokenizerFixtureName;
  architecture: string;
  vocabSize: number;
  eosTokenIds: readonly number[];
  /** Removes the directory (when the helper made it). */
  remove(): Promise<void>;
}

// Small on purpose: hidden 32, 2 layers, 4 experts of width 16, top-2; the embedding and LM head carry
// the real vocabulary, so they are most of the file (BF16).
const hidden = 32;
const heads = 4;
const headDim = 8;
const keyValueHeads = 2;
const experts = 4;
const expertWidth = 16;
const denseWidth = 32;
const layers = 2;

function configFor(
  architecture: string,
  vocabSize: number,
  maxPositions: number,
  bosTokenId: number,
  eosTokenId: number,
) {
  const common = {
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: keyValueHeads,
    head_dim: headDim,
    vocab_size: vocabSize,
    max_position_embeddings: maxPositions,
    rms_norm_eps: 1e-6,
    num_experts_per_tok: 2,
    tie_word_embeddings: false,
    hidden_act: 'silu',
    bos_token_id: bosTokenId,
    eos_token_id: eosTokenId,
    torch_dtype: 'bfloat16',
  };
  switch (architecture) {
    case 'qwen3_moe':
      return {
        ...common,
        architectures: ['Qwen3MoeForCausalLM'],
        model_type: 'qwen3_moe',
        num_experts: experts,
        moe_intermediate_size: expertWidth,
        intermediate_size: denseWidth,
        norm_topk_prob: true,
        decoder_sparse_step: 1,
        mlp_only_layers: [],
        attention_bias: false,
        rope_theta: 1_000_000,
      };
    case 'mixtral':
      return {
        ...common,
        architectures: ['MixtralForCausalLM'],
        model_type: 'mixtral',
        num_local_experts: experts,
        intermediate_size: expertWidth,
        rope_theta: 1_000_000,
      };
    case 'gpt_oss':
      return {
        ...common,
        architectures: ['GptOssForCausalLM'],
        model_type: 'gpt_oss',
        num_local_experts: experts,
        intermediate_size: expertWidth,
        attention_bias: true,
        sliding_window: 8,
        layer_types: ['sliding_attention', 'full_attention'],
        rope_parameters: {
          rope_type: 'yarn',
          rope_theta: 150_000,
          factor: 32,
          beta_fast: 32,
          beta_slow: 1,
          original_max_position_embeddings: 4096,
          truncate: false,
        },
      };
    case 'deepseek_v3':
      return {
        ...common,
        architectures: ['DeepseekV3ForCausalLM'],
        model_type: 'deepseek_v3',
        head_dim: 4,
        num_key_value_heads: heads,
        n_routed_experts: experts,
        n_shared_experts: 1,
        moe_intermediate_size: expertWidth,
        intermediate_size: denseWidth,
        first_k_dense_replace: 1,
        n_group: 2,
        topk_group: 1,
        routed_scaling_factor: 2.5,
        norm_topk_prob: true,
        q_lora_rank: 24,
        kv_lora_rank: 16,
        qk_nope_head_dim: 8,
        qk_rope_head_dim: 4,
        v_head_dim: 8,
        rope_interleave: true,
        rope_theta: 10_000,
      };
    default:
      throw new Error(`no tiny model for architecture ${architecture}`);
  }
}

/** The tensors of each architecture in the hub layout: name → shape. */
function tensorShapes(architecture: string, vocabSize: number): Map<string, number[]> {
  const shapes = new Map<string, number[]>([
    ['model.embed_tokens.weight', [vocabSize, hidden]],
    ['lm_head.weight', [vocabSize, hidden]],
    ['model.norm.weight', [hidden]],
  ]);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    shapes.set(`${p}.input_layernorm.weight`, [hidden]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [hidden]);
    if (architecture === 'deepseek_v3') {
      // MLA: q through a rank-24 bottleneck; keys/values from a rank-16 latent plus 4 rope dims.
      shapes.set(`${p}.self_attn.q_a_proj.weight`, [24, hidden]);
      shapes.set(`${p}.self_attn.q_a_layernorm.weight`, [24]);
      shapes.set(`${p}.self_attn.q_b_proj.weight`, [heads * (8 + 4), 24]);
      shapes.set(`${p}.self_attn.kv_a_proj_with_mqa.weight`, [16 + 4, hidden]);
      shapes.set(`${p}.self_attn.kv_a_layernorm.weight`, [16]);
      shapes.set(`${p}.self_attn.kv_b_proj.weight`, [heads * (8 + 8), 16]);
      shapes.set(`${p}.self_attn.o_proj.weight`, [hidden, heads * 8]);
      if (l === 0) {
        for (const part of ['gate', 'up']) shapes.set(`${p}.mlp.${part}_proj.weight`, [denseWidth, hidden]);
        shapes.set(`${p}.mlp.down_proj.weight`, [hidden, denseWidth]);
        continue;
      }
      shapes.set(`${p}.mlp.gate.weight`, [experts, hidden]);
      shapes.set(`${p}.mlp.gate.e_score_correction_bias`, [experts]);
      for (const block of [...Array.from({ length: experts }, (_, e) => `experts.${e}`), 'shared_experts']) {
        for (const part of ['gate', 'up'])
          shapes.set(`${p}.mlp.${block}.${part}_proj.weight`, [expertWidth, hidden]);
        shapes.set(`${p}.mlp.${block}.down_proj.weight`, [hidden, expertWidth]);
      }
      continue;
    }
    shapes.set(`${p}.self_attn.q_proj.weight`, [heads * headDim, hidden]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [keyValueHeads * headDim, hidden]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [keyValueHeads * headDim, hidden]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [hidden, heads * headDim]);
    if (architecture === 'qwen3_moe') {
      shapes.set(`${p}.self_attn.q_norm.weight`, [headDim]);
      shapes.set(`${p}.self_attn.k_norm.weight`, [headDim]);
      shapes.set(`${p}.mlp.gate.weight`, [experts, hidden]);
      for (let e = 0; e < experts; e++) {
        for (const part of ['gate', 'up'])
          shapes.set(`${p}.mlp.experts.${e}.${part}_proj.weight`, [expertWidth, hidden]);
        shapes.set(`${p}.mlp.experts.${e}.down_proj.weight`, [hidden, expertWidth]);
      }
    } else if (architecture === 'mixtral') {
      shapes.set(`${p}.block_sparse_moe.gate.weight`, [experts, hidden]);
      for (let e = 0; e < experts; e++) {
        shapes.set(`${p}.block_sparse_moe.experts.${e}.w1.weight`, [expertWidth, hidden]);
        shapes.set(`${p}.block_sparse_moe.experts.${e}.w3.weight`, [expertWidth, hidden]);
        shapes.set(`${p}.block_sparse_moe.experts.${e}.w2.weight`, [hidden, expertWidth]);
      }
    } else if (architecture === 'gpt_oss') {
      shapes.set(`${p}.self_attn.q_proj.bias`, [heads * headDim]);
      shapes.set(`${p}.self_attn.k_proj.bias`, [keyValueHeads * headDim]);
      shapes.set(`${p}.self_attn.v_proj.bias`, [keyValueHeads * headDim]);
      shapes.set(`${p}.self_attn.o_proj.bias`, [hidden]);
      shapes.set(`${p}.self_attn.sinks`, [heads]);
      shapes.set(`${p}.mlp.router.weight`, [experts, hidden]);
      shapes.set(`${p}.mlp.router.bias`, [experts]);
      shapes.set(`${p}.mlp.experts.gate_up_proj`, [experts, hidden, 2 * expertWidth]);
      shapes.set(`${p}.mlp.experts.gate_up_proj_bias`, [experts, 2 * expertWidth]);
      shapes.set(`${p}.mlp.experts.down_proj`, [experts, expertWidth, hidden]);
      shapes.set(`${p}.mlp.experts.down_proj_bias`, [experts, hidden]);
    }
  }
  return shapes;
}

/** Random BF16 values: norms near 1, everything else uniform in ±1/√(fan-in) (the embedding ±1). */
function randomTensor(name: string, shape: number[], random: RandomSource): TensorInput {
  const count = shape.reduce((a, b) => a * b, 1);
  const bits = new Uint16Array(count);
  const isNorm = /norm\.weight$/.test(name);
  const scale = name.includes('embed_tokens') ? 1 : 1 / Math.sqrt(shape.at(-1)!);
  for (let i = 0; i < count; i++) {
    const value = isNorm ? 1 + (random() - 0.5) * 0.2 : (random() * 2 - 1) * scale;
    bits[i] = numberToBfloat16Bits(value);
  }
  return { dtype: 'BF16', shape, data: new Uint8Array(bits.buffer) };
}

/**
 * Writes a tiny random checkpoint of the architecture that goes with a real tokenizer fixture — its
 * vocabulary as large as the hub model's, so every token id the tokenizer makes is valid — together with
 * the tokenizer files, generation_config.json (the hub model's EOS ids) and, for gpt-oss, the harmony
 * chat template. Template → tokens → model → streaming detokenisation can then run end to end.
 */
export async function writeTinyHubModel(
  name: TokenizerFixtureName,
  options: TinyHubModelOptions = {},
): Promise<TinyHubModel> {
  const spec = tinyHubModels[name];
  const owned = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `switchyard-tiny-${name}-`)));
  const config = configFor(
    spec.architecture,
    spec.vocabSize,
    options.maxPositionEmbeddings ?? 512,
    spec.bosTokenId,
    spec.eosTokenIds[0]!,
  );
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(
    join(dir, 'generation_config.json'),
    `${JSON.stringify({ bos_token_id: spec.bosTokenId, eos_token_id: spec.eosTokenIds, do_sample: true, temperature: 0.7, top_p: 0.9 }, null, 2)}\n`,
  );
  const random = createRandom(options.seed ?? 1);
  const tensors: Record<string, TensorInput> = {};
  for (const [tensorName, shape] of tensorShapes(spec.architecture, spec.vocabSize))
    tensors[tensorName] = randomTensor(tensorName, shape, random);
  await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
  const source = tokenizerFixtureDir(name);
  for (const file of ['tokenizer.json', 'tokenizer_config.json'])
    await copyFile(join(source, file), join(dir, file));
  if (name === 'gptoss')
    await writeFile(join(dir, 'chat_template.jinja'), await readFile(gptOssChatTemplatePath, 'utf8'));
  return {
    dir,
    name,
    architecture: spec.architecture,
    vocabSize: spec.vocabSize,
    eosTokenIds: spec.eosTokenIds,
    remove: () => (owned ? rm(dir, { recursive: true, force: true }) : Promise.resolve()),
  };
}
