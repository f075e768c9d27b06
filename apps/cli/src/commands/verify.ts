import { SwitchyardError } from '@switchyard/core';
import { loadModel, verifyModel } from '@switchyard/model';
import { addExamples, addJsonOption } from '../help.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import type { CommandRegistrar } from './index.js';

export const verifyCommand: CommandRegistrar = (program, { output, logger, env }) => {
  const command = program
    .command('verify')
    .description('compare a checkpoint run with onnxruntime against a transformers reference file');
  addModelArgument(command)
    .requiredOption('--reference <file>', 'reference.safetensors written with transformers')
    .option('--threads <n>', 'onnxruntime threads', (v) => Number.parseInt(v, 10), 1);
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        'switchyard verify fixtures/checkpoints/tiny-mixtral --reference fixtures/checkpoints/tiny-mixtral/reference.safetensors',
      description: 'check parity with transformers (non-zero exit when it does not pass)',
    },
  ]);
  command.action(
    async (
      positional: string | undefined,
      options: { model?: string; reference: string; threads: number; json?: boolean },
    ) => {
      const dir = resolveModelArgument(positional, options.model, env).directory;
      const model = await loadModel(dir, {
        threads: options.threads,
        logger,
      });
      try {
        const report = await verifyModel(model, options.reference);
        if (options.json) output.json(report);
        else {
          output.table(
            Object.entries(report.tensors).map(([tensor, maxAbsDiff]) => ({ tensor, maxAbsDiff })),
            { title: `${model.summary.name} vs ${options.reference}` },
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
    },
  );
};
