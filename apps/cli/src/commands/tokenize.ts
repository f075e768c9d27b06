import { readFileSync } from 'node:fs';
import { SwitchyardError } from '@switchyard/core';
import { type ChatMessage, loadTokenizer } from '@switchyard/tokenizer';
import { addExamples, addJsonOption } from '../help.js';
import { readJsonFile, requireFile } from '../io.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import type { CommandRegistrar } from './index.js';

/** A --chat file: a list of messages, or `{ messages, tools? }` as a chat completion request has them. */
function readConversation(path: string): { messages: ChatMessage[]; tools?: unknown[] } {
  const raw = readJsonFile(path, 'chat messages file');
  if (Array.isArray(raw)) return { messages: raw as ChatMessage[] };
  if (typeof raw === 'object' && raw !== null && Array.isArray((raw as { messages?: unknown }).messages)) {
    const { messages, tools } = raw as { messages: ChatMessage[]; tools?: unknown };
    if (tools !== undefined && !Array.isArray(tools))
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: 'tools must be an array',
        location: `${path}: tools`,
      });
    return { messages, tools: tools as unknown[] | undefined };
  }
  throw new SwitchyardError({
    code: 'INVALID_INPUT',
    message: 'expected a list of messages or an object with "messages"',
    location: path,
  });
}

export const tokenizeCommand: CommandRegistrar = (program, { output, logger, env }) => {
  const command = program
    .command('tokenize')
    .description(
      "turn text or a chat conversation into the model's token ids (needs only the tokenizer files)",
    );
  addModelArgument(command)
    .option('--text <text>', 'the text to tokenize')
    .option('--text-file <file>', 'tokenize the contents of a file')
    .option(
      '--chat <messages.json>',
      "render a conversation with the model's chat template, then tokenize it",
    )
    .option('--add-generation-prompt', 'with --chat: end with the header of the assistant turn')
    .option('--no-special-tokens', 'with --text/--text-file: do not add BOS/EOS around the text');
  addJsonOption(command);
  addExamples(command, [
    {
      command: "switchyard tokenize ./Qwen3-30B-A3B --text 'Hello world' --json",
      description: 'token ids of a text: { "tokens": [...], "prompt": "Hello world" }',
    },
    {
      command: 'switchyard tokenize Qwen/Qwen3-30B-A3B --chat messages.json --add-generation-prompt --json',
      description: 'the chat prompt a server would build (hub id from the local Hugging Face cache)',
    },
  ]);
  command.action(
    async (
      positional: string | undefined,
      options: {
        model?: string;
        text?: string;
        textFile?: string;
        chat?: string;
        addGenerationPrompt?: boolean;
        specialTokens: boolean;
        json?: boolean;
      },
    ) => {
      const sources = [options.text, options.textFile, options.chat].filter((value) => value !== undefined);
      if (sources.length !== 1)
        throw new SwitchyardError({
          code: 'INVALID_INPUT',
          message: 'give exactly one of --text, --text-file and --chat',
          location: '--text',
        });
      const textFile =
        options.textFile === undefined ? undefined : requireFile(options.textFile, 'text file');
      const conversation = options.chat === undefined ? undefined : readConversation(options.chat);
      const model = resolveModelArgument(positional, options.model, env);
      const tokenizer = await loadTokenizer(model.directory, { logger });
      let prompt: string;
      let tokens: number[];
      if (conversation) {
        const chatOptions = {
          addGenerationPrompt: options.addGenerationPrompt === true,
          tools: conversation.tools,
        };
        prompt = tokenizer.applyChatTemplate(conversation.messages, chatOptions);
        tokens = tokenizer.encode(prompt, { addSpecialTokens: false });
      } else {
        prompt = options.text ?? readFileSync(textFile!, 'utf8');
        tokens = tokenizer.encode(prompt, { addSpecialTokens: options.specialTokens });
      }
      output.result({ tokens, prompt }, () => {
        output.line(tokens.join(','));
        output.line(
          output.color('dim', `${tokens.length} tokens (${model.name}, ${tokenizer.kind} tokenizer)`),
        );
      });
    },
  );
};

export const detokenizeCommand: CommandRegistrar = (program, { output, logger, env }) => {
  const command = program
    .command('detokenize')
    .description('turn token ids back into text (needs only the tokenizer files)');
  addModelArgument(command)
    .requiredOption('--tokens <ids>', 'comma-separated token ids, e.g. 9707,1879')
    .option('--skip-special-tokens', 'leave out special tokens (BOS, EOS, chat markers)');
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard detokenize ./Qwen3-30B-A3B --tokens 9707,1879 --json',
      description: 'the text of token ids: { "text": "Hello world" }',
    },
  ]);
  command.action(
    async (
      positional: string | undefined,
      options: { model?: string; tokens: string; skipSpecialTokens?: boolean; json?: boolean },
    ) => {
      const ids = options.tokens
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
        .map((part) => {
          if (!/^\d+$/.test(part) || !Number.isSafeInteger(Number(part)))
            throw new SwitchyardError({
              code: 'INVALID_INPUT',
              message: `${JSON.stringify(part)} is not a token id (a non-negative integer)`,
              location: '--tokens',
            });
          return Number(part);
        });
      const model = resolveModelArgument(positional, options.model, env);
      const tokenizer = await loadTokenizer(model.directory, { logger });
      const text = tokenizer.decode(ids, { skipSpecialTokens: options.skipSpecialTokens === true });
      output.result({ text }, () => output.line(text));
    },
  );
};
