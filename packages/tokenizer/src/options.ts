import type { Logger } from '@switchyard/core';
import { z } from 'zod';

export const loadTokenizerOptionsSchema = z.object({
  /** A chat template to use instead of the checkpoint's (Jinja text, as vLLM's `--chat-template`). */
  chatTemplate: z.string().min(1).optional(),
});

/** What `loadTokenizer` takes: the schema's fields, a logger and a clock for `strftime_now` beside them. */
export type LoadTokenizerOptions = z.input<typeof loadTokenizerOptionsSchema> & {
  logger?: Logger;
  /** The time `strftime_now` formats (default: now). */
  now?: () => Date;
};
export type ResolvedLoadTokenizerOptions = z.output<typeof loadTokenizerOptionsSchema>;

export const chatTemplateOptionsSchema = z.object({
  /** End with the header that starts the assistant's turn. */
  addGenerationPrompt: z.boolean().default(false),
  /** Tool (function) schemas, for templates that take `tools`. */
  tools: z.array(z.unknown()).optional(),
  /** Retrieved documents, for templates that take `documents`. */
  documents: z.array(z.unknown()).optional(),
  /** Extra template variables (e.g. `enable_thinking`, `reasoning_effort`), as HF's `**kwargs`. */
  templateVariables: z.record(z.string(), z.unknown()).optional(),
});

export type ChatTemplateOptions = z.input<typeof chatTemplateOptionsSchema>;
export type ResolvedChatTemplateOptions = z.output<typeof chatTemplateOptionsSchema>;
