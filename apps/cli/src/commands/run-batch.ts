import { SwitchyardError } from '@switchyard/core';
import { Option } from 'commander';
import { addExamples, addJsonOption } from '../help.js';
import { parsePositiveIntegerOption, requireFile } from '../io.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import type { Progress } from '../output.js';
import type { CommandRegistrar } from './index.js';

interface RunBatchOptions {
  model?: string;
  input: string;
  output: string;
  target: 'in-process' | 'local';
  plan?: string;
  endpoint?: string;
  maxBatchTokens: number;
  maxBatchSize: number;
  concurrency: number;
  order: 'longest-first' | 'input';
  threads: number;
  seed: number;
  cost?: boolean;
  json?: boolean;
}

/** What a resumed job must run with as before (its state file keeps them). */
interface JobSettings {
  modelDir: string;
  target: 'in-process' | 'local';
  planPath: string | null;
  maxBatchTokens: number;
  maxBatchSize: number;
  seed: number;
}

const defaultMaxBatchTokens = 10_240;

export const registerRunBatch: CommandRegistrar = (program, { output, logger, env, fixturesDir }) => {
  const command = program
    .command('run-batch')
    .description(
      "run a batch file in OpenAI's batch format (as `vllm run-batch`): every line answered once in the output, resumable after a kill",
    );
  addModelArgument(command, 'checkpoint directory or hub id (default: the bundled shakespeare-mixtral-8x2)')
    .requiredOption('-i, --input <file.jsonl>', 'requests, one {custom_id, method, url, body} per line')
    .requiredOption(
      '-o, --output <file.jsonl>',
      'results, one line per request; an existing output is resumed (its state file sits beside it)',
    )
    .addOption(
      new Option('--target <target>', 'where routed experts run')
        .choices(['in-process', 'local'])
        .default('in-process'),
    )
    .option('--plan <plan.json>', 'deployment plan for --target local (default: one function per expert)')
    .option(
      '--endpoint <url>',
      'Lambda API endpoint for --target local (default: start the runtime in process)',
    )
    .option(
      '--max-batch-tokens <n>',
      'most tokens (prefill chunks and decode tokens) fed through the model per step',
      parsePositiveIntegerOption,
      defaultMaxBatchTokens,
    )
    .option('--max-batch-size <n>', 'most sequences per step', parsePositiveIntegerOption, 256)
    .option('--concurrency <n>', 'requests in flight at once', parsePositiveIntegerOption, 256)
    .addOption(
      new Option('--order <order>', 'which requests go first')
        .choices(['longest-first', 'input'])
        .default('longest-first'),
    )
    .option('--threads <n>', 'onnxruntime threads per session', parsePositiveIntegerOption, 1)
    .option('--seed <n>', 'sampling seed for requests that send none', parsePositiveIntegerOption, 1)
    .option('--cost', "add each request's share of the billed expert invocations to its output line");
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard run-batch -i requests.jsonl -o results.jsonl',
      description: 'run a batch on the bundled model in process',
    },
    {
      command: 'switchyard run-batch -i requests.jsonl -o results.jsonl --target local --cost --json',
      description:
        'experts on the embedded Lambda runtime; each line carries its billed GB-s and $, the summary is JSON',
    },
  ]);
  command.action(async (positional: string | undefined, options: RunBatchOptions) => {
    const inputPath = requireFile(options.input, 'batch input');
    // Loaded on use: serving pulls in onnxruntime, which other commands should not pay for at startup.
    const { createLineDispatcher, readJobState, runBatchJob, statePathFor } = await import(
      '@switchyard/serving/http'
    );
    const { startServing } = await import('@switchyard/serving');
    const model = resolveModelArgument(
      positional,
      options.model,
      env,
      `${fixturesDir}/checkpoints/shakespeare-mixtral-8x2`,
    );
    const requested: JobSettings = {
      modelDir: model.directory,
      target: options.target,
      planPath: options.plan === undefined ? null : requireFile(options.plan, 'deployment plan'),
      maxBatchTokens: options.maxBatchTokens,
      maxBatchSize: options.maxBatchSize,
      seed: options.seed,
    };
    // A resumed job runs as it started: the same model, experts, plan and packing.
    const previous = readJobState(options.output)?.settings as JobSettings | undefined;
    if (previous) {
      const changed = (Object.keys(requested) as (keyof JobSettings)[]).filter(
        (key) => previous[key] !== requested[key],
      );
      if (changed.length > 0) {
        throw new SwitchyardError({
          code: 'INVALID_INPUT',
          message: `${options.output} is a job started with other settings (${changed.map((key) => `${key}: ${String(previous[key])} then, ${String(requested[key])} now`).join('; ')}); resume it with the same flags, or write to another output (or remove ${statePathFor(options.output)} and the output)`,
          location: '--output',
        });
      }
    }
    const stack = await startServing(
      {
        modelDir: requested.modelDir,
        target: requested.target,
        planPath: requested.planPath ?? undefined,
        endpoint: options.endpoint,
        adaptation: false,
        batching: 'continuous',
        maxBatchSize: requested.maxBatchSize,
        maxBatchTokens: requested.maxBatchTokens,
        seed: requested.seed,
        threads: options.threads,
      },
      { logger },
    );
    // The bar (stderr, terminals only) starts once the job knows how many lines it has.
    let progress: Progress | undefined;
    let firstWritten: number | undefined;
    try {
      const summary = await runBatchJob(
        {
          inputPath,
          outputPath: options.output,
          concurrency: options.concurrency,
          order: options.order,
          cost: options.cost === true,
          settings: { ...requested },
        },
        {
          dispatcher: createLineDispatcher(
            { engine: stack.engine, status: stack.status, logger },
            {
              maxPromptTokens: stack.engine.info.maxContextTokens,
              maxTokens: stack.engine.info.maxContextTokens,
            },
          ),
          engine: stack.engine,
          billing: stack.status.billing,
          logger,
          onProgress: (state) => {
            // Lines an earlier run answered do not count toward this run's rate.
            firstWritten ??= state.written;
            const rate = state.elapsedMs > 0 ? (state.written - firstWritten) / state.elapsedMs : 0;
            const etaS = rate > 0 ? (state.total - state.written) / rate / 1000 : Number.NaN;
            const detail = [
              Number.isFinite(etaS) ? `ETA ${Math.ceil(etaS)} s` : '',
              stack.remote ? `$${state.bill.costUsd.toFixed(6)} so far` : '',
            ];
            progress ??= output.progress('batch', state.total);
            progress.tick(state.written, detail.filter((part) => part !== '').join(', '));
          },
        },
      );
      progress?.done();
      output.result({ output: options.output, target: requested.target, ...summary }, () => {
        output.table(
          [
            { field: 'requests', value: summary.requests },
            { field: 'succeeded', value: summary.succeeded },
            { field: 'failed', value: summary.failed },
            { field: 'resumed (answered before)', value: summary.resumed },
            { field: 'prompt tokens', value: summary.promptTokens },
            { field: 'completion tokens', value: summary.completionTokens },
            { field: 'wall time (s)', value: summary.wallSeconds },
            { field: 'tokens/s', value: summary.tokensPerSecond },
            { field: 'billed GB-s', value: summary.billedGbSeconds },
            { field: 'cost ($)', value: summary.costUsd },
            { field: '$/M tokens', value: summary.usdPerMillionTokens },
            { field: 'invocations', value: summary.invocations },
            { field: 'retries', value: summary.retries },
          ],
          { title: `batch ${options.input} → ${options.output} (${requested.target})` },
        );
      });
    } catch (error) {
      progress?.stop();
      throw error;
    } finally {
      await stack.close();
    }
  });
};
