import { type DeploymentPlan, deploymentPlanSchema, SwitchyardError } from '@switchyard/core';
import { type DoctorReport, doctorAwsTarget, functionRuntimes } from '@switchyard/lambda-executor';
import { Option } from 'commander';
import type { CliContext } from '../context.js';
import { addExamples, addJsonOption } from '../help.js';
import { readJsonFileWithSchema } from '../io.js';
import { addAwsOptions, graphSource } from './deploy.js';
import { type DeploymentCosts, deploymentCosts } from './deployment-costs.js';
import type { CommandRegistrar } from './index.js';

interface DoctorFlags {
  target: 'aws';
  plan?: string;
  model?: string;
  endpoint?: string;
  region?: string;
  roleArn?: string;
  createRole?: boolean;
  bucket?: string;
  prefix?: string;
  runtime?: (typeof functionRuntimes)[number];
  priceTable?: string;
  json?: boolean;
}

function printReport(context: CliContext, report: DoctorReport, costs: DeploymentCosts | undefined): void {
  const mark = {
    ok: context.output.color('green', 'ok'),
    warn: context.output.color('yellow', 'warn'),
    fail: context.output.color('red', 'FAIL'),
  };
  context.output.table(
    report.checks.map((check) => ({ check: check.check, status: mark[check.status], detail: check.detail })),
    { title: `AWS ${report.region}${report.endpoint ? ` (${report.endpoint})` : ''}` },
  );
  const deployment = report.deployment;
  if (deployment) {
    const counts = new Map<string, number>();
    for (const fn of deployment.functions)
      for (const action of fn.actions) counts.set(action, (counts.get(action) ?? 0) + 1);
    const uploads = deployment.objects.filter((object) => object.actions.includes('upload'));
    context.output.line(
      `a deploy would: ${[...counts].map(([action, count]) => `${action} ×${count}`).join(', ') || 'change nothing'}; ` +
        `layers ${deployment.layers.map((layer) => `${layer.layerName} ${layer.actions.join('/')}`).join(', ') || 'none'}; ` +
        `upload ${uploads.length} object(s), ${(uploads.reduce((sum, object) => sum + (object.bytes ?? 0), 0) / 1e6).toFixed(1)} MB` +
        (deployment.role ? `; role ${deployment.role.roleName} ${deployment.role.actions.join('/')}` : ''),
    );
  }
  if (costs) {
    context.output.table(
      [
        { cost: 'idle, per hour (provisioned concurrency)', usd: costs.idleUsdPerHour },
        { cost: `per 1,000 requests of ${costs.tokensPerRequest} tokens`, usd: costs.usdPerThousandRequests },
      ],
      { title: `cost (price table ${costs.priceTable.version}, ${costs.priceTable.date})` },
    );
  }
}

/** `switchyard doctor --target aws`: checks an account before a deploy, changing nothing. */
export const registerDoctor: CommandRegistrar = (program, context) => {
  const doctor = program
    .command('doctor')
    .description(
      'check an AWS account for a deployment (credentials, region, role, bucket, quotas) and show what a plan would create and cost; changes nothing',
    )
    .addOption(new Option('--target <target>', 'what to check').choices(['aws']).makeOptionMandatory());
  addAwsOptions(doctor, context)
    .option('--plan <file>', 'deployment plan JSON: dry-run its deployment and price it')
    .option(
      '--model <dir>',
      "checkpoint holding the plan's experts (default: the bundled fixture named in the plan)",
    )
    .option('--role-arn <arn>', 'the execution role a deploy would use')
    .option('--create-role', 'a deploy would create its own role')
    .addOption(
      new Option('--runtime <runtime>', 'Lambda Node.js runtime')
        .choices([...functionRuntimes])
        .default('nodejs22.x'),
    )
    .option('--price-table <file>', 'JSON price-table override merged over the built-in table');
  addJsonOption(doctor);
  addExamples(doctor, [
    {
      command: 'switchyard doctor --target aws --plan plan.json --create-role --bucket my-weights',
      description: 'check the account, dry-run the deployment, print its idle and per-request cost',
    },
    'switchyard doctor --target aws --endpoint http://127.0.0.1:5000 --json',
  ]);
  doctor.action(async (flags: DoctorFlags) => {
    const plan: DeploymentPlan | undefined = flags.plan
      ? readJsonFileWithSchema(flags.plan, deploymentPlanSchema, 'plan')
      : undefined;
    const report = await doctorAwsTarget(plan, {
      endpoint: flags.endpoint,
      region: flags.region,
      roleArn: flags.roleArn,
      createRole: flags.createRole,
      bucket: flags.bucket,
      prefix: flags.prefix,
      runtime: flags.runtime,
      graphs: plan ? graphSource(flags, plan, context) : undefined,
      logger: context.logger,
    });
    const costs = plan
      ? deploymentCosts(plan, { region: report.region, priceTablePath: flags.priceTable })
      : undefined;
    context.output.result({ ...report, ...(costs ? { costs } : {}) }, () =>
      printReport(context, report, costs),
    );
    const failed = report.checks.filter((check) => check.status === 'fail');
    if (failed.length > 0) {
      throw new SwitchyardError({
        code: 'DEPLOYMENT_FAILED',
        message: `${failed.length} check(s) failed: ${failed.map((check) => `${check.check}: ${check.detail}`).join('; ')}`,
        location: 'doctor',
      });
    }
  });
};
