import { createInterface } from 'node:readline';
import type { ChatMessage } from '@switchyard/tokenizer';
import { addExamples, addJsonOption } from '../help.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import {
  addTextGenerationOptions,
  generateText,
  openTextGenerator,
  type TextGenerationFlags,
} from '../text-generation.js';
import type { CommandRegistrar } from './index.js';

export const chatCommand: CommandRegistrar = (program, { output, logger, env }) => {
  const command = program
    .command('chat')
    .description(
      'talk to a model in its own chat format: interactive in a terminal (a line per turn from a pipe), one reply with --message',
    );
  addModelArgument(command)
    .option('--message <text>', 'send one message, print the reply and exit')
    .option('--system <text>', 'a system message that starts the conversation');
  addTextGenerationOptions(command, 256);
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard chat Qwen/Qwen3-30B-A3B',
      description: 'an interactive chat (Ctrl-D or /exit to leave, /reset to start over)',
    },
    {
      command: "switchyard chat ./gpt-oss-20b --message 'What is 2 + 2?' --json",
      description: 'one turn: { "reply": …, "tokens": […], "finishReason": … }',
    },
  ]);
  command.action(
    async (
      positional: string | undefined,
      options: TextGenerationFlags & { model?: string; message?: string; system?: string; json?: boolean },
    ) => {
      const reference = resolveModelArgument(positional, options.model, env);
      const generator = await openTextGenerator(reference, options, logger);
      const opening: ChatMessage[] =
        options.system === undefined ? [] : [{ role: 'system', content: options.system }];
      let history: ChatMessage[] = [...opening];
      /** One turn: the reply streams to stdout (unless --json) and joins the history. */
      const turn = async (message: string) => {
        const messages: ChatMessage[] = [...history, { role: 'user', content: message }];
        const prompt = generator.tokenizer.encodeChat(messages, { addGenerationPrompt: true });
        const result = await generateText(generator, prompt, options, {
          onText: options.json ? undefined : (text) => process.stdout.write(text),
        });
        history = [...messages, { role: 'assistant', content: result.text }];
        if (!options.json) process.stdout.write('\n');
        return { ...result, promptTokens: prompt.length };
      };
      try {
        if (options.message !== undefined) {
          const result = await turn(options.message);
          if (options.json)
            output.json({
              model: reference.name,
              reply: result.text,
              tokens: result.tokens,
              promptTokens: result.promptTokens,
              finishReason: result.finishReason,
              seconds: result.seconds,
            });
          return;
        }
        const terminal = Boolean(process.stdin.isTTY);
        if (terminal)
          output.line(
            output.color('dim', `${reference.name} — Ctrl-D or /exit to leave, /reset to start over`),
          );
        const lines = createInterface({
          input: process.stdin,
          output: terminal ? process.stdout : undefined,
          terminal,
        });
        const ask = () => {
          if (terminal) lines.setPrompt(output.color('bold', '> '));
          if (terminal) lines.prompt();
        };
        ask();
        for await (const line of lines) {
          const text = line.trim();
          if (text === '/exit' || text === '/quit') break;
          if (text === '/reset') {
            history = [...opening];
            ask();
            continue;
          }
          if (text !== '') {
            const result = await turn(text);
            if (options.json)
              output.line(
                JSON.stringify({
                  reply: result.text,
                  tokens: result.tokens,
                  finishReason: result.finishReason,
                }),
              );
          }
          ask();
        }
        lines.close();
      } finally {
        await generator.close();
      }
    },
  );
};
