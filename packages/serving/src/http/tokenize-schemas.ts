import { z } from 'zod';

const model = z.string().min(1).optional();

/**
 * `POST /tokenize` body, as vLLM's: a text (`prompt`, special tokens added unless `add_special_tokens:
 * false`) or a conversation (`messages`, rendered with the chat template; `add_generation_prompt`
 * defaults to true, `add_special_tokens` to false since the template writes them).
 */
export const tokenizeRequestSchema = z.union(
  [
    z.object({
      model,
      prompt: z.string(),
      add_special_tokens: z.boolean().nullish(),
      return_token_strs: z.boolean().nullish(),
    }),
    z.object({
      model,
      messages: z.array(z.unknown()).min(1, 'messages is empty'),
      add_generation_prompt: z.boolean().nullish(),
      add_special_tokens: z.boolean().nullish(),
      chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
      tools: z.array(z.looseObject({ type: z.string() })).nullish(),
      return_token_strs: z.boolean().nullish(),
    }),
  ],
  { error: 'expected {prompt: string} or {messages: [...]}' },
);

export type TokenizeRequest = z.output<typeof tokenizeRequestSchema>;

export const tokenizeResponseSchema = z.object({
  tokens: z.array(z.number().int()),
  count: z.number().int(),
  max_model_len: z.number().int(),
  token_strs: z.array(z.string()).optional(),
});

/** `POST /detokenize` body: token ids to decode (special tokens kept, as vLLM). */
export const detokenizeRequestSchema = z.object({
  model,
  tokens: z.array(z.number().int().nonnegative()),
});

export const detokenizeResponseSchema = z.object({ prompt: z.string() });
