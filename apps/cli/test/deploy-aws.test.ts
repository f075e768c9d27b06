import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IAMClient } from '@aws-sdk/client-iam';
import {
  GetAliasCommand,
  GetFunctionCommand,
  type LambdaClient,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type DeploymentPlan, deploymentPlanSchema } from '@switchyard/core';
import { defaultPriceTable, provisionedConcurrencyUsdPerHour, resolveRates } from '@switchyard/cost-model';
import { runCli } from '@switchyard/testing/cli';
import { type MotoServer, motoEnvironment, startMotoServer } from '@switchyard/testing/moto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentOnMoto, type MotoClients, motoClients } from './moto-deployment.js';

/**
 * `switchyard deploy --target aws` on the Shakespeare plan against moto_server (IAM, S3, STS and the
 * Lambda control plane as moto implements them), in real child processes. Invocation is not tested
 * here: moto cannot invoke without Docker (the embedded runtime runs the same zips and layer:
 * packages/lambda-executor/test/deploy.test.ts).
 */
const work = mkdtempSync(join(tmpdir(), 'switchyard-deploy-aws-'));
const bucket = 'shakespeare-weights';
const model = 'shakespeare-mixtral-8x2';
const awsEnv: NodeJS.ProcessEnv = motoEnvironment;

describe('switchyard deploy / undeploy / doctor --target aws against moto', () => {
  let moto: MotoServer;
  let plan: DeploymentPlan;
  let planPath: string;
  let lambda: LambdaClient;
  let s3: S3Client;
  let iam: IAMClient;
  let clients: MotoClients;

  beforeAll(async () => {
    moto = await startMotoServer();
    clients = await motoClients(moto.endpoint, bucket);
    ({ lambda, s3, iam } = clients);
    planPath = join(work, 'plan.json');
    const planned = await runCli(
      [
        'plan',
        '--model',
        `fixtures/checkpoints/${model}`,
        '--traces',
        `fixtures/traces/${model}/calibration.safetensors`,
        '--tokens-per-batch',
        '1024',
        '--slo-ms',
        '3000',
        '--strategy',
        'ods',
        '--out',
        planPath,
      ],
      { timeoutMs: 120_000 },
    );
    expect(planned.code, planned.stderr).toBe(0);
    // Reserve concurrency on one function so that the deployment has some to set.
    const document = JSON.parse(readFileSync(planPath, 'utf8'));
    document.layers[0].functions[0].reservedConcurrency = 2;
    writeFileSync(planPath, JSON.stringify(document));
    plan = deploymentPlanSchema.parse(document);
  }, 180_000);

  afterAll(async () => {
    clients?.destroy();
    await moto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const aws = (args: string[], env: NodeJS.ProcessEnv = awsEnv) =>
    runCli([...args, '--target', 'aws', '--endpoint', moto.endpoint, '--json'], { env, timeoutMs: 240_000 });

  it('creates the role, graphs, layer and functions per the plan; a re-run changes nothing; two memory changes update two; undeploy leaves nothing tagged', async () => {
    const names = plan.layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.functionNames));
    const deploy = (path: string) =>
      aws(['deploy', '--plan', path, '--create-role', '--bucket', bucket, '--prefix', 'models/']);
    const first = await deploy(planPath);
    expect(first.code, first.stderr).toBe(0);
    const created = JSON.parse(first.stdout);
    expect(created.role).toMatchObject({
      roleName: `switchyard-${model}`,
      actions: ['create', 'put-policy'],
    });
    expect(created.layers).toEqual([expect.objectContaining({ actions: ['publish'], arch: 'x86_64' })]);
    const experts = plan.layers.reduce((sum, layer) => sum + layer.experts.length, 0);
    expect(created.objects).toHaveLength(experts);
    expect(created.functions.map((fn: { functionName: string }) => fn.functionName)).toEqual(names);

    for (const layer of plan.layers) {
      for (const fn of layer.functions) {
        for (const name of fn.functionNames) {
          const found = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
          expect(found.Configuration).toMatchObject({
            Runtime: 'nodejs22.x',
            MemorySize: fn.memoryMB,
            Handler: 'expert-function.handler',
            Role: created.role.roleArn,
            Environment: { Variables: expect.objectContaining({ SWITCHYARD_DEPLOYMENT: model }) },
          });
          expect(found.Concurrency?.ReservedConcurrentExecutions).toBe(fn.reservedConcurrency);
          const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
          expect(alias.FunctionVersion).toBe('1');
        }
      }
    }
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(objects.KeyCount).toBe(experts);

    // A second run: every function unchanged, no version published, nothing uploaded or published.
    const again = await deploy(planPath);
    expect(again.code, again.stderr).toBe(0);
    const unchanged = JSON.parse(again.stdout);
    expect(unchanged.functions.every((fn: { actions: string[] }) => fn.actions.join() === 'unchanged')).toBe(
      true,
    );
    expect(unchanged.role.actions).toEqual(['unchanged']);
    expect(unchanged.layers[0].actions).toEqual(['unchanged']);
    expect(
      unchanged.objects.every((object: { actions: string[] }) => object.actions.join() === 'present'),
    ).toBe(true);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: names[0] }));
    expect(versions.Versions?.map((version) => version.Version)).toEqual(['$LATEST', '1']);

    // Two memory sizes changed: exactly those two functions are updated, republished and re-aliased.
    const changedPlan = JSON.parse(readFileSync(planPath, 'utf8'));
    const targets = [changedPlan.layers[1].functions[0], changedPlan.layers[3].functions[0]];
    for (const fn of targets) fn.memoryMB += 64;
    const changedPath = join(work, 'plan-changed.json');
    writeFileSync(changedPath, JSON.stringify(changedPlan));
    const changed = await deploy(changedPath);
    expect(changed.code, changed.stderr).toBe(0);
    const updates = JSON.parse(changed.stdout).functions.filter(
      (fn: { actions: string[] }) => fn.actions.join() !== 'unchanged',
    );
    expect(updates).toEqual(
      targets.flatMap((fn: { functionNames: string[] }) =>
        fn.functionNames.map((functionName) =>
          expect.objectContaining({
            functionName,
            actions: ['update-configuration', 'publish-version', 'update-alias'],
          }),
        ),
      ),
    );

    const removed = await aws(['undeploy', '--plan', planPath, '--bucket', bucket, '--prefix', 'models/']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await deploymentOnMoto({ lambda, s3, iam }, { model, bucket })).toEqual({
      functions: [],
      layerVersions: [],
      objects: [],
      role: null,
    });
  }, 900_000);

  it('doctor reports the checks, what a deploy would create and its cost; a bad role fails it', async () => {
    // One function with provisioned concurrency (its reserved concurrency is 2): the idle cost.
    const provisionedPlan = JSON.parse(readFileSync(planPath, 'utf8'));
    provisionedPlan.layers[0].functions[0].provisionedConcurrency = 1;
    const provisionedPath = join(work, 'plan-provisioned.json');
    writeFileSync(provisionedPath, JSON.stringify(provisionedPlan));
    const healthy = await aws(['doctor', '--plan', provisionedPath, '--create-role', '--bucket', bucket]);
    expect(healthy.code, healthy.stderr).toBe(0);
    const report = JSON.parse(healthy.stdout);
    expect(
      report.checks.map((check: { check: string; status: string }) => `${check.check}:${check.status}`),
    ).toEqual(['credentials:ok', 'region:ok', 'role:ok', 'bucket:ok', 'quotas:warn', 'plan:warn']);
    expect(report.deployment.functions.every((fn: { actions: string[] }) => fn.actions[0] === 'create')).toBe(
      true,
    );
    expect(report.deployment.functions[0].actions).toContain('put-provisioned-concurrency');
    const provisioned = provisionedPlan.layers[0].functions[0];
    const rates = resolveRates({ region: 'us-east-1', arch: plan.arch }, defaultPriceTable);
    expect(report.costs.idleUsdPerHour).toBeGreaterThan(0);
    expect(report.costs.idleUsdPerHour).toBeCloseTo(
      provisionedConcurrencyUsdPerHour(provisioned.memoryMB, provisioned.replicas, rates),
      12,
    );
    expect(report.costs.priceTable.version).toBe(defaultPriceTable.version);
    expect(report.costs.usdPerThousandRequests).toBeCloseTo(
      1000 * (plan.predicted.costUsdPerBatch - plan.predicted.provisionedUsd),
      12,
    );

    const sick = await aws(['doctor', '--role-arn', 'arn:aws:iam::123456789012:role/nobody']);
    expect(sick.code).toBe(11);
    expect(sick.stderr).toMatch(
      /^error \[DEPLOYMENT_FAILED\]: 1 check\(s\) failed: role: the execution role nobody does not exist/,
    );
  }, 600_000);

  it('without credentials, deploy fails at once with what to do, having created nothing', async () => {
    const noCredentials = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
      AWS_CONFIG_FILE: join(work, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
      AWS_REGION: 'us-east-1',
    };
    const run = await aws(['deploy', '--plan', planPath, '--create-role', '--bucket', bucket], noCredentials);
    expect(run.code).toBe(11);
    expect(run.stderr.trim()).toMatch(
      /^error \[DEPLOYMENT_FAILED\]: no AWS credentials were found: set AWS_PROFILE \(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), or log in with `aws sso login` \(at credentials\)$/,
    );
    expect((await lambda.send(new ListFunctionsCommand({}))).Functions).toEqual([]);
  }, 120_000);
});
