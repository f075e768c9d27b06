import { SwitchyardError } from '@switchyard/core';
import { loadModel } from '@switchyard/model';
import { connectRemoteExperts, type RemoteExperts } from '@switchyard/serving';
import { Option } from 'commander';
import { addExamples, addJsonOption } from '../help.js';
import { requireDirectory } from '../io.js';
import type { CommandRegistrar } from './index.js';

function number(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed))
    throw new SwitchyardError({ code: 'INVALID_INPUT', message: `${JSON.stringify(value)} is not a number` });
  return parsed;
}

export const generateCommand: CommandRegistrar = (program, { output, logger }) => {
  const command = program
    .command('generate')
    .description('generate text with a checkpoint (byte-level models: UTF-8 bytes are token ids)')
    .argument('<model-dir>', 'Hugging Face checkpoint directory')
    .requiredOption('--prompt <text>', 'prompt text')
    .option('--max-new-tokens <n>', 'tokens to generate', number, 64)
    .option('--greedy', 'greedy decoding (the default unless --temperature is given)')
    .option('--temperature <t>', 'sampling temperature', number)
    .option('--top-p <p>', 'nucleus sampling mass', number, 1)
    .option('--seed <s>', 'sampling seed', number, 0)
    .option('--stop <text...>', 'stop sequences')
    .option('--threads <n>', 'onnxruntime threads', number, 1)
    .addOption(
      new Option(
        '--target <target>',
        'run routed experts on deployed functions (default: in process)',
      ).choices(['local', 'aws']),
    )
    .option('--plan <plan.json>', 'deployment plan for --target (default: one function per expert)')
    .option('--endpoint <url>', 'Lambda API endpoint (local: a running `switchyard lambda serve`)');
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        "switchyard generate fixtures/checkpoints/shakespeare-mixtral-8x2 --prompt 'ROMEO:' --max-new-tokens 200 --temperature 0.8 --top-p 0.95 --seed 1",
      description: 'sample Shakespeare-like text',
    },
    {
      command:
        "switchyard generate fixtures/checkpoints/shakespeare-mixtral-8x2 --prompt 'ROMEO:' --greedy --target local",
      description: 'deploy one function per expert to the embedded Lambda runtime and generate through it',
    },
  ]);
  command.action(
    async (
      dir: string,
      options: {
        prompt: string;
        maxNewTokens: number;
        greedy?: boolean;
        temperature?: number;
        topP: number;
        seed: number;
        stop?: string[];
        threads: number;
        json?: boolean;
        target?: 'local' | 'aws';
        plan?: string;
        endpoint?: string;
      },
    ) => {
      const model = await loadModel(requireDirectory(dir, 'model directory'), {
        threads: options.threads,
        logger,
      });
      let remote: RemoteExperts | undefined;
      try {
        if (model.config.vocabSize < 256) {
          throw new SwitchyardError({
            code: 'INVALID_INPUT',
            message: `vocabulary of ${model.config.vocabSize} cannot hold byte tokens; generate supports byte-level models only`,
            location: dir,
          });
        }
        const encoder = new TextEncoder();
        const prompt = [...encoder.encode(options.prompt)];
        if (options.target) {
          remote = await connectRemoteExperts(
            model,
            { target: options.target, planPath: options.plan, endpoint: options.endpoint },
            { logger },
          );
        }
        const started = performance.now();
        const [result] = await model.generate([prompt], {
          moeStep: remote?.moeStep,
          maxNewTokens: options.maxNewTokens,
          greedy: options.greedy === true || options.temperature === undefined,
          temperature: options.temperature ?? 0,
          topP: options.topP,
          seed: options.seed,
          stopSequences: (options.stop ?? []).map((text) => [...encoder.encode(text)]),
        });
        const seconds = (performance.now() - started) / 1000;
        const text = new TextDecoder().decode(Uint8Array.from(result!.tokens));
        if (options.json)
          output.json({
            tokens: result!.tokens,
            text,
            finishReason: result!.finishReason,
            seconds,
            scatterGather: remote?.moeStep.summary(),
          });
        else output.line(`${options.prompt}${text}`);
      } finally {
        await remote?.close();
        await model.close();
      }
    },
  );
};
