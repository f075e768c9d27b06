import { existsSync, writeFileSync } from 'node:fs';
import { deploymentPlanSchema, SwitchyardError } from '@switchyard/core';
import { deployPlan, undeployPlan } from '@switchyard/lambda-executor';
import { Option } from 'commander';
import { type BatchBaseline, cpuVcpuSecondsBaseline, LambdaMlMeter } from '../batch-baselines.js';
import { planForBatchJob } from '../batch-job-plan.js';
import { addExamples, addJsonOption } from '../help.js';
import {
  parsePositiveIntegerOption,
  parsePositiveNumberOption,
  readJsonFileWithSchema,
  requireFile,
} from '../io.js';
import { addModelArgument, resolveModelArgument } from '../model-argument.js';
import type { Progress } from '../output.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import { graphSource } from './deploy.js';
import type { CommandRegistrar } from './index.js';

interface RunBatchOptions extends QuantizeFlags {
  model?: string;
  input: string;
  output: string;
  target: 'in-process' | 'local' | 'aws';
  plan?: string;
  predictorTrace?: string[];
  sloMs: number;
  keep?: boolean;
  endpoint?: string;
  region: string;
  bucket?: string;
  prefix?: string;
  roleArn?: string;
  createRole?: boolean;
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
  target: 'in-process' | 'local' | 'aws';
  /** The plan the job deploys: `--plan`, or the one made for the job (`<output>.plan.json`). */
  planPath: string | null;
  quantize: string;
  maxBatchTokens: number;
  maxBatchSize: number;
  seed: number;
}

const defaultMaxBatchTokens = 10_240;

export const registerRunBatch: CommandRegistrar = (program, context) => {
  const { output, logger, env, fixturesDir } = context;
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
        .choices(['in-process', 'local', 'aws'])
        .default('in-process'),
    )
    .option(
      '--plan <plan.json>',
      "deployment plan for --target local|aws (default: planned for the job's own prompts, kept as <output>.plan.json)",
    )
    .option(
      '--predictor-trace <files...>',
      "routing traces the load predictor is fitted on before it reads the job's prompts (default: the bundled model's)",
    )
    .option(
      '--slo-ms <ms>',
      "latency SLO of one step's MoE layers for the job's plan",
      parsePositiveNumberOption,
      60_000,
    )
    .option('--keep', 'leave the functions deployed after the job (--target local with --endpoint, aws)')
    .option(
      '--endpoint <url>',
      'Lambda API endpoint: a running `switchyard lambda serve` (local; default: start one in process) or an AWS-compatible one (aws)',
    )
    .option('--region <region>', 'AWS region (aws)', env.AWS_REGION ?? 'us-east-1')
    .option('--bucket <bucket>', "S3 bucket for the expert graphs, in the functions' region (aws)")
    .option('--prefix <prefix>', 'key prefix inside --bucket (aws)')
    .option('--role-arn <arn>', 'execution role of the functions (aws; or --create-role)')
    .option('--create-role', 'create a least-privilege execution role for the functions (aws)')
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
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard run-batch -i requests.jsonl -o results.jsonl',
      description: 'run a batch on the bundled model in process',
    },
    {
      command: 'switchyard run-batch -i requests.jsonl -o results.jsonl --target local --cost --json',
      description:
        'experts on the embedded Lambda runtime, deployed from a plan made for these prompts; each line carries its billed GB-s and $, the summary is JSON',
    },
    {
      command:
        'switchyard run-batch -i requests.jsonl -o results.jsonl --target aws --bucket my-weights --create-role',
      description:
        "deploy the job's plan to AWS Lambda, run the job, remove the functions (add --keep to leave them)",
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
    const remote = options.target !== 'in-process';
    // The job's own plan sits beside its output, so a resumed job deploys the same functions.
    const jobPlanPath = `${options.output}.plan.json`;
    const planPath = !remote
      ? null
      : options.plan !== undefined
        ? requireFile(options.plan, 'deployment plan')
        : jobPlanPath;
    const recordedPlan =
      planPath !== null && existsSync(planPath)
        ? readJsonFileWithSchema(planPath, deploymentPlanSchema, 'deployment plan')
        : undefined;
    // A plan records the format its functions were sized for; --quantize must agree with it.
    const quantization = quantizationFromFlags(
      options,
      recordedPlan ? { quantization: recordedPlan.model.quantization, source: planPath! } : undefined,
    );
    const requested: JobSettings = {
      modelDir: model.directory,
      target: options.target,
      planPath,
      quantize:
        quantization === undefined
          ? 'none'
          : `${quantization.format}${quantization.format === 'int4' ? `/${quantization.blockSize ?? 32}` : ''}`,
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
    let planSource: 'file' | 'predicted' | 'default' | null = remote ? 'file' : null;
    if (remote && options.plan === undefined) {
      planSource = 'predicted';
      if (!recordedPlan) {
        // The predictor reads the job's prompts before anything runs; the plan is made for that load.
        const made = await planForBatchJob({
          inputPath,
          modelDir: model.directory,
          env,
          fixturesDir,
          quantization,
          maxBatchTokens: options.maxBatchTokens,
          sloMs: options.sloMs,
          predictorTraces: (options.predictorTrace ?? []).map((path) => requireFile(path, 'routing trace')),
          seed: options.seed,
          logger,
        });
        writeFileSync(jobPlanPath, `${JSON.stringify(made.plan, null, 2)}\n`);
        logger.debug('planned the job', {
          plan: jobPlanPath,
          promptTokens: made.promptTokens,
          functions: made.plan.layers.reduce((n, layer) => n + layer.functions.length, 0),
        });
      }
    }
    const plan = planPath
      ? readJsonFileWithSchema(planPath, deploymentPlanSchema, 'deployment plan')
      : undefined;
    const functions = plan?.layers.reduce(
      (n, layer) => n + layer.functions.reduce((m, fn) => m + fn.replicas, 0),
      0,
    );
    const awsTarget = {
      target: 'aws' as const,
      endpoint: options.endpoint,
      region: options.region,
      bucket: options.bucket,
      prefix: options.prefix,
      logger,
    };
    if (options.target === 'aws' && plan) {
      // Converges: a resumed job finds its functions in place and changes nothing.
      await deployPlan(plan, {
        ...awsTarget,
        graphs: graphSource({ model: model.directory, plan: planPath!, ...options }, plan, context),
        roleArn: options.roleArn,
        createRole: options.createRole,
      });
    }
    /** Removes the job's functions unless --keep (an in-process runtime takes them with it when it stops). */
    const remove = async (): Promise<boolean> => {
      if (!plan || options.keep) return false;
      if (options.target === 'aws') {
        await undeployPlan(plan, awsTarget);
        return true;
      }
      if (options.endpoint) await undeployPlan(plan, { target: 'local', endpoint: options.endpoint, logger });
      return true;
    };
    // The stack probes every layer's functions before the job starts (one step through each).
    const serving = startServing(
      {
        modelDir: requested.modelDir,
        target: requested.target,
        planPath: requested.planPath ?? undefined,
        quantization,
        region: options.target === 'aws' ? options.region : undefined,
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
    // A job whose functions cannot be invoked fails before its first line; nothing ran, so nothing
    // is kept for a resumed run: its functions go as a finished job's do (unless --keep).
    const stack = await serving.catch(async (error: unknown) => {
      const removed = await remove().catch((removeError: unknown) => {
        logger.warn("could not remove the job's functions after it failed to start", {
          error: removeError instanceof Error ? removeError.message : String(removeError),
        });
        return false;
      });
      if (plan && !removed) logger.warn("the job's functions are still deployed", { plan: planPath });
      throw error;
    });
    // What the job's steps would cost on the LambdaML baseline, priced after the job.
    const lambdaMl = await LambdaMlMeter.create({ modelDir: model.directory, env, quantization, plan });
    const detachMeter = lambdaMl.attach(stack.engine);
    // The bar (stderr, terminals only) starts once the job knows how many lines it has.
    let progress: Progress | undefined;
    let firstWritten: number | undefined;
    let finished = false;
    let closed = false;
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
      detachMeter();
      finished = summary.finished;
      await stack.close();
      closed = true;
      // A job killed or stopped early keeps its functions for the resumed run; a finished one removes them.
      const removed = finished ? await remove() : false;
      const deployment =
        plan === undefined
          ? null
          : {
              plan: planSource,
              planPath,
              functions,
              target: requested.target,
              removed,
              kept: !removed,
            };
      // The CPU baseline prices this run's wall time, so only a run in process measures it.
      const cpu =
        requested.target === 'in-process'
          ? cpuVcpuSecondsBaseline({
              wallSeconds: summary.wallSeconds,
              totalTokens: summary.totalTokens,
              vcpus: options.threads,
            })
          : undefined;
      const baselines: BatchBaseline[] = [lambdaMl.baseline(summary.totalTokens), ...(cpu ? [cpu] : [])];
      const result = { output: options.output, target: requested.target, ...summary, baselines, deployment };
      output.result(result, () => {
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
            { field: 'failed invocations', value: summary.failedInvocations },
            ...baselines.map((baseline) => ({
              field: `baseline ${baseline.name} ($, $/M tokens)`,
              value: `${baseline.usd.toPrecision(4)}, ${baseline.usdPerMillionTokens.toPrecision(4)}`,
            })),
          ],
          { title: `batch ${options.input} → ${options.output} (${requested.target})` },
        );
        if (deployment)
          output.line(
            `deployment: ${deployment.functions} functions (${deployment.plan === 'predicted' ? `planned for the job's prompts, ${deployment.planPath}` : deployment.planPath}), ${deployment.removed ? 'removed' : 'kept'}`,
          );
      });
    } catch (error) {
      progress?.stop();
      throw error;
    } finally {
      if (!closed) await stack.close();
    }
  });
};
