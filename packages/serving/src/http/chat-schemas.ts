import { z } from 'zod';
import { generationFields, maxTopLogprobs, usageSchema } from './schemas.js';

/**
 * `POST /v1/chat/completions` body: OpenAI's chat completions, the conversation rendered with the
 * model's chat template. Messages are checked by the tokenizer (roles, content parts), which names
 * the field at fault. vLLM's extensions: `add_generation_prompt` (default true) and
 * `chat_template_kwargs` (extra template variables such as Qwen3's `enable_thinking`). `tools` are
 * rendered into the prompt for templates that take them; the reply is text (no tool-call parsing).
 */
export const chatCompletionRequestSchema = z
  .object({
    ...generationFields,
    messages: z.array(z.unknown()).min(1, 'messages is empty'),
    max_tokens: z.number().int().min(1).nullish(),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(maxTopLogprobs).nullish(),
    tools: z.array(z.looseObject({ type: z.string() })).nullish(),
    tool_choice: z
      .enum(['none', 'auto'], { error: 'only tool_choice "none" or "auto" is supported' })
      .nullish(),
    response_format: z
      .object({ type: z.literal('text', 'only response_format {"type": "text"} is supported') })
      .nullish(),
    add_generation_prompt: z.boolean().nullish(),
    chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
  })
  .refine((body) => body.top_logprobs == null || body.logprobs === true, {
    message: 'top_logprobs needs logprobs: true',
    path: ['top_logprobs'],
  });

export type ChatCompletionRequest = z.output<typeof chatCompletionRequestSchema>;

const logprobEntrySchema = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
});

/** Chat's logprobs: per generated token its text, log-probability, UTF-8 bytes and top alternatives. */
export const chatLogprobsSchema = z.object({
  content: z.array(logprobEntrySchema.extend({ top_logprobs: z.array(logprobEntrySchema) })).nullable(),
});

export type ChatLogprobs = z.output<typeof chatLogprobsSchema>;

const finishReasonSchema = z.enum(['stop', 'length']).nullable();

export const chatCompletionResponseSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string() }),
      logprobs: chatLogprobsSchema.nullable(),
      finish_reason: finishReasonSchema,
    }),
  ),
  usage: usageSchema,
});

export type ChatCompletionResponse = z.output<typeof chatCompletionResponseSchema>;

/** One streamed chunk: a delta per choice (role first, then content), then its finish reason; usage last. */
export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      logprobs: chatLogprobsSchema.nullable(),
      finish_reason: finishReasonSchema,
    }),
  ),
  usage: usageSchema.nullish(),
});

export type ChatCompletionChunk = z.output<typeof chatCompletionChunkSchema>;
