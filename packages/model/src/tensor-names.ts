/** Where an architecture keeps each tensor, in the Hugging Face hub layout. */
export interface TensorNames {
  embed: string;
  finalNorm: string;
  lmHead: string;
  inputNorm(layer: number): string;
  postAttentionNorm(layer: number): string;
  /** `model.layers.{layer}.self_attn.{part}` (q_proj, k_norm, sinks, q_a_proj, kv_b_proj, …). */
  attention(layer: number, part: string): string;
  router(layer: number): string;
  /** gpt_oss fused expert tensors: gate_up_proj [E, H, 2I] (gate/up interleaved), down_proj [E, I, H] and their biases. */
  fusedExperts(
    layer: number,
    part: 'gate_up_proj' | 'gate_up_proj_bias' | 'down_proj' | 'down_proj_bias',
  ): string;
  /** gate (w1), up (w3), down (w2) projection weights of a routed expert. */
  expert(layer: number, expert: number, part: 'gate' | 'up' | 'down'): string;
  sharedExpert(layer: number, part: 'gate' | 'up' | 'down'): string;
  sharedExpertGate(layer: number): string;
  denseMlp(layer: number, part: 'gate' | 'up' | 'down'): string;
}

/** The hub names of the common layout; `expertBlock`, the router and the expert parts vary. */
export const hfNames = (
  expertBlock: string,
  gate: string,
  expertParts: Record<'gate' | 'up' | 'down', string>,
  sharedBlock = 'shared_expert',
): TensorNames => ({
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
  inputNorm: (l) => `model.layers.${l}.input_layernorm.weight`,
  postAttentionNorm: (l) => `model.layers.${l}.post_attention_layernorm.weight`,
  attention: (l, part) => `model.layers.${l}.self_attn.${part}`,
  router: (l) => `model.layers.${l}.${expertBlock}.${gate}.weight`,
  expert: (l, e, part) => `model.layers.${l}.${expertBlock}.experts.${e}.${expertParts[part]}.weight`,
  fusedExperts: (l, part) => `model.layers.${l}.${expertBlock}.experts.${part}`,
  sharedExpert: (l, part) => `model.layers.${l}.${expertBlock}.${sharedBlock}.${part}_proj.weight`,
  sharedExpertGate: (l) => `model.layers.${l}.${expertBlock}.shared_expert_gate.weight`,
  denseMlp: (l, part) => `model.layers.${l}.mlp.${part}_proj.weight`,
});

/** gate/up/down projections named as most architectures name them. */
export const projParts = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' } as const;
