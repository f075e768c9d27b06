import { deploymentPlanSchema, SwitchyardError } from '@switchyard/core';
import { InvalidArgumentError } from 'commander';
import { readServingSettings } from '../env.js';
import { addExamples, addJsonOption } from '../help.js';
import {
  parseIntegerOption,
  parsePositiveIntegerOption,
  readJsonFileWithSchema,
  requireFile,
} from '../io.js';
import { modelReferenceOf, resolveModelArgument } from '../model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import type { CommandRegistrar } from './index.js';

interface ServeCommandOptions extends QuantizeFlags {
  model?: string;
  port?: number;
  host?: string;
  target?: string;
  endpoint?: string;
  plan?: string;
  region?: string;
  replanThreshold?: number;
  replanIntervalMs?: number;
  batching: 'continuous' | 'sequential';
  maxBatchSize?: number;
  threads?: number;
  predictorTrace?: string[];
  chat?: boolean;
  servedModelName?: string;
  apiKey?: string[];
  dataDir?: string;
  json?: boolean;
}

function parsePort(value: string): number {
  const port = parseIntegerOption(value);
  if (port < 0 || port > 65_535) throw new InvalidArgumentError(`expected a port 0–65535, got "${value}"`);
  return port;
}

export const registerServe: CommandRegistrar = (program, context) => {
  const command = program
    .command('serve')
    .description(
      'serve a model over an OpenAI-compatible HTTP API (completions, metrics, dashboard) with continuous batching',
    )
    .argument('[model]', 'checkpoint directory or hub id (default: the bundled shakespeare-mixtral-8x2)')
    .option('--model <dir>', 'the same as the positional model argument')
    .option('--port <n>', 'port (default: SWITCHYARD_PORT or 8080)', parsePort)
    .option('--host <host>', 'address to bind (default: SWITCHYARD_HOST or 127.0.0.1; others need API keys)')
    .option(
      '--target <target>',
      'where routed experts run: in-process, local (embedded Lambda runtime) or aws (default: SWITCHYARD_TARGET or in-process)',
    )
    .option(
      '--endpoint <url>',
      'Lambda API endpoint for --target local (default: start the runtime in process)',
    )
    .option('--plan <plan.json>', 'deployment plan for --target local|aws (default: one function per expert)')
    .option('--region <region>', 'AWS region for --target aws')
    .option(
      '--replan-threshold <fraction>',
      "re-plan when the active plan's predicted cost drifts by more than this fraction (default 0.25)",
      (value: string) => {
        const parsed = Number(value);
        if (!Number.isFinite(parsed) || parsed < 0)
          throw new InvalidArgumentError(`expected a non-negative number, got "${value}"`);
        return parsed;
      },
    )
    .option(
      '--replan-interval-ms <ms>',
      'how often the drift is checked with --target local (default 60000; 0 disables re-planning)',
      parseIntegerOption,
    )
    .option('--batching <mode>', 'continuous, or sequential (one request at a time)', 'continuous')
    .option('--max-batch-size <n>', 'sequences advanced together per step', parsePositiveIntegerOption)
    .option('--threads <n>', 'onnxruntime threads per session', parsePositiveIntegerOption)
    .option(
      '--predictor-trace <files...>',
      'routing traces to fit the expert-popularity predictor on; it then learns online from served routing',
    )
    .option(
      '--chat',
      "a chat server: /v1/completions renders each text prompt as one user message with the model's chat template (default: SWITCHYARD_CHAT or off; /v1/chat/completions is served either way)",
    )
    .option(
      '--served-model-name <name>',
      'the model id clients send and /v1/models lists (default: SWITCHYARD_MODEL_NAME, else the hub id or directory name)',
    )
    .option(
      '--api-key <key>',
      'a bearer token clients must send, at least 8 characters; repeat for several (default: SWITCHYARD_API_KEYS, comma-separated)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--data-dir <dir>',
      "serve OpenAI's Batch API (/v1/files, /v1/batches) with its SQLite state and files here; batches in progress resume on restart (default: SWITCHYARD_DATA_DIR, else no Batch API)",
    );
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard serve',
      description: 'serve the bundled Shakespeare model on http://127.0.0.1:8080',
    },
    {
      command: 'SWITCHYARD_API_KEYS=sk-local-123456 switchyard serve --host 0.0.0.0 --port 9000',
      description: 'listen on every interface (API keys required)',
    },
    {
      command:
        'switchyard serve --predictor-trace fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors',
      description: 'also score and update the expert-popularity predictor on served traffic',
    },
    {
      command: 'switchyard serve --model path/to/checkpoint --batching sequential',
      description: 'another checkpoint, one request at a time (for comparison)',
    },
    {
      command: 'switchyard serve --target local',
      description: 'deploy one function per expert to the embedded Lambda runtime and serve through it',
    },
    {
      command: 'switchyard serve Qwen/Qwen3-30B-A3B --served-model-name qwen3 --api-key sk-local-123456',
      description: 'a hub checkpoint from the local Hugging Face cache, under a short name, behind a key',
    },
  ]);
  command.action(async (positional: string | undefined, options: ServeCommandOptions) => {
    options.model = modelReferenceOf(positional, options.model);
    if (options.target !== undefined && !['in-process', 'local', 'aws'].includes(options.target)) {
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `--target must be in-process, local or aws, got "${options.target}"`,
      });
    }
    if (!['continuous', 'sequential'].includes(options.batching)) {
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `--batching must be continuous or sequential, got "${options.batching}"`,
      });
    }
    // Loaded on use: serving pulls in onnxruntime, which other commands should not pay for at startup.
    const { serve, servingConfiguration } = await import('@switchyard/serving/http');
    const env = await readServingSettings();
    const model = options.model ? resolveModelArgument(options.model, undefined, context.env) : undefined;
    const flags = {
      modelDir: model?.directory,
      chat: options.chat,
      modelName: options.servedModelName,
      apiKeys: options.apiKey,
      target: options.target as 'in-process' | 'local' | 'aws' | undefined,
      endpoint: options.endpoint,
      planPath: options.plan,
      region: options.region,
      replanThreshold: options.replanThreshold,
      replanIntervalMs: options.replanIntervalMs,
      batching: options.batching,
      maxBatchSize: options.maxBatchSize,
      threads: options.threads,
      predictorTraces: options.predictorTrace,
      port: options.port,
      host: options.host,
      dataDir: options.dataDir,
    };
    // A hub id is served under its name (its snapshot directory's name is a commit hash).
    const { serving, server } = servingConfiguration(
      { modelDir: `${context.fixturesDir}/checkpoints/shakespeare-mixtral-8x2`, modelName: model?.name },
      env,
      flags,
    );
    // A plan records the format its functions were sized for; --quantize must agree with it.
    const quantization = quantizationFromFlags(
      options,
      serving.planPath
        ? {
            quantization: readJsonFileWithSchema(serving.planPath, deploymentPlanSchema, 'deployment plan')
              .model.quantization,
            source: serving.planPath,
          }
        : undefined,
    );
    const stack = await serve(
      {
        ...serving,
        quantization,
        planPath:
          serving.planPath === undefined ? undefined : requireFile(serving.planPath, 'deployment plan'),
        predictorTraces: (serving.predictorTraces ?? []).map((path) => requireFile(path, 'routing trace')),
      },
      server,
      { logger: context.logger },
    );
    const { info, tokenizer } = stack.engine;
    const modelId = stack.server.options.modelName ?? info.modelId;
    context.output.result(
      {
        url: stack.server.url,
        model: modelId,
        chat: stack.server.options.chat,
        batching: info.batching,
        expertPlacement: info.expertPlacement,
      },
      () => {
        context.output.line(`serving ${modelId} on ${stack.server.url}  (Ctrl-C drains and stops)`);
        context.output.line(
          `  completions  POST ${stack.server.url}/v1/completions${stack.server.options.chat ? ' (prompts rendered as chat)' : ''}`,
        );
        if (tokenizer.hasChatTemplate)
          context.output.line(`  chat         POST ${stack.server.url}/v1/chat/completions`);
        context.output.line(`  dashboard    ${stack.server.url}/dashboard`);
        context.output.line(`  metrics      ${stack.server.url}/metrics`);
        context.output.line(`  experts run  ${info.expertPlacement}; ${info.batching} batching`);
      },
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    context.logger.warn('draining in-flight requests');
    await stack.close();
  });
};
