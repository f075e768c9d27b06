import { z } from 'zod';

/**
 * `POST /v1/completions` body: the fields of OpenAI's legacy completions API that a byte-level
 * model can honour. Unknown fields are ignored, as OpenAI does for fields it does not use;
 * fields with a value we cannot honour (n > 1, logprobs, echo, best_of > 1, suffix) are refused.
 */
export const completionRequestSchema = z.object({
  model: z.string().min(1).optional(),
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'only one prompt per request is supported')]),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4, 'at most 4 stop sequences')]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().optional(),
  n: z.literal(1, 'only n = 1 is supported').nullish(),
  best_of: z.literal(1, 'only best_of = 1 is supported').nullish(),
  echo: z.literal(false, 'echo is not supported').nullish(),
  logprobs: z.null('logprobs are not supported').optional(),
  suffix: z.null('suffix is not supported').optional(),
  presence_penalty: z.literal(0, 'presence_penalty is not supported').nullish(),
  frequency_penalty: z.literal(0, 'frequency_penalty is not supported').nullish(),
});

export type CompletionRequest = z.output<typeof completionRequestSchema>;

export const completionChoiceSchema = z.object({
  text: z.string(),
  index: z.number().int(),
  logprobs: z.null(),
  finish_reason: z.enum(['stop', 'length']).nullable(),
});

export const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

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
