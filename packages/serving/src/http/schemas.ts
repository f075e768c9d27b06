import { z } from 'zod';

/** Most alternatives per token a request may ask for (`logprobs`, `top_logprobs`), as vLLM's default. */
export const maxTopLogprobs = 20;

const tokenId = z.number().int().nonnegative();

/**
 * The sampling and control fields `/v1/completions` and `/v1/chat/completions` share: OpenAI's, and
 * vLLM's extensions `top_k`, `repetition_penalty`, `stop_token_ids` and `skip_special_tokens`. Left-out
 * sampling fields take generation_config.json's values (as vLLM does by default). Unknown fields are
 * ignored, as OpenAI does for fields it does not use; a value we cannot honour is refused.
 */
export const generationFields = {
  model: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  /** vLLM: sample among the k most likely tokens; 0 or -1 turns it off. */
  top_k: z.number().int().min(-1).nullish(),
  /** vLLM / Hugging Face: > 1 discourages tokens already in the prompt or output. */
  repetition_penalty: z.number().gt(0).max(2).nullish(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4, 'at most 4 stop sequences')]).nullish(),
  /** vLLM: token ids that end generation besides the model's EOS ids. */
  stop_token_ids: z.array(tokenId).max(64).nullish(),
  /** vLLM: leave special tokens out of the text (default true). */
  skip_special_tokens: z.boolean().nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().optional(),
  presence_penalty: z.literal(0, 'presence_penalty is not supported').nullish(),
  frequency_penalty: z.literal(0, 'frequency_penalty is not supported').nullish(),
};

const tokenPrompt = z.array(tokenId).min(1, 'a token prompt needs at least one token id');

/**
 * `POST /v1/completions` body: OpenAI's legacy completions with every prompt form (a string, strings,
 * token ids, lists of token ids), `n`, `logprobs` with `echo` (prompt log-probabilities: `max_tokens: 0,
 * echo: true, logprobs: k` scores a text, as lm-evaluation-harness does) and vLLM's
 * `add_special_tokens`.
 */
export const completionRequestSchema = z.object({
  ...generationFields,
  prompt: z.union(
    [
      z.string(),
      z.array(z.string()).min(1, 'the prompt list is empty'),
      tokenPrompt,
      z.array(tokenPrompt).min(1, 'the prompt list is empty'),
    ],
    { error: 'prompt must be a string, a list of strings, a list of token ids or a list of such lists' },
  ),
  /** 0 only with `echo` (score the prompt without generating). */
  max_tokens: z.number().int().min(0).nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(maxTopLogprobs).nullish(),
  /** vLLM: add the tokenizer's special tokens (BOS) to text prompts (default true). */
  add_special_tokens: z.boolean().nullish(),
  best_of: z.literal(1, 'only best_of = 1 is supported').nullish(),
  suffix: z.null('suffix is not supported').optional(),
});

export type CompletionRequest = z.output<typeof completionRequestSchema>;

/** OpenAI's legacy logprobs object: per token its text, log-probability, alternatives and offset in `text`. */
export const completionLogprobsSchema = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(z.number().nullable()),
  top_logprobs: z.array(z.record(z.string(), z.number()).nullable()),
  text_offset: z.array(z.number().int()),
});

export type CompletionLogprobs = z.output<typeof completionLogprobsSchema>;

export const completionChoiceSchema = z.object({
  text: z.string(),
  index: z.number().int(),
  logprobs: completionLogprobsSchema.nullable(),
  finish_reason: z.enum(['stop', 'length']).nullable(),
});

export const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

export type Usage = z.output<typeof usageSchema>;

/** The response body, and (with `finish_reason: null` until the last) each streamed chunk. */
export const completionResponseSchema = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().optional(),
  choices: z.array(completionChoiceSchema),
  usage: usageSchema.nullish(),
});

export type CompletionResponse = z.output<typeof completionResponseSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

export type ErrorBody = z.output<typeof errorBodySchema>;
