import { readFile, writeFile } from 'node:fs/promises';
import { SwitchyardError, serializeRoutingTrace, traceMetaPath } from '@switchyard/core';
import { loadModel, recordTrace } from '@switchyard/model';
import { addExamples, addJsonOption } from '../help.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import type { CommandRegistrar } from './index.js';

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `${JSON.stringify(value)} is not a non-negative integer`,
    });
  return parsed;
}

export const traceCommand: CommandRegistrar = (program, { output, logger, env }) => {
  const command = program
    .command('trace')
    .description(
      'record the routing trace of a byte-level model over a text file (format: architecture/formats.md)',
    );
  addModelArgument(command)
    .requiredOption('--text <file>', 'text file (fed as UTF-8 bytes)')
    .requiredOption('--out <trace.safetensors>', 'output trace (a .json sidecar is written beside it)')
    .option('--chunk <n>', 'tokens per independent chunk', integer, 256)
    .option('--start <bytes>', 'byte offset into the text', integer, 0)
    .option(
      '--length <bytes>',
      'bytes to trace (default: to the end; a trailing partial chunk is dropped)',
      integer,
    )
    .option('--threads <n>', 'onnxruntime threads', integer, 1);
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        'switchyard trace fixtures/checkpoints/shakespeare-mixtral-8x2 --text fixtures/data/tinyshakespeare.txt --out heldout.safetensors --start 1003854 --length 111360 --chunk 256',
      description: 'record the routing of the held-out last 10 % of tinyshakespeare',
    },
  ]);
  command.action(
    async (
      positional: string | undefined,
      options: {
        model?: string;
        text: string;
        out: string;
        chunk: number;
        start: number;
        length?: number;
        threads: number;
        json?: boolean;
      },
    ) => {
      let text: Uint8Array;
      try {
        text = await readFile(options.text);
      } catch (error) {
        throw new SwitchyardError({
          code: 'NOT_FOUND',
          message: `cannot read text: ${(error as Error).message}`,
          location: options.text,
          cause: error,
        });
      }
      if (options.start >= text.length)
        throw new SwitchyardError({
          code: 'INVALID_INPUT',
          message: `--start ${options.start} is past the end of the text (${text.length} bytes)`,
          location: '--start',
        });
      const bytes = text.subarray(
        options.start,
        options.length === undefined ? undefined : options.start + options.length,
      );
      const model = await loadModel(resolveModelArgument(positional, options.model, env).directory, {
        threads: options.threads,
        logger,
      });
      try {
        const progress = output.progress('trace', bytes.length);
        const trace = await recordTrace(model, bytes, {
          chunk: options.chunk,
          chunksPerBatch: 1,
          meta: { byte_offset: options.start },
          onProgress: (done) => progress.tick(done),
        });
        progress.done();
        const { safetensors, json } = serializeRoutingTrace(trace);
        await writeFile(options.out, safetensors);
        await writeFile(traceMetaPath(options.out), json);
        const summary = {
          out: options.out,
          tokens: trace.numTokens,
          chunk: options.chunk,
          moeLayers: trace.meta.moe_layers,
          numExperts: trace.meta.num_experts,
          topK: trace.topK,
        };
        if (options.json) output.json(summary);
        else
          output.line(
            `wrote ${trace.numTokens} tokens × ${trace.numLayers} MoE layers to ${options.out} (+ ${traceMetaPath(options.out)})`,
          );
      } finally {
        await model.close();
      }
    },
  );
};
