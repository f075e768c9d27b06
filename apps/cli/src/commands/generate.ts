import { addExamples, addJsonOption } from '../help.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import {
  addTextGenerationOptions,
  generateText,
  openTextGenerator,
  type TextGenerationFlags,
} from '../text-generation.js';
import type { CommandRegistrar } from './index.js';

export const generateCommand: CommandRegistrar = (program, { output, logger, env }) => {
  const command = program
    .command('generate')
    .description(
      "generate text with a checkpoint and its own tokenizer (byte-level checkpoints: UTF-8 bytes are token ids); stops at the model's EOS",
    );
  addModelArgument(command)
    .requiredOption('--prompt <text>', 'prompt text')
    .option('--chat', "treat --prompt as a user message and render it with the model's chat template")
    .option('--system <text>', 'with --chat: a system message before the prompt')
    .option('--stop <text...>', 'stop sequences');
  addTextGenerationOptions(command, 64);
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        "switchyard generate fixtures/checkpoints/shakespeare-mixtral-8x2 --prompt 'ROMEO:' --max-new-tokens 200 --temperature 0.8 --top-p 0.95 --seed 1",
      description: 'sample Shakespeare-like text',
    },
    {
      command:
        "switchyard generate Qwen/Qwen3-30B-A3B --chat --prompt 'Name three primes.' --max-new-tokens 100",
      description: 'a chat turn with a hub model from the local Hugging Face cache, in its own chat format',
    },
    {
      command:
        "switchyard generate fixtures/checkpoints/shakespeare-mixtral-8x2 --prompt 'ROMEO:' --greedy --target local",
      description: 'deploy one function per expert to the embedded Lambda runtime and generate through it',
    },
    {
      command:
        "switchyard generate fixtures/checkpoints/shakespeare-mixtral-8x2 --prompt 'ROMEO:' --greedy --quantize int4 --target local",
      description: 'the same with int4 experts: the functions ship and run the quantized graphs',
    },
  ]);
  command.action(
    async (
      positional: string | undefined,
      options: TextGenerationFlags & {
        model?: string;
        prompt: string;
        chat?: boolean;
        system?: string;
        stop?: string[];
        json?: boolean;
      },
    ) => {
      const reference = resolveModelArgument(positional, options.model, env);
      const generator = await openTextGenerator(reference, options, logger);
      try {
        const { tokenizer } = generator;
        const prompt = options.chat
          ? tokenizer.encodeChat(
              [
                ...(options.system === undefined ? [] : [{ role: 'system', content: options.system }]),
                { role: 'user', content: options.prompt },
              ],
              { addGenerationPrompt: true },
            )
          : tokenizer.encode(options.prompt);
        const streamToTerminal = !options.json;
        if (streamToTerminal && !options.chat) process.stdout.write(options.prompt);
        const result = await generateText(generator, prompt, options, {
          stopTexts: options.stop,
          onText: streamToTerminal ? (text) => process.stdout.write(text) : undefined,
        });
        if (options.json)
          output.json({
            promptTokens: prompt.length,
            tokens: result.tokens,
            text: result.text,
            finishReason: result.finishReason,
            seconds: result.seconds,
            scatterGather: generator.remote?.moeStep.summary(),
          });
        else output.line();
      } finally {
        await generator.close();
      }
    },
  );
};
