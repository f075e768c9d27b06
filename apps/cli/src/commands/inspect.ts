import { loadCheckpoint, summarizeCheckpoint } from '@switchyard/model';
import { addExamples, addJsonOption } from '../help.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import type { CommandRegistrar } from './index.js';

export const inspectCommand: CommandRegistrar = (program, { output, env }) => {
  const command = program
    .command('inspect')
    .description('show a checkpoint: architecture, layers, experts, parameters, bytes per expert');
  addModelArgument(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard inspect fixtures/checkpoints/shakespeare-mixtral-8x2',
      description: "show the demo model's layers, experts and parameter counts",
    },
  ]);
  command.action(async (positional: string | undefined, options: { model?: string; json?: boolean }) => {
    const reference = resolveModelArgument(positional, options.model, env);
    const summary = summarizeCheckpoint(await loadCheckpoint(reference.directory), reference.name);
    if (options.json) {
      output.json(summary);
      return;
    }
    output.table(
      [
        { field: 'architecture', value: summary.architecture },
        { field: 'layers', value: summary.numLayers },
        { field: 'MoE layers', value: summary.moeLayers.join(',') },
        { field: 'hidden size', value: summary.hiddenSize },
        {
          field: 'attention heads (kv)',
          value: `${summary.numAttentionHeads} (${summary.numKeyValueHeads})`,
        },
        { field: 'experts × top-k', value: `${summary.numExperts} × ${summary.topK}` },
        { field: 'expert intermediate size', value: summary.expertIntermediateSize },
        { field: 'shared experts', value: summary.numSharedExperts },
        { field: 'vocab size', value: summary.vocabSize },
        { field: 'dtype', value: summary.dtype },
        { field: 'parameters', value: summary.parameters.total },
        { field: 'parameters per expert', value: summary.parameters.perExpert },
        { field: 'expert parameters', value: summary.parameters.experts },
        { field: 'dense parameters', value: summary.parameters.dense },
        { field: 'bytes per expert (f32)', value: summary.bytesPerExpert },
        { field: 'fingerprint', value: summary.fingerprint },
      ],
      { title: summary.name },
    );
  });
};
