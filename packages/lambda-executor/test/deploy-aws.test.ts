import { CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CodeStorageExceededException,
  GetAliasCommand,
  GetFunctionCommand,
  InvalidParameterValueException,
  ListFunctionsCommand,
  ListLayerVersionsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  ResourceConflictException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type DeploymentPlanInput, parseJson } from '@switchyard/core';
import { type MotoServer, motoCredentials, startMotoServer } from '@switchyard/testing/moto';
import { buildPlan, type PlanFunctionSpec } from '@switchyard/testing/plans';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployPlan } from '../src/deploy/deploy-plan.js';
import { doctorAwsTarget } from '../src/deploy/doctor.js';
import { undeployPlan } from '../src/deploy/undeploy-plan.js';
import type { DeployOptions } from '../src/options.js';
import { type Call, type Interception, isWrite, recordingClients } from './aws-fixtures.js';

// Control plane only: moto cannot invoke functions without Docker, so the handler bundle here is a
// stand-in; invocation is tested on the embedded runtime (deploy.test.ts).
const handlerBundle = new TextEncoder().encode('export const handler = async () => ({});\n');
const graphs = (layer: number, expert: number): Uint8Array =>
  new TextEncoder().encode(`onnx graph of layer ${layer} expert ${expert}`.repeat(64));

/** Two layers of the shakespeare shape: a packed group with 2 replicas (reserved 2), and singles. */
function plan(memory: { g0?: number; e5?: number; l0?: number } = {}): DeploymentPlanInput {
  const layer1: PlanFunctionSpec[] = [
    { name: 'shk-l1-g0', experts: [0, 1], memoryMB: memory.g0 ?? 1024, replicas: 2, reservedConcurrency: 2 },
    { name: 'shk-l1-e5', experts: [5], memoryMB: memory.e5 ?? 512 },
  ];
  return buildPlan({
    model: {
      name: 'shakespeare-mixtral-8x2',
      hiddenSize: 128,
      expertIntermediateSize: 384,
      numExperts: 8,
      topK: 2,
    },
    layers: [
      { layer: 0, functions: [{ name: 'shk-l0-e3', experts: [3], memoryMB: memory.l0 ?? 768 }] },
      { layer: 1, functions: layer1 },
    ],
  });
}

describe('deployPlan against moto (AWS Lambda, IAM, S3 and STS as moto implements them)', () => {
  let moto: MotoServer;
  const bucket = 'switchyard-weights';

  beforeAll(async () => {
    moto = await startMotoServer();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    const setup = recordingClients(moto.endpoint);
    await setup.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    setup.destroy();
  });

  /** Deploys with recording clients; returns the result and the calls made. */
  async function deploy(
    planInput: DeploymentPlanInput,
    options: Partial<DeployOptions> = {},
    intercept?: Interception,
  ): Promise<{ result: Awaited<ReturnType<typeof deployPlan>>; calls: Call[] }> {
    const clients = recordingClients(moto.endpoint, { intercept });
    try {
      const result = await deployPlan(planInput, {
        target: 'aws',
        endpoint: moto.endpoint,
        credentials: motoCredentials,
        createRole: true,
        bucket,
        prefix: 'models',
        graphs,
        handlerBundle,
        clients,
        controlPlane: { baseBackoffMs: 1, maxBackoffMs: 5, waitTimeoutSeconds: 30 },
        ...options,
      });
      return { result, calls: clients.calls };
    } finally {
      clients.destroy();
    }
  }

  /** Everything still carrying the deployment's tag: functions, the role, objects (and the layers by name). */
  async function leftovers(): Promise<string[]> {
    const clients = recordingClients(moto.endpoint);
    const found: string[] = [];
    const functions = await clients.lambda.send(new ListFunctionsCommand({}));
    for (const fn of functions.Functions ?? []) {
      const tags = await clients.lambda.send(new ListTagsCommand({ Resource: fn.FunctionArn }));
      if (tags.Tags?.['switchyard:deployment']) found.push(`function ${fn.FunctionName}`);
    }
    for (const arch of ['x86-64', 'arm64']) {
      const layer = `switchyard-shakespeare-mixtral-8x2-runtime-${arch}`;
      const versions = await clients.lambda
        .send(new ListLayerVersionsCommand({ LayerName: layer }))
        .catch(() => ({ LayerVersions: [] }));
      for (const version of versions.LayerVersions ?? []) found.push(`layer ${version.LayerVersionArn}`);
    }
    const objects = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of objects.Contents ?? []) found.push(`object ${object.Key}`);
    const role = await clients.iam
      .send(new GetRoleCommand({ RoleName: 'switchyard-shakespeare-mixtral-8x2' }))
      .catch(() => undefined);
    if (role?.Role) found.push(`role ${role.Role.RoleName}`);
    clients.destroy();
    return found;
  }

  it('creates the role, graphs, layer and functions; re-runs write nothing; a plan change touches only what changed; undeploy removes all', async () => {
    const first = await deploy(plan());
    const names = ['shk-l0-e3-r0', 'shk-l1-g0-r0', 'shk-l1-g0-r1', 'shk-l1-e5-r0'];
    expect(first.result.functions.map((fn) => [fn.functionName, fn.actions])).toEqual([
      ['shk-l0-e3-r0', ['create', 'publish-version', 'create-alias']],
      ['shk-l1-g0-r0', ['create', 'put-concurrency', 'publish-version', 'create-alias']],
      ['shk-l1-g0-r1', ['create', 'put-concurrency', 'publish-version', 'create-alias']],
      ['shk-l1-e5-r0', ['create', 'publish-version', 'create-alias']],
    ]);
    expect(first.result.role?.actions).toEqual(['create', 'put-policy']);
    // moto has no GetAccountSettings: the quotas are reported unchecked, not silently passed.
    expect(first.result.warnings).toEqual([
      expect.stringMatching(/^account quotas not checked: GetAccountSettings failed \(/),
    ]);
    expect(first.result.layers.map((layer) => layer.actions)).toEqual([['publish']]);
    // Four distinct graphs (experts 3, 0, 1, 5), each uploaded once though g0 has two replicas.
    expect(first.result.objects.map((object) => object.actions)).toEqual([
      ['upload'],
      ['upload'],
      ['upload'],
      ['upload'],
    ]);
    expect(first.calls.filter((call) => call === 's3:PutObject')).toHaveLength(4);
    expect(first.calls.filter((call) => call === 'lambda:CreateFunction')).toHaveLength(4);

    // What moto holds now, read back through the SDK.
    const admin = recordingClients(moto.endpoint);
    const fn = await admin.lambda.send(new GetFunctionCommand({ FunctionName: 'shk-l1-g0-r1' }));
    expect(fn.Configuration).toMatchObject({
      Runtime: 'nodejs22.x',
      MemorySize: 1024,
      Handler: 'expert-function.handler',
      Architectures: ['x86_64'],
      Role: first.result.role?.roleArn,
      Environment: {
        Variables: expect.objectContaining({ SWITCHYARD_DEPLOYMENT: 'shakespeare-mixtral-8x2' }),
      },
    });
    expect(fn.Configuration?.Layers?.map((layer) => layer.Arn)).toEqual([
      first.result.layers[0]?.layerVersionArn,
    ]);
    expect(fn.Concurrency?.ReservedConcurrentExecutions).toBe(2);
    expect(fn.Tags).toMatchObject({
      'switchyard:deployment': 'shakespeare-mixtral-8x2',
      'switchyard:layer': '1',
      'switchyard:weights': `s3://${bucket}/models/`,
    });
    const alias = await admin.lambda.send(
      new GetAliasCommand({ FunctionName: 'shk-l1-g0-r1', Name: 'live' }),
    );
    expect(alias.FunctionVersion).toBe('1');
    // The zip's manifest names the graphs in S3 (content-addressed keys under prefix/model/).
    const objects = await admin.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(objects.Contents?.map((object) => object.Key)).toHaveLength(4);
    for (const object of objects.Contents ?? []) {
      expect(object.Key).toMatch(/^models\/shakespeare-mixtral-8x2\/graphs\/[0-9a-f]{64}\.onnx$/);
    }
    const graph = await admin.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: objects.Contents?.[0]?.Key }),
    );
    expect((await graph.Body?.transformToByteArray())?.byteLength).toBeGreaterThan(1000);
    // Least privilege: the function logs, and reads the weights prefix; nothing else.
    const policy = await admin.iam.send(
      new GetRolePolicyCommand({
        RoleName: 'switchyard-shakespeare-mixtral-8x2',
        PolicyName: 'switchyard-expert-function',
      }),
    );
    const document = parseJson(decodeURIComponent(policy.PolicyDocument ?? ''), 'role policy') as {
      Statement: Array<{ Action: string | string[]; Resource: string | string[] }>;
    };
    expect(document.Statement.map((statement) => statement.Action)).toEqual([
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      's3:GetObject',
    ]);
    expect(document.Statement[1]?.Resource).toBe(`arn:aws:s3:::${bucket}/models/shakespeare-mixtral-8x2/*`);
    expect(document.Statement[0]?.Resource).toContain(
      'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shk-l1-e5-r0:*',
    );
    admin.destroy();

    // A second run: every read, no write.
    const again = await deploy(plan());
    expect(again.calls.filter(isWrite)).toEqual([]);
    expect(again.result.functions.every((f) => f.actions.join() === 'unchanged')).toBe(true);
    expect(again.result.role?.actions).toEqual(['unchanged']);
    expect(again.result.layers[0]?.actions).toEqual(['unchanged']);
    expect(again.result.objects.every((object) => object.actions.join() === 'present')).toBe(true);

    // Two memory sizes changed (l0-e3 and l1-e5): exactly those two are updated, republished, re-aliased.
    const changed = await deploy(plan({ l0: 1536, e5: 2048 }));
    expect(changed.calls.filter(isWrite)).toEqual([
      'lambda:UpdateFunctionConfiguration',
      'lambda:PublishVersion',
      'lambda:UpdateAlias',
      'lambda:UpdateFunctionConfiguration',
      'lambda:PublishVersion',
      'lambda:UpdateAlias',
    ]);
    expect(
      changed.result.functions.filter((f) => f.actions.join() !== 'unchanged').map((f) => f.functionName),
    ).toEqual(['shk-l0-e3-r0', 'shk-l1-e5-r0']);
    const versions = recordingClients(moto.endpoint);
    const listed = await versions.lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: 'shk-l1-e5-r0' }),
    );
    expect(listed.Versions?.map((version) => version.Version)).toEqual(['$LATEST', '1', '2']);
    const moved = await versions.lambda.send(
      new GetAliasCommand({ FunctionName: 'shk-l1-e5-r0', Name: 'live' }),
    );
    expect(moved.FunctionVersion).toBe('2');
    versions.destroy();

    const removed = await undeployPlan(plan(), {
      target: 'aws',
      endpoint: moto.endpoint,
      credentials: motoCredentials,
      controlPlane: { baseBackoffMs: 1, maxBackoffMs: 5 },
    });
    expect(removed.functions.map((f) => f.functionName).sort()).toEqual([...names].sort());
    expect(removed.role?.actions).toEqual(['delete']);
    expect(removed.objects).toHaveLength(4);
    expect(await leftovers()).toEqual([]);
  });

  /** A role any test can give as --role-arn: `trusting` is the service its trust policy names. */
  async function role(name: string, trusting: string): Promise<string> {
    const clients = recordingClients(moto.endpoint);
    const created = await clients.iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: trusting }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    clients.destroy();
    return created.Role?.Arn as string;
  }

  it('refuses a role Lambda cannot assume, a missing role and a bucket in another region before writing anything', async () => {
    const ec2Role = await role('ec2-only', 'ec2.amazonaws.com');
    const notAssumable = deploy(plan(), { createRole: false, roleArn: ec2Role });
    await expect(notAssumable).rejects.toThrow(
      /ec2-only cannot be assumed by Lambda: its trust policy does not allow lambda\.amazonaws\.com/,
    );
    const missing = deploy(plan(), { createRole: false, roleArn: 'arn:aws:iam::123456789012:role/nobody' });
    await expect(missing).rejects.toThrow(/the execution role nobody does not exist/);

    const setup = recordingClients(moto.endpoint);
    await setup.s3.send(
      new CreateBucketCommand({
        Bucket: 'weights-in-ireland',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    setup.destroy();
    let calls: Call[] = [];
    const elsewhere = deploy(plan(), { bucket: 'weights-in-ireland' }, (call) => {
      calls.push(call);
      return undefined;
    });
    await expect(elsewhere).rejects.toThrow(
      /the bucket weights-in-ireland is in eu-west-1 but the functions deploy to us-east-1/,
    );
    expect(calls.filter(isWrite)).toEqual([]);
    calls = [];
    await expect(deploy(plan(), { createRole: false })).rejects.toThrow(
      /needs an execution role: pass --role-arn ARN, or --create-role/,
    );
    await expect(deploy(plan(), { roleArn: ec2Role })).rejects.toThrow(
      /either roleArn \(--role-arn\) or createRole/,
    );
    expect(await leftovers()).toEqual([]);
  });

  it('checks the account quotas (GetAccountSettings, injected: moto has none) before the first write', async () => {
    const settings = (unreserved: number, storageUsed: number) => ({
      AccountLimit: {
        ConcurrentExecutions: 1000,
        UnreservedConcurrentExecutions: unreserved,
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
      },
      AccountUsage: { TotalCodeSize: storageUsed, FunctionCount: 0 },
      $metadata: {},
    });
    const answer =
      (unreserved: number, storageUsed: number): Interception =>
      (call) =>
        call === 'lambda:GetAccountSettings' ? { output: settings(unreserved, storageUsed) } : undefined;
    // The plan reserves 2 × 2; Lambda keeps 100 unreserved.
    const concurrency = await deploy(plan(), {}, answer(103, 0)).catch((error: Error) => error);
    expect(String(concurrency)).toMatch(
      /concurrency quota is exceeded: the plan needs 4 more reserved or provisioned executions, the account has 103 unreserved of 1000 and Lambda keeps 100 unreserved/,
    );
    const storage = await deploy(plan(), {}, answer(900, 80_530_000_000)).catch((error: Error) => error);
    expect(String(storage)).toMatch(/code storage quota is exceeded: 80530000000 of 80530636800 bytes used/);
    expect(await leftovers()).toEqual([]);
    // With room, the same answer lets the deployment through (without the API it warns: first test).
    const fits = await deploy(plan(), {}, answer(104, 0));
    expect(fits.result.warnings).toEqual([]);
    expect(fits.result.functions).toHaveLength(4);
  });

  it('explains a quota hit mid-deploy; undeploy removes the half-made deployment and a re-run finishes it', async () => {
    let creates = 0;
    const storageFull: Interception = (call) => {
      if (call !== 'lambda:CreateFunction' || ++creates !== 3) return undefined;
      return {
        error: new CodeStorageExceededException({ message: 'Code storage limit exceeded.', $metadata: {} }),
      };
    };
    const failed = await deploy(plan(), {}, storageFull).catch((error: Error) => error);
    expect(String(failed)).toMatch(
      /code storage quota is full \(Code storage limit exceeded\.\).*shk-l1-g0-r1/,
    );
    expect((await leftovers()).length).toBeGreaterThan(0);
    const removed = await undeployPlan(plan(), {
      target: 'aws',
      endpoint: moto.endpoint,
      credentials: motoCredentials,
      bucket,
      prefix: 'models',
    });
    expect(removed.functions.map((f) => f.functionName)).toEqual(['shk-l0-e3-r0', 'shk-l1-g0-r0']);
    expect(await leftovers()).toEqual([]);

    // Stopped after publishing the third function's version, before its alias: the re-run reuses
    // everything made, publishes nothing twice and only finishes what is missing.
    let aliases = 0;
    const stop: Interception = (call) =>
      call === 'lambda:CreateAlias' && ++aliases === 3 ? { error: new Error('connection reset') } : undefined;
    await expect(deploy(plan(), {}, stop)).rejects.toThrow(/connection reset/);
    const finished = await deploy(plan());
    expect(finished.calls.filter(isWrite)).toEqual([
      'lambda:PublishVersion',
      'lambda:CreateAlias',
      'lambda:CreateFunction',
      'lambda:PublishVersion',
      'lambda:CreateAlias',
    ]);
    const admin = recordingClients(moto.endpoint);
    const versions = await admin.lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: 'shk-l1-g0-r1' }),
    );
    expect(versions.Versions?.map((version) => version.Version)).toEqual(['$LATEST', '1']);
    admin.destroy();
  });

  it('retries ResourceConflictException while an update is in progress, and names the call when it never ends', async () => {
    await deploy(plan());
    let conflicts = 0;
    const busy =
      (times: number): Interception =>
      (call) =>
        call === 'lambda:UpdateFunctionConfiguration' && conflicts++ < times
          ? {
              error: new ResourceConflictException({
                message:
                  'The operation cannot be performed at this time. An update is in progress for resource: shk-l0-e3-r0',
                $metadata: {},
              }),
            }
          : undefined;
    const retried = await deploy(plan({ l0: 1024 }), {}, busy(2));
    expect(retried.calls.filter((call) => call === 'lambda:UpdateFunctionConfiguration')).toHaveLength(3);
    expect(retried.result.functions[0]?.actions).toEqual([
      'update-configuration',
      'publish-version',
      'update-alias',
    ]);
    conflicts = 0;
    const stuck = deploy(
      plan({ l0: 2048 }),
      { controlPlane: { maxAttempts: 3, baseBackoffMs: 1 } },
      busy(100),
    );
    await expect(stuck).rejects.toThrow(
      /UpdateFunctionConfiguration shk-l0-e3-r0 still failed with ResourceConflictException after 3 attempts/,
    );
  });

  it("never touches a function of a plan name that is not this deployment's", async () => {
    const clients = recordingClients(moto.endpoint);
    const someone = await role('someone-else', 'lambda.amazonaws.com');
    const { CreateFunctionCommand } = await import('@aws-sdk/client-lambda');
    const { writeZip } = await import('@switchyard/lambda-local/internal');
    await clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'shk-l1-e5-r0',
        Runtime: 'nodejs22.x',
        Role: someone,
        Handler: 'index.handler',
        Code: { ZipFile: writeZip([{ path: 'index.mjs', data: handlerBundle }]) },
      }),
    );
    clients.destroy();
    const calls: Call[] = [];
    const refused = deploy(plan(), {}, (call) => {
      calls.push(call);
      return undefined;
    });
    await expect(refused).rejects.toThrow(
      /a function named shk-l1-e5-r0 exists but is not this deployment's/,
    );
    expect(calls.filter(isWrite)).toEqual([]);
    const removed = await undeployPlan(plan(), {
      target: 'aws',
      endpoint: moto.endpoint,
      credentials: motoCredentials,
    });
    expect(removed.functions).toEqual([]);
    expect(removed.warnings).toEqual([expect.stringMatching(/shk-l1-e5-r0 is not this deployment's/)]);
  });

  it('retries a just-created role until IAM has propagated it, and throttling; a given role that cannot be assumed fails at once', async () => {
    let creates = 0;
    const lagging: Interception = (call) => {
      if (call !== 'lambda:CreateFunction') return undefined;
      creates++;
      if (creates <= 2)
        return {
          error: new InvalidParameterValueException({
            message: 'The role defined for the function cannot be assumed by Lambda.',
            $metadata: {},
          }),
        };
      if (creates === 4)
        return { error: new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }) };
      return undefined;
    };
    const deployed = await deploy(
      plan(),
      { controlPlane: { rolePropagationSeconds: 30, maxBackoffMs: 5 } },
      lagging,
    );
    expect(deployed.calls.filter((call) => call === 'lambda:CreateFunction')).toHaveLength(4 + 2 + 1);
    expect(deployed.result.functions.every((fn) => fn.actions[0] === 'create')).toBe(true);

    // The same answer for a role this deployment did not just create is final, and explained.
    await undeployPlan(plan(), {
      target: 'aws',
      endpoint: moto.endpoint,
      credentials: motoCredentials,
      bucket,
      prefix: 'models',
    });
    const given = await role('given-role', 'lambda.amazonaws.com');
    let refusals = 0;
    const refuse: Interception = (call) =>
      call === 'lambda:CreateFunction' && ++refusals > 0
        ? {
            error: new InvalidParameterValueException({
              message: 'The role defined for the function cannot be assumed by Lambda.',
              $metadata: {},
            }),
          }
        : undefined;
    const failed = await deploy(plan(), { createRole: false, roleArn: given }, refuse).catch(
      (error: Error) => error,
    );
    expect(String(failed)).toMatch(
      /the execution role cannot be assumed by Lambda .*its trust policy must allow lambda\.amazonaws\.com.*\(at shk-l0-e3-r0\)/,
    );
    expect(refusals).toBe(1);
  });

  it("never takes over a role of the deployment's name that it did not create", async () => {
    await role('switchyard-shakespeare-mixtral-8x2', 'lambda.amazonaws.com');
    const calls: Call[] = [];
    const refused = deploy(plan(), {}, (call) => {
      calls.push(call);
      return undefined;
    });
    await expect(refused).rejects.toThrow(
      /an IAM role named switchyard-shakespeare-mixtral-8x2 exists but has no tag switchyard:deployment=shakespeare-mixtral-8x2/,
    );
    expect(calls.filter(isWrite)).toEqual([]);
    // Undeploy leaves it too: it is not this deployment's.
    const removed = await undeployPlan(plan(), {
      target: 'aws',
      endpoint: moto.endpoint,
      credentials: motoCredentials,
    });
    expect(removed.role).toBeUndefined();
    expect(await leftovers()).toEqual(['role switchyard-shakespeare-mixtral-8x2']);
  });

  it('plans in a dry run: reads the account, writes nothing', async () => {
    const dry = await deploy(plan(), { dryRun: true });
    expect(dry.calls.filter(isWrite)).toEqual([]);
    expect(dry.result.accountId).toBe('123456789012');
    expect(dry.result.role?.actions).toEqual(['create', 'put-policy']);
    expect(dry.result.functions[1]?.actions).toEqual([
      'create',
      'put-concurrency',
      'publish-version',
      'create-alias',
    ]);
    expect(await leftovers()).toEqual([]);
  });

  it('doctor: checks credentials, region, role, bucket and quotas, and dry-runs the plan', async () => {
    const clients = recordingClients(moto.endpoint);
    const common = { endpoint: moto.endpoint, credentials: motoCredentials, clients, graphs, handlerBundle };
    const healthy = await doctorAwsTarget(plan(), { ...common, createRole: true, bucket, prefix: 'models' });
    expect(healthy.accountId).toBe('123456789012');
    expect(healthy.checks.map((check) => [check.check, check.status])).toEqual([
      ['credentials', 'ok'],
      ['region', 'ok'],
      ['role', 'ok'],
      ['bucket', 'ok'],
      ['quotas', 'warn'],
      ['plan', 'warn'],
    ]);
    expect(healthy.checks[4]?.detail).toMatch(/^not checked: GetAccountSettings failed/);
    expect(healthy.checks[5]?.detail).toMatch(
      /^a deploy would change 4 of 4 functions; role switchyard-shakespeare-mixtral-8x2: create, put-policy/,
    );
    expect(healthy.deployment?.layers.map((layer) => layer.actions)).toEqual([['publish']]);
    expect(clients.calls.filter(isWrite)).toEqual([]);

    const ec2Role = await role('doctor-ec2', 'ec2.amazonaws.com');
    const sick = await doctorAwsTarget(undefined, {
      ...common,
      roleArn: ec2Role,
      bucket: 'no-such-bucket',
      region: 'us-east-1',
    });
    expect(sick.checks.map((check) => [check.check, check.status])).toEqual([
      ['credentials', 'ok'],
      ['region', 'ok'],
      ['role', 'fail'],
      ['bucket', 'fail'],
      ['quotas', 'warn'],
    ]);
    expect(sick.checks[2]?.detail).toMatch(/doctor-ec2 cannot be assumed by Lambda/);
    expect(sick.checks[3]?.detail).toMatch(/the bucket no-such-bucket does not exist/);
    const badRegion = await doctorAwsTarget(undefined, { ...common, region: 'moon-1' });
    expect(badRegion.checks[1]).toEqual({
      check: 'region',
      status: 'fail',
      detail: 'moon-1 is not an AWS region name (like us-east-1)',
    });
    clients.destroy();
  });
});
