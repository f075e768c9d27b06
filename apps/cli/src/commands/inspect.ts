import { basename, resolve } from 'node:path';
import { loadCheckpoint, summarizeCheckpoint } from '@switchyard/model';
import { addExamples, addJsonOption } from '../help.js';
import { requireDirectory } from '../io.js';
import type { CommandRegistrar } from './index.js';

export const inspectCommand: CommandRegistrar = (program, { output }) => {
  const command = program
    .command('inspect')
    .description('show a checkpoint: architecture, layers, experts, parameters, bytes per expert')
    .argument('<model-dir>', 'Hugging Face checkpoint directory (config.json + *.safetensors)');
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard inspect fixtures/checkpoints/shakespeare-mixtral-8x2',
      description: "show the demo model's layers, experts and parameter counts",
    },
  ]);
  command.action(async (dir: string, options: { json?: boolean }) => {
    const summary = summarizeCheckpoint(
      await loadCheckpoint(requireDirectory(dir, 'model directory')),
      basename(resolve(dir)),
    );
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
