import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { describeError } from '@switchyard/core';
import { type ChatMessage, normalizeMessages } from './chat-message.js';
import { invalidInput, tokenizerLoadError } from './errors.js';
import {
  type ChatTemplateOptions,
  chatTemplateOptionsSchema,
  type ResolvedChatTemplateOptions,
} from './options.js';
import { strftime } from './strftime.js';

/** A chat template source: tokenizer_config.json's `chat_template` (one or named ones) or chat_template.jinja. */
export interface ChatTemplateSource {
  /** Named templates (`default`, `tool_use`, …); a single template is named `default`. */
  templates: ReadonlyMap<string, string>;
  /** Where it came from, for errors (`tokenizer_config.json: chat_template`). */
  location: string;
}

/** Python's `range(stop)` / `range(start, stop[, step])`. */
function pythonRange(...args: unknown[]): number[] {
  const numbers = args.map(Number);
  if (numbers.some((value) => !Number.isInteger(value)) || numbers.length === 0 || numbers.length > 3)
    throw new Error(`range() takes 1 to 3 integers, got ${JSON.stringify(args)}`);
  const [start, stop, step] =
    numbers.length === 1 ? [0, numbers[0]!, 1] : [numbers[0]!, numbers[1]!, numbers[2] ?? 1];
  if (step === 0) throw new Error('range() step must not be zero');
  const values: number[] = [];
  for (let value = start; step > 0 ? value < stop : value > stop; value += step) values.push(value);
  return values;
}

/** Thrown by the template's `raise_exception(message)`: the request, not the template, is at fault. */
class TemplateException extends Error {}

export interface ChatTemplateContext {
  /** HF's `special_tokens_map`: bos_token, eos_token, …, additional_special_tokens. */
  specialTokensMap: Readonly<Record<string, unknown>>;
  now: () => Date;
}

/**
 * A compiled chat template, rendered with the variables Hugging Face's `apply_chat_template` gives:
 * `messages`, `tools`, `documents`, `add_generation_prompt`, the special tokens as strings, the caller's
 * extra variables, and the globals `raise_exception` and `strftime_now`. @huggingface/jinja applies
 * trim_blocks and lstrip_blocks, as transformers' environment does.
 */
export class ChatTemplate {
  private readonly compiled = new Map<string, Template>();

  constructor(
    private readonly source: ChatTemplateSource,
    private readonly context: ChatTemplateContext,
  ) {
    for (const [name, text] of source.templates) {
      try {
        this.compiled.set(name, new Template(text));
      } catch (error) {
        const where = source.templates.size > 1 ? `${source.location} (${name})` : source.location;
        throw tokenizerLoadError(`chat template does not parse: ${describeError(error)}`, where, error);
      }
    }
  }

  /** HF's choice: `tool_use` when tools are given and the checkpoint has one, else `default`. */
  private pick(withTools: boolean): Template {
    const chosen =
      (withTools ? this.compiled.get('tool_use') : undefined) ??
      this.compiled.get('default') ??
      (this.compiled.size === 1 ? [...this.compiled.values()][0] : undefined);
    if (!chosen)
      throw invalidInput(
        `no default chat template among ${[...this.compiled.keys()].join(', ')}`,
        this.source.location,
      );
    return chosen;
  }

  /**
   * Template.render with our globals: @huggingface/jinja's own `strftime_now` formats in the host's
   * locale and its `raise_exception` throws a plain Error, and a render cannot replace a global.
   */
  private run(template: Template, variables: Record<string, unknown>): string {
    const environment = new Environment();
    const globals: Record<string, unknown> = {
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      range: pythonRange,
      raise_exception: (message: unknown) => {
        throw new TemplateException(String(message));
      },
      strftime_now: (format: unknown) => strftime(this.context.now(), String(format)),
    };
    for (const [name, value] of Object.entries({ ...globals, ...variables })) environment.set(name, value);
    const result = new Interpreter(environment).run(template.parsed) as { value: unknown };
    return String(result.value);
  }

  render(messages: readonly ChatMessage[], options: ResolvedChatTemplateOptions): string {
    const template = this.pick(options.tools !== undefined && options.tools.length > 0);
    const variables: Record<string, unknown> = {
      ...this.context.specialTokensMap,
      ...options.templateVariables,
      messages,
      tools: options.tools ?? null,
      documents: options.documents ?? null,
      add_generation_prompt: options.addGenerationPrompt,
    };
    try {
      return this.run(template, variables);
    } catch (error) {
      if (error instanceof TemplateException)
        throw invalidInput(`the chat template refused the conversation: ${error.message}`, 'messages', error);
      throw invalidInput(
        `the chat template failed on this conversation: ${describeError(error)}`,
        this.source.location,
        error,
      );
    }
  }
}

/** Checks a conversation and its options, then renders it (INVALID_INPUT without a template). */
export function renderChat(
  template: ChatTemplate | undefined,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions,
): string {
  if (!template)
    throw invalidInput(
      'this model has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja); pass one with the chat template option',
      'messages',
    );
  const resolved = chatTemplateOptionsSchema.safeParse(options ?? {});
  if (!resolved.success) {
    const issue = resolved.error.issues[0]!;
    throw invalidInput(issue.message, `chat template options: ${issue.path.join('.')}`, resolved.error);
  }
  return template.render(normalizeMessages(messages), resolved.data);
}
