import { z } from 'zod';
import { invalidInput } from './errors.js';

/** Roles a chat message may have: OpenAI's, and `ipython` (Llama 3.1's tool-output role). */
export const chatRoles = ['system', 'developer', 'user', 'assistant', 'tool', 'function', 'ipython'] as const;

/** One message of a conversation, as the OpenAI chat API and Hugging Face's chat templates take it. */
export interface ChatMessage {
  role: string;
  content: string | null | Array<{ type: 'text'; text: string }>;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
  [key: string]: unknown;
}

const textPart = z.object({ type: z.literal('text'), text: z.string() });

export const chatMessageSchema = z.looseObject({
  role: z.enum(chatRoles, {
    error: (issue) => `unknown role ${JSON.stringify(issue.input)} (known: ${chatRoles.join(', ')})`,
  }),
  content: z.union([z.string(), z.null(), z.array(textPart)], {
    error: 'content must be a string, null or an array of {type: "text", text} parts',
  }),
  name: z.string().optional(),
  tool_calls: z.array(z.unknown()).optional(),
  tool_call_id: z.string().optional(),
});

/**
 * Checks a conversation and gives the messages templates see: text parts joined with newlines into one
 * string (as vLLM does for templates that take string content); every other field kept as given.
 */
export function normalizeMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages)) throw invalidInput('messages must be an array', 'messages');
  if (messages.length === 0) throw invalidInput('messages is empty', 'messages');
  return messages.map((message, index) => {
    const result = chatMessageSchema.safeParse(message);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field = ['messages', index, ...issue.path]
        .map((part, i) => (i === 1 ? `[${String(part)}]` : i === 0 ? String(part) : `.${String(part)}`))
        .join('');
      throw invalidInput(issue.message, field, result.error);
    }
    const { content } = result.data;
    if (Array.isArray(content))
      return { ...result.data, content: content.map((part) => part.text).join('\n') };
    return result.data as ChatMessage;
  });
}
