import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema, SwitchyardError } from '@switchyard/core';
import { type DeployResult, deployPlan, undeployPlan, writeSamProject } from '@switchyard/lambda-executor';
import { buildExpertGraph, type Checkpoint, loadCheckpoint } from '@switchyard/model';
import { Option } from 'commander';
import type { CliContext } from '../context.js';
import { addExamples, addJsonOption } from '../help.js';
import { readJsonFileWithSchema } from '../io.js';
import { modelReferenceOf, resolveModelArgument } from '../model-argument.js';
import type { CommandRegistrar } from './index.js';

interface DeployFlags {
  plan: string;
  model?: string;
  target: 'local' | 'aws';
  endpoint?: string;
  region?: string;
  roleArn?: string;
  codeBucket?: string;
  dryRun?: boolean;
  emit?: 'sam';
  outDir: string;
  json?: boolean;
}

/** The checkpoint that holds the plan's experts: --model, or the bundled fixture of that name. */
function checkpointDir(flags: DeployFlags, plan: DeploymentPlan, context: CliContext): string {
  if (flags.model) return resolveModelArgument(flags.model, undefined, context.env).directory;
  const bundled = join(context.fixturesDir, 'checkpoints', plan.model.name);
  if (existsSync(join(bundled, 'config.json'))) return bundled;
  throw new SwitchyardError({
    code: 'INVALID_INPUT',
    message: `no checkpoint for model ${plan.model.name}: pass --model <dir>`,
    location: '--model',
  });
}

function printResult(context: CliContext, result: DeployResult, json: boolean | undefined): void {
  const value = {
    target: result.target,
    endpoint: result.endpoint,
    dryRun: result.dryRun,
    functions: result.functions,
  };
  if (json) {
    context.output.json(value);
    return;
  }
  context.output.table(
    result.functions.map((fn) => ({
      function: fn.functionName,
      actions: fn.actions.join(', '),
      layer: fn.layer,
      experts: fn.experts?.join(','),
      memoryMB: fn.memoryMB,
      reserved: fn.reservedConcurrency,
      packaging: fn.packaging,
      codeMB: fn.codeBytes === undefined ? undefined : fn.codeBytes / 1e6,
    })),
    {
      title: `${result.dryRun ? 'would deploy' : 'deployed'} to ${result.target}${result.endpoint ? ` (${result.endpoint})` : ''}`,
    },
  );
}

function waitForInterrupt(): Promise<void> {
  return new Promise((resolveWait) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveWait();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const targetOption = (): Option =>
  new Option('--target <target>', 'where the functions run').choices(['local', 'aws']).default('local');

/** `switchyard deploy` and `switchyard undeploy`: converge Lambda functions to a deployment plan. */
export const registerDeploy: CommandRegistrar = (program, context) => {
  const deploy = program
    .command('deploy')
    .description('create or update one Lambda function per expert group and replica of a plan (idempotent)')
    .argument(
      '[model]',
      'checkpoint directory or hub id holding the experts (default: the bundled fixture named in the plan)',
    )
    .requiredOption('--plan <file>', 'deployment plan JSON (from `switchyard plan`)')
    .option('--model <dir>', 'the same as the positional model argument')
    .addOption(targetOption())
    .option('--endpoint <url>', 'Lambda API endpoint (a running `switchyard lambda serve`)')
    .option('--region <region>', 'AWS region', context.env.AWS_REGION ?? 'us-east-1')
    .option('--role-arn <arn>', 'execution role for new functions (required for --target aws)')
    .option('--code-bucket <bucket>', 'S3 bucket for function zips over 50 MB (aws)')
    .option('--dry-run', 'show what would change without changing anything')
    .addOption(
      new Option('--emit <format>', 'write a deployment artefact instead of deploying').choices(['sam']),
    )
    .option('--out-dir <dir>', 'where --emit writes', 'switchyard-sam');
  addJsonOption(deploy);
  addExamples(deploy, [
    {
      command: 'switchyard deploy --plan plan.json --endpoint http://127.0.0.1:9001',
      description: 'deploy to a running `switchyard lambda serve`',
    },
    {
      command:
        'switchyard deploy --plan plan.json --target aws --role-arn arn:aws:iam::123456789012:role/lambda --dry-run',
      description: 'show what an AWS deployment would create or update',
    },
    {
      command: 'switchyard deploy --plan plan.json --emit sam --out-dir sam/',
      description: 'write an AWS SAM project',
    },
  ]);
  deploy.action(async (positional: string | undefined, flags: DeployFlags) => {
    flags.model = modelReferenceOf(positional, flags.model);
    const plan = readJsonFileWithSchema(flags.plan, deploymentPlanSchema, 'plan');
    const dir = checkpointDir(flags, plan, context);
    let checkpoint: Checkpoint | undefined;
    const graphs = async (layer: number, expert: number): Promise<Uint8Array> => {
      checkpoint ??= await loadCheckpoint(dir);
      return buildExpertGraph({ checkpoint }, layer, expert);
    };
    if (flags.emit === 'sam') {
      const written = await writeSamProject(plan, { outDir: resolve(flags.outDir), graphs });
      context.output.result(written, () => {
        context.output.line(
          `wrote ${written.templatePath} and ${written.functionDirs.length} function directories`,
        );
        context.output.line(`deploy with: sam deploy --template-file ${written.templatePath} --guided`);
      });
      return;
    }
    const result = await deployPlan(plan, {
      target: flags.target,
      graphs,
      endpoint: flags.endpoint,
      region: flags.region,
      roleArn: flags.roleArn,
      codeBucket: flags.codeBucket,
      dryRun: flags.dryRun,
      logger: context.logger,
    });
    printResult(context, result, flags.json);
    if (result.runtime) {
      // The functions live in this process's runtime: keep serving them until interrupted.
      if (!flags.json) context.output.line(`serving on ${result.runtime.endpoint}; Ctrl-C to stop`);
      await waitForInterrupt();
      await result.runtime.stop();
    }
  });

  const undeploy = program
    .command('undeploy')
    .description("delete every function of a plan's model")
    .requiredOption('--plan <file>', 'deployment plan JSON')
    .addOption(targetOption())
    .option('--endpoint <url>', 'Lambda API endpoint (required for --target local)')
    .option('--region <region>', 'AWS region', context.env.AWS_REGION ?? 'us-east-1')
    .option('--dry-run', 'list what would be deleted');
  addJsonOption(undeploy);
  addExamples(undeploy, [
    {
      command: 'switchyard undeploy --plan plan.json --endpoint http://127.0.0.1:9001',
      description: 'remove a local deployment',
    },
  ]);
  undeploy.action(async (flags: DeployFlags) => {
    const plan = readJsonFileWithSchema(flags.plan, deploymentPlanSchema, 'plan');
    const result = await undeployPlan(plan, {
      target: flags.target,
      endpoint: flags.endpoint,
      region: flags.region,
      dryRun: flags.dryRun,
      logger: context.logger,
    });
    printResult(context, result, flags.json);
  });
};
