import { readFileSync } from 'node:fs';
import { deploymentPlanSchema, type Logger } from '@switchyard/core';
import { loadModel, type MoeModel } from '@switchyard/model';
import { connectRemoteExperts, type RemoteExperts } from '@switchyard/serving';
import {
  type GenerationConfig,
  loadTokenizer,
  readGenerationConfig,
  type Tokenizer,
} from '@switchyard/tokenizer';
import { type Command, Option } from 'commander';
import { parseNumberOption, parsePositiveIntegerOption, readJsonFileWithSchema, requireFile } from './io.js';
import type { ModelArgument } from './model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from './quantize-option.js';

/** The flags `generate` and `chat` share: sampling, where experts run, the chat template. */
export interface TextGenerationFlags extends QuantizeFlags {
  maxNewTokens: number;
  greedy?: boolean;
  temperature?: number;
  topP?: number;
  seed: number;
  threads: number;
  target?: 'local' | 'aws';
  plan?: string;
  endpoint?: string;
  chatTemplate?: string;
}

export function addTextGenerationOptions(command: Command, defaultMaxNewTokens: number): Command {
  command
    .option(
      '--max-new-tokens <n>',
      'tokens to generate at most',
      parsePositiveIntegerOption,
      defaultMaxNewTokens,
    )
    .option(
      '--greedy',
      'greedy decoding (the default unless --temperature or generation_config.json says otherwise)',
    )
    .option(
      '--temperature <t>',
      "sampling temperature (default: generation_config.json's, else greedy)",
      parseNumberOption,
    )
    .option(
      '--top-p <p>',
      "nucleus sampling mass (default: generation_config.json's, else 1)",
      parseNumberOption,
    )
    .option('--seed <s>', 'sampling seed', parseNumberOption, 0)
    .option('--threads <n>', 'onnxruntime threads', parsePositiveIntegerOption, 1)
    .option('--chat-template <file>', "a Jinja chat template to use instead of the checkpoint's")
    .addOption(
      new Option(
        '--target <target>',
        'run routed experts on deployed functions (default: in process)',
      ).choices(['local', 'aws']),
    )
    .option('--plan <plan.json>', 'deployment plan for --target (default: one function per expert)')
    .option('--endpoint <url>', 'Lambda API endpoint (local: a running `switchyard lambda serve`)');
  return addQuantizeOptions(command);
}

/** A loaded model with its tokenizer and generation defaults (and its deployed experts, with --target). */
export interface TextGenerator {
  model: MoeModel;
  tokenizer: Tokenizer;
  generation: GenerationConfig;
  remote: RemoteExperts | undefined;
  close(): Promise<void>;
}

export async function openTextGenerator(
  reference: ModelArgument,
  flags: TextGenerationFlags,
  logger: Logger,
): Promise<TextGenerator> {
  const chatTemplate =
    flags.chatTemplate === undefined
      ? undefined
      : readFileSync(requireFile(flags.chatTemplate, 'chat template'), 'utf8');
  const tokenizer = await loadTokenizer(reference.directory, { logger, chatTemplate });
  const generation = await readGenerationConfig(reference.directory);
  // A plan records the format its functions were sized for; --quantize must agree with it.
  const quantization = quantizationFromFlags(
    flags,
    flags.plan
      ? {
          quantization: readJsonFileWithSchema(flags.plan, deploymentPlanSchema, 'deployment plan').model
            .quantization,
          source: flags.plan,
        }
      : undefined,
  );
  const model = await loadModel(reference.directory, {
    threads: flags.threads,
    logger,
    name: reference.name,
    quantization,
  });
  let remote: RemoteExperts | undefined;
  try {
    if (flags.target)
      remote = await connectRemoteExperts(
        model,
        { target: flags.target, planPath: flags.plan, endpoint: flags.endpoint },
        { logger },
      );
  } catch (error) {
    await model.close();
    throw error;
  }
  return {
    model,
    tokenizer,
    generation,
    remote,
    close: async () => {
      await remote?.close();
      await model.close();
    },
  };
}

export interface GeneratedText {
  tokens: number[];
  text: string;
  finishReason: 'length' | 'stop';
  seconds: number;
}

/**
 * Generates from prompt ids: sampling settings from the flags, else generation_config.json (as vLLM
 * does), else greedy; stops at the tokenizer's EOS ids; streams text through the tokenizer's decode
 * stream to `onText` (special tokens left out). With `stopTexts` the text arrives at the end only: a
 * stop sequence is cut from the result after the fact.
 */
export async function generateText(
  generator: TextGenerator,
  prompt: readonly number[],
  flags: TextGenerationFlags,
  options: { stopTexts?: readonly string[]; onText?: (text: string) => void } = {},
): Promise<GeneratedText> {
  const { model, tokenizer, generation, remote } = generator;
  const sampleByDefault = generation.doSample !== false && generation.temperature !== undefined;
  const temperature = flags.greedy
    ? 0
    : (flags.temperature ?? (sampleByDefault ? generation.temperature! : 0));
  const stopSequences = (options.stopTexts ?? []).map((text) =>
    tokenizer.encode(text, { addSpecialTokens: false }),
  );
  const streaming = stopSequences.length === 0 && options.onText !== undefined;
  const stream = tokenizer.createDecodeStream({ skipSpecialTokens: true });
  const started = performance.now();
  const [result] = await model.generate([prompt], {
    moeStep: remote?.moeStep,
    maxNewTokens: flags.maxNewTokens,
    greedy: temperature === 0,
    temperature,
    topP: flags.topP ?? generation.topP ?? 1,
    seed: flags.seed,
    stopTokens: [...tokenizer.eosTokenIds],
    stopSequences: stopSequences.filter((sequence) => sequence.length > 0),
    onToken: streaming ? (_, token) => options.onText!(stream.push(token)) : undefined,
  });
  const seconds = (performance.now() - started) / 1000;
  const text = tokenizer.decode(result!.tokens, { skipSpecialTokens: true });
  if (streaming) options.onText!(stream.flush());
  else options.onText?.(text);
  return { tokens: result!.tokens, text, finishReason: result!.finishReason, seconds };
}
