import { evaluateLikelihood, loadModel } from '@switchyard/model';
import { addExamples, addJsonOption } from '../help.js';
import { parseIntegerOption, parsePositiveIntegerOption, requireDirectory } from '../io.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import { readTextSlice, requireByteVocabulary } from '../text-slice.js';
import type { CommandRegistrar } from './index.js';

interface EvalFlags extends QuantizeFlags {
  text: string;
  start: number;
  length?: number;
  context: number;
  threads: number;
  json?: boolean;
}

export const evalCommand: CommandRegistrar = (program, { output, logger }) => {
  const command = program
    .command('eval')
    .description(
      'teacher-forced next-token log-likelihood of a text (byte-level models: bits per token are bits per byte)',
    )
    .argument('<model-dir>', 'Hugging Face checkpoint directory')
    .requiredOption('--text <file>', 'text file (fed as UTF-8 bytes)')
    .option('--start <bytes>', 'byte offset into the text', parseIntegerOption, 0)
    .option('--length <bytes>', 'bytes to score (default: to the end)', parsePositiveIntegerOption)
    .option(
      '--context <n>',
      'tokens per non-overlapping window; every token after its first is scored',
      parsePositiveIntegerOption,
      256,
    )
    .option('--threads <n>', 'onnxruntime threads', parsePositiveIntegerOption, 1);
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        'switchyard eval fixtures/checkpoints/shakespeare-mixtral-8x2 --text fixtures/data/tinyshakespeare.txt --start 1003854 --json',
      description: 'bits per byte over the held-out last 10 % of tinyshakespeare',
    },
    'switchyard eval fixtures/checkpoints/shakespeare-mixtral-8x2 --text fixtures/data/tinyshakespeare.txt --start 1003854 --quantize int4 --json',
  ]);
  command.action(async (dir: string, flags: EvalFlags) => {
    const quantization = quantizationFromFlags(flags);
    const bytes = await readTextSlice(flags.text, flags.start, flags.length);
    const model = await loadModel(requireDirectory(dir, 'model directory'), {
      threads: flags.threads,
      quantization,
      logger,
    });
    try {
      requireByteVocabulary(model.config.vocabSize, dir);
      const progress = flags.json ? undefined : output.progress('eval', bytes.length);
      const result = await evaluateLikelihood(model, bytes, {
        context: flags.context,
        onProgress: (done) => progress?.tick(done),
      });
      progress?.done();
      const summary = {
        tokens: result.tokens,
        nll: result.nll,
        bitsPerToken: result.bitsPerToken,
        perplexity: result.perplexity,
        windows: result.windows,
        context: flags.context,
        quantization: quantization ?? { format: 'none' },
        tokenizer: 'byte-level (UTF-8 bytes are token ids)',
      };
      output.result(summary, () =>
        output.line(
          `${model.summary.name} (${summary.quantization.format}): ${result.tokens} tokens, ${result.bitsPerToken.toFixed(4)} bits per byte, perplexity ${result.perplexity.toFixed(4)}, NLL ${result.nll.toFixed(4)} nats/token`,
        ),
      );
    } finally {
      await model.close();
    }
  });
};
