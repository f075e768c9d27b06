import { SwitchyardError } from '@switchyard/core';
import { compareModels, loadModel, type MoeModel, verifyModel } from '@switchyard/model';
import type { CliContext } from '../context.js';
import { addExamples, addJsonOption } from '../help.js';
import { parseIntegerOption, parsePositiveIntegerOption } from '../io.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import { readTextSlice, requireByteVocabulary } from '../text-slice.js';
import type { CommandRegistrar } from './index.js';

interface VerifyFlags extends QuantizeFlags {
  model?: string;
  reference?: string;
  threads: number;
  text?: string;
  start: number;
  length: number;
  chunk: number;
  json?: boolean;
}

/** `verify --quantize`: the quantized model against the float32 one on the same text. */
async function verifyQuantized(
  dir: string,
  flags: VerifyFlags,
  { output, logger }: CliContext,
): Promise<void> {
  const quantization = quantizationFromFlags(flags);
  if (!quantization)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: '--quantize none compares float32 with itself; give int8 or int4',
      location: '--quantize',
    });
  if (!flags.text)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: '--quantize compares on a text: give --text <file> (fed as UTF-8 bytes)',
      location: '--text',
    });
  const bytes = await readTextSlice(flags.text, flags.start, flags.length);
  const models: MoeModel[] = [];
  try {
    models.push(await loadModel(dir, { threads: flags.threads, logger }));
    requireByteVocabulary(models[0]!.config.vocabSize, dir);
    models.push(await loadModel(dir, { threads: flags.threads, logger, quantization }));
    const report = await compareModels(models[0]!, models[1]!, bytes, { chunk: flags.chunk });
    const summary = { model: models[0]!.summary.name, quantization: models[1]!.quantization, ...report };
    output.result(summary, () => {
      output.table(
        [
          { measure: 'tokens compared', value: report.tokens },
          {
            measure: 'routing agreement (top-k sets equal)',
            value: `${(report.routingAgreement * 100).toFixed(3)} %`,
          },
          {
            measure: 'expert overlap (top-k ids shared)',
            value: `${(report.expertOverlap * 100).toFixed(3)} %`,
          },
          { measure: 'max |Δ logits|', value: report.maxAbsDiffLogits.toPrecision(4) },
          { measure: 'next-token argmax agreement', value: `${(report.argmaxAgreement * 100).toFixed(3)} %` },
        ],
        { title: `${summary.model}: ${quantization.format} experts against float32` },
      );
    });
  } finally {
    for (const model of models) await model.close();
  }
}

export const verifyCommand: CommandRegistrar = (program, context) => {
  const { output, logger, env } = context;
  const command = program
    .command('verify')
    .description('compare a checkpoint run with onnxruntime against a transformers reference file');
  addModelArgument(command)
    .option(
      '--reference <file>',
      'reference.safetensors written with transformers (required without --quantize)',
    )
    .option('--threads <n>', 'onnxruntime threads', (v) => Number.parseInt(v, 10), 1)
    .option('--text <file>', 'with --quantize: text the two models run on (UTF-8 bytes)')
    .option('--start <bytes>', 'with --quantize: byte offset into the text', parseIntegerOption, 0)
    .option('--length <bytes>', 'with --quantize: bytes to compare', parsePositiveIntegerOption, 8192)
    .option('--chunk <n>', 'with --quantize: tokens per independent chunk', parsePositiveIntegerOption, 256);
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        'switchyard verify fixtures/checkpoints/tiny-mixtral --reference fixtures/checkpoints/tiny-mixtral/reference.safetensors',
      description: 'check parity with transformers (non-zero exit when it does not pass)',
    },
    {
      command:
        'switchyard verify fixtures/checkpoints/shakespeare-mixtral-8x2 --quantize int8 --text fixtures/data/tinyshakespeare.txt --start 1003854 --length 111360',
      description: 'routing agreement and max |Δ logits| of int8 experts against float32 on held-out text',
    },
  ]);
  command.action(async (positional: string | undefined, options: VerifyFlags) => {
    const dir = resolveModelArgument(positional, options.model, env).directory;
    if (options.quantize !== undefined) return verifyQuantized(dir, options, context);
    if (!options.reference)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message:
          'give --reference <reference.safetensors> (or --quantize int8|int4 with --text to compare formats)',
        location: '--reference',
      });
    const reference = options.reference;
    const model = await loadModel(dir, { threads: options.threads, logger });
    try {
      const report = await verifyModel(model, reference);
      if (options.json) output.json(report);
      else {
        output.table(
          Object.entries(report.tensors).map(([tensor, maxAbsDiff]) => ({ tensor, maxAbsDiff })),
          { title: `${model.summary.name} vs ${reference}` },
        );
        output.line(
          `routing agreement ${(report.routingAgreement * 100).toFixed(3)} %, greedy continuation ${report.generationMatch ? 'identical' : 'DIFFERENT'} (${report.newTokens} tokens × ${report.numSequences})`,
        );
        output.line(
          report.pass
            ? output.color('green', 'PASS')
            : output.color('red', `FAIL: ${report.failures.join('; ')}`),
        );
      }
      if (!report.pass) {
        throw new SwitchyardError({
          code: 'INFERENCE_FAILED',
          message: `verification failed: ${report.failures.join('; ')}`,
          location: dir,
        });
      }
    } finally {
      await model.close();
    }
  });
};
