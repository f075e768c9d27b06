import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DeploymentPlan, deploymentPlanSchema, SwitchyardError } from '@switchyard/core';
import {
  type DeployResult,
  deployPlan,
  functionRuntimes,
  undeployPlan,
  writeSamProject,
} from '@switchyard/lambda-executor';
import { buildExpertGraph, type Checkpoint, loadCheckpoint } from '@switchyard/model';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { addExamples, addJsonOption } from '../help.js';
import { readJsonFileWithSchema } from '../io.js';
import { modelReferenceOf, resolveModelArgument } from '../model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import type { CommandRegistrar } from './index.js';

interface DeployFlags extends QuantizeFlags {
  plan: string;
  model?: string;
  target: 'local' | 'aws';
  endpoint?: string;
  region?: string;
  roleArn?: string;
  createRole?: boolean;
  bucket?: string;
  prefix?: string;
  codeBucket?: string;
  runtime?: (typeof functionRuntimes)[number];
  dryRun?: boolean;
  offline?: boolean;
  emit?: 'sam';
  outDir: string;
  json?: boolean;
}

/** The checkpoint that holds the plan's experts: --model, or the bundled fixture of that name. */
function checkpointDir(flags: Pick<DeployFlags, 'model'>, plan: DeploymentPlan, context: CliContext): string {
  if (flags.model) return resolveModelArgument(flags.model, undefined, context.env).directory;
  const bundled = join(context.fixturesDir, 'checkpoints', plan.model.name);
  if (existsSync(join(bundled, 'config.json'))) return bundled;
  throw new SwitchyardError({
    code: 'INVALID_INPUT',
    message: `no checkpoint for model ${plan.model.name}: pass --model <dir>`,
    location: '--model',
  });
}

/** The plan's expert graphs, built from the checkpoint on first use. */
/**
 * The expert graphs of a plan, built from the checkpoint on first use in the plan's expert format
 * (a different `--quantize` is INVALID_INPUT naming both).
 */
export function graphSource(
  flags: Pick<DeployFlags, 'model'> & QuantizeFlags & { plan?: string },
  plan: DeploymentPlan,
  context: CliContext,
): (layer: number, expert: number) => Promise<Uint8Array> {
  const dir = checkpointDir(flags, plan, context);
  const quantization = quantizationFromFlags(flags, {
    quantization: plan.model.quantization,
    source: flags.plan ?? 'the deployment plan',
  });
  let checkpoint: Promise<Checkpoint> | undefined;
  return async (layer, expert) => {
    checkpoint ??= loadCheckpoint(dir);
    return buildExpertGraph({ checkpoint: await checkpoint }, layer, expert, { quantization });
  };
}

function printResult(context: CliContext, result: DeployResult, json: boolean | undefined): void {
  const { runtime: _runtime, ...value } = result;
  if (json) {
    context.output.json(value);
    return;
  }
  const where = `${result.target}${result.endpoint ? ` (${result.endpoint})` : ''}`;
  if (result.role) {
    context.output.line(
      `role ${result.role.roleName}: ${result.role.actions.join(', ')} (${result.role.roleArn})`,
    );
  }
  if (result.layers.length > 0) {
    context.output.table(
      result.layers.map((layer) => ({
        layer: layer.layerName,
        arch: layer.arch,
        actions: layer.actions.join(', '),
        MB: layer.bytes === undefined ? undefined : layer.bytes / 1e6,
        version: layer.layerVersionArn?.split(':').pop(),
      })),
      { title: 'runtime layers' },
    );
  }
  if (result.objects.length > 0) {
    const count = (action: string) =>
      result.objects.filter((object) => object.actions.includes(action as never)).length;
    context.output.line(
      `S3 objects: ${count('upload')} uploaded, ${count('present')} already there, ${count('delete')} deleted`,
    );
  }
  context.output.table(
    result.functions.map((fn) => ({
      function: fn.functionName,
      actions: fn.actions.join(', '),
      layer: fn.layer,
      experts: fn.experts?.join(','),
      memoryMB: fn.memoryMB,
      reserved: fn.reservedConcurrency,
      provisioned: fn.provisionedConcurrency,
      arch: fn.arch,
      packaging: fn.packaging,
      codeMB: fn.codeBytes === undefined ? undefined : fn.codeBytes / 1e6,
    })),
    { title: `${result.dryRun ? 'would deploy' : 'deployed'} to ${where}` },
  );
  for (const warning of result.warnings)
    context.output.line(context.output.color('yellow', `warning: ${warning}`));
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

/** The options deploy, undeploy and doctor share: where, and the weights bucket. */
export function addAwsOptions(command: Command, context: CliContext): Command {
  return command
    .option(
      '--endpoint <url>',
      'endpoint of the APIs: a running `switchyard lambda serve` (local), or an AWS-compatible one such as moto (aws)',
    )
    .option('--region <region>', 'AWS region', context.env.AWS_REGION ?? 'us-east-1')
    .option('--bucket <bucket>', "S3 bucket for the expert graphs, in the functions' region (aws)")
    .option('--prefix <prefix>', 'key prefix inside --bucket; objects go under <prefix><model>/');
}

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
    .addOption(targetOption());
  addAwsOptions(deploy, context)
    .option('--role-arn <arn>', 'execution role of the functions (aws; or --create-role)')
    .option(
      '--create-role',
      "create a least-privilege execution role: its functions' logs, s3:GetObject on the weights prefix (aws)",
    )
    .addOption(
      new Option('--runtime <runtime>', 'Lambda Node.js runtime of the functions')
        .choices([...functionRuntimes])
        .default('nodejs22.x'),
    )
    .option('--code-bucket <bucket>', 'S3 bucket for function zips over 50 MB (aws; default --bucket)')
    .option('--dry-run', 'show what would change without changing anything')
    .option(
      '--offline',
      'with --dry-run --target aws: plan without calling AWS (every function counts as new)',
    )
    .addOption(
      new Option('--emit <format>', 'write a deployment artefact instead of deploying').choices(['sam']),
    )
    .option('--out-dir <dir>', 'where --emit writes', 'switchyard-sam');
  // The plan records the format its memory was sized for; the graphs are built in it.
  addQuantizeOptions(deploy);
  addJsonOption(deploy);
  addExamples(deploy, [
    {
      command: 'switchyard deploy --plan plan.json --endpoint http://127.0.0.1:9001',
      description: 'deploy to a running `switchyard lambda serve`',
    },
    {
      command:
        'switchyard deploy --plan plan.json --target aws --create-role --bucket my-weights --prefix switchyard/',
      description:
        'deploy to AWS: a least-privilege role, graphs in S3, one runtime layer, functions behind a live alias',
    },
    {
      command:
        'switchyard deploy --plan plan.json --target aws --role-arn arn:aws:iam::123456789012:role/lambda --dry-run',
      description: 'show what an AWS deployment would create or update (reads the account, writes nothing)',
    },
    {
      command: 'switchyard deploy --plan plan.json --emit sam --out-dir sam/',
      description: 'write an AWS SAM project (same runtime, layer, alias and role)',
    },
  ]);
  deploy.action(async (positional: string | undefined, flags: DeployFlags) => {
    flags.model = modelReferenceOf(positional, flags.model);
    const plan = readJsonFileWithSchema(flags.plan, deploymentPlanSchema, 'plan');
    const graphs = graphSource(flags, plan, context);
    if (flags.emit === 'sam') {
      const written = await writeSamProject(plan, {
        outDir: resolve(flags.outDir),
        graphs,
        runtime: flags.runtime,
        roleArn: flags.roleArn,
      });
      context.output.result(written, () => {
        context.output.line(
          `wrote ${written.templatePath}, ${written.functionDirs.length} function and ${written.layerDirs.length} layer directories`,
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
      createRole: flags.createRole,
      bucket: flags.bucket,
      prefix: flags.prefix,
      codeBucket: flags.codeBucket,
      runtime: flags.runtime,
      dryRun: flags.dryRun,
      offline: flags.offline,
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
    .description(
      "delete everything a deployment of the plan's model created: functions, runtime layers, S3 objects, the role it created",
    )
    .requiredOption('--plan <file>', 'deployment plan JSON')
    .addOption(targetOption());
  addAwsOptions(undeploy, context).option('--dry-run', 'list what would be deleted');
  addJsonOption(undeploy);
  addExamples(undeploy, [
    {
      command: 'switchyard undeploy --plan plan.json --endpoint http://127.0.0.1:9001',
      description: 'remove a local deployment',
    },
    {
      command: 'switchyard undeploy --plan plan.json --target aws --bucket my-weights --prefix switchyard/',
      description: 'remove an AWS deployment: functions, layers, graphs and the role --create-role made',
    },
  ]);
  undeploy.action(async (flags: DeployFlags) => {
    const plan = readJsonFileWithSchema(flags.plan, deploymentPlanSchema, 'plan');
    const result = await undeployPlan(plan, {
      target: flags.target,
      endpoint: flags.endpoint,
      region: flags.region,
      bucket: flags.bucket,
      prefix: flags.prefix,
      dryRun: flags.dryRun,
      logger: context.logger,
    });
    printResult(context, result, flags.json);
  });
};
