import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AliasRoutingConfiguration,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  InvokeCommand,
  type InvokeCommandOutput,
  type LambdaClient,
  ListAliasesCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  ProvisionedConcurrencyConfigNotFoundException,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  type Runtime,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { delay, parseReportLine } from '@switchyard/core';
import { loadedInitTimeoutMs } from '@switchyard/testing/local-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCodeBucket } from '../src/code-store.js';
import { type LocalRuntime, startLocalRuntime } from '../src/local-runtime.js';
import { writeZip } from '../src/zip.js';
import { lambdaClient, waitForActive, waitForUpdated, waitForVersion } from './lambda-client.js';

/** Reports what it ran as: version, invoked ARN, initialisation type, runtime, and the layers it sees. */
const handlerSource = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
export const handler = async (event, context) => {
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  const optDir = process.env.SWITCHYARD_OPT_DIR;
  return {
    marker: process.env.MARKER ?? null,
    memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    contextVersion: context.functionVersion,
    invokedArn: context.invokedFunctionArn,
    initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
    executionEnv: process.env.AWS_EXECUTION_ENV,
    greeting: event.layers ? require('greeting') : null,
    layerFile: event.layers ? readFileSync(optDir + '/data/file.txt', 'utf8') : null,
  };
};
`;

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

interface Answer {
  marker: string | null;
  memory: string;
  version: string;
  contextVersion: string;
  invokedArn: string;
  initializationType: string;
  executionEnv: string;
  greeting: string | null;
  layerFile: string | null;
}

function answerOf(output: InvokeCommandOutput): Answer {
  const body = new TextDecoder().decode(output.Payload);
  expect(output.FunctionError, body).toBeUndefined();
  return JSON.parse(body) as Answer;
}

function logOf(output: InvokeCommandOutput): string {
  return Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
}

const zip = writeZip([{ path: 'index.mjs', data: text(handlerSource) }]);

describe('function states on the local runtime (2 s transitions)', () => {
  let runtime: LocalRuntime;
  let lambda: LambdaClient;

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      s3: false,
      stateTransitionMs: 2000,
      initTimeoutMs: loadedInitTimeoutMs,
    });
    lambda = lambdaClient(runtime);
  });
  afterAll(async () => {
    lambda?.destroy();
    await runtime?.stop();
  });

  it('is Pending, then Active; an update is InProgress, then Successful; calls in between answer ResourceConflictException', async () => {
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'stately',
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: zip },
        MemorySize: 256,
        Environment: { Variables: { MARKER: 'first' } },
      }),
    );
    expect(created).toMatchObject({ State: 'Pending', StateReasonCode: 'Creating' });
    // Lambda neither invokes nor updates nor publishes a Pending function.
    for (const call of [
      () => lambda.send(new InvokeCommand({ FunctionName: 'stately', Payload: encode({}) })),
      () => lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'stately', MemorySize: 512 })),
      () => lambda.send(new PublishVersionCommand({ FunctionName: 'stately' })),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(ResourceConflictException);
    }
    await waitForActive(lambda, 'stately');
    const active = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'stately' }));
    expect(active).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(answerOf(await lambda.send(new InvokeCommand({ FunctionName: 'stately' }))).marker).toBe('first');

    const updating = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'stately',
        MemorySize: 512,
        Environment: { Variables: { MARKER: 'second' } },
      }),
    );
    expect(updating).toMatchObject({ State: 'Active', LastUpdateStatus: 'InProgress', MemorySize: 512 });
    // GetFunction already reports the new configuration; invocations still run the previous one.
    const reported = await lambda.send(new GetFunctionCommand({ FunctionName: 'stately' }));
    expect(reported.Configuration).toMatchObject({ MemorySize: 512, LastUpdateStatus: 'InProgress' });
    const during = answerOf(await lambda.send(new InvokeCommand({ FunctionName: 'stately' })));
    expect(during).toMatchObject({ marker: 'first', memory: '256' });
    await expect(
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'stately', ZipFile: zip })),
    ).rejects.toThrow(
      /An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:stately/,
    );
    await expect(lambda.send(new PublishVersionCommand({ FunctionName: 'stately' }))).rejects.toBeInstanceOf(
      ResourceConflictException,
    );
    await waitForUpdated(lambda, 'stately');
    const after = answerOf(await lambda.send(new InvokeCommand({ FunctionName: 'stately' })));
    expect(after).toMatchObject({ marker: 'second', memory: '512' });

    // A stale RevisionId is a failed precondition, as on Lambda.
    await expect(
      lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'stately', Timeout: 9, RevisionId: 'stale' }),
      ),
    ).rejects.toBeInstanceOf(PreconditionFailedException);

    // A published version is Pending too, until the same delay has passed.
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'stately' }));
    expect(published).toMatchObject({ Version: '1', State: 'Pending' });
    await expect(
      lambda.send(new InvokeCommand({ FunctionName: 'stately', Qualifier: '1' })),
    ).rejects.toBeInstanceOf(ResourceConflictException);
    await waitForVersion(lambda, 'stately', '1');
    const frozen = await lambda.send(new InvokeCommand({ FunctionName: 'stately', Qualifier: '1' }));
    expect(frozen.ExecutedVersion).toBe('1');
    expect(answerOf(frozen).marker).toBe('second');
  });
});

describe('versions, aliases, layers, tags and provisioned concurrency on the local runtime', () => {
  let runtime: LocalRuntime;
  let lambda: LambdaClient;
  let layerDir: string;

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      accountConcurrency: 20,
      s3: false,
      initTimeoutMs: loadedInitTimeoutMs,
    });
    lambda = lambdaClient(runtime);
    layerDir = mkdtempSync(join(tmpdir(), 'switchyard-layer-'));
  });
  afterAll(async () => {
    lambda?.destroy();
    await runtime?.stop();
    rmSync(layerDir, { recursive: true, force: true });
  });

  async function createFunction(name: string, extra: Partial<{ Layers: string[]; Runtime: Runtime }> = {}) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: zip },
        MemorySize: 256,
        Environment: { Variables: { MARKER: 'a' } },
        Tags: { 'switchyard:model': 'test' },
        ...extra,
      }),
    );
    await waitForActive(lambda, name);
  }

  it('publishes versions that freeze code and configuration, and invokes them by number and by alias', async () => {
    await createFunction('versioned');
    const first = await lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }));
    expect(first).toMatchObject({
      Version: '1',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:versioned:1',
    });
    // Nothing changed since version 1: publishing again answers version 1.
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }))).Version).toBe('1');
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'versioned',
        Environment: { Variables: { MARKER: 'b' } },
      }),
    );
    await waitForUpdated(lambda, 'versioned');
    await expect(
      lambda.send(new PublishVersionCommand({ FunctionName: 'versioned', CodeSha256: 'not-the-code' })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    expect((await lambda.send(new PublishVersionCommand({ FunctionName: 'versioned' }))).Version).toBe('2');
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'versioned' }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);

    const byVersion = async (qualifier: string | undefined) => {
      const output = await lambda.send(
        new InvokeCommand({ FunctionName: 'versioned', Qualifier: qualifier }),
      );
      return { executed: output.ExecutedVersion, ...answerOf(output) };
    };
    expect(await byVersion('1')).toMatchObject({
      executed: '1',
      marker: 'a',
      version: '1',
      contextVersion: '1',
      invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:versioned:1',
    });
    expect(await byVersion('2')).toMatchObject({ executed: '2', marker: 'b' });
    expect(await byVersion(undefined)).toMatchObject({
      executed: '$LATEST',
      marker: 'b',
      version: '$LATEST',
      invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:versioned',
    });
    await expect(byVersion('7')).rejects.toBeInstanceOf(ResourceNotFoundException);

    const alias = await lambda.send(
      new CreateAliasCommand({ FunctionName: 'versioned', Name: 'live', FunctionVersion: '1' }),
    );
    expect(alias.AliasArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:versioned:live');
    await expect(
      lambda.send(new CreateAliasCommand({ FunctionName: 'versioned', Name: 'live', FunctionVersion: '2' })),
    ).rejects.toBeInstanceOf(ResourceConflictException);
    expect(await byVersion('live')).toMatchObject({
      executed: '1',
      marker: 'a',
      invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:versioned:live',
    });
    const viaAlias = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'versioned', Qualifier: 'live' }),
    );
    expect(viaAlias.Version).toBe('1');

    // Weighted routing: a quarter of the alias's invocations go to version 2.
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'versioned',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
      }),
    );
    const executed: string[] = [];
    for (let i = 0; i < 80; i++) executed.push((await byVersion('live')).executed ?? '');
    const toSecond = executed.filter((version) => version === '2').length;
    expect(executed.filter((version) => version !== '1' && version !== '2')).toEqual([]);
    expect(toSecond).toBeGreaterThan(8);
    expect(toSecond).toBeLessThan(32);
    const weighted = await lambda.send(new GetAliasCommand({ FunctionName: 'versioned', Name: 'live' }));
    expect(weighted.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.25 });

    // Lambda's rules for weighted aliases and for deleting versions.
    const invalid: Array<{ FunctionVersion: string; RoutingConfig: AliasRoutingConfiguration }> = [
      { FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } },
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } },
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
    ];
    for (const change of invalid) {
      await expect(
        lambda.send(new UpdateAliasCommand({ FunctionName: 'versioned', Name: 'live', ...change })),
      ).rejects.toBeInstanceOf(InvalidParameterValueException);
    }
    await expect(
      lambda.send(new UpdateAliasCommand({ FunctionName: 'versioned', Name: 'live', FunctionVersion: '9' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      lambda.send(new DeleteFunctionCommand({ FunctionName: 'versioned', Qualifier: '2' })),
    ).rejects.toBeInstanceOf(ResourceConflictException);
    await expect(
      lambda.send(new DeleteFunctionCommand({ FunctionName: 'versioned', Qualifier: '$LATEST' })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);

    // Moving the alias all the way: version 1 is free to go.
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'versioned',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    expect(await byVersion('live')).toMatchObject({ executed: '2', marker: 'b' });
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'versioned', Qualifier: '1' }));
    const left = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'versioned' }));
    expect(left.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '2']);
    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: 'versioned' }));
    expect(aliases.Aliases?.map((a) => [a.Name, a.FunctionVersion, a.RoutingConfig])).toEqual([
      ['live', '2', undefined],
    ]);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'versioned' }));
  });

  it('publishes layers and extracts a function’s layers, in order, into its stand-in for /opt', async () => {
    const layerA = writeZip([
      { path: 'nodejs/node_modules/greeting/index.js', data: text("module.exports = 'from layer A';") },
      { path: 'data/file.txt', data: text('A') },
    ]);
    const layerB = writeZip([{ path: 'data/file.txt', data: text('B') }]);
    const a = await lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'greeting',
        Content: { ZipFile: layerA },
        CompatibleRuntimes: ['nodejs22.x', 'nodejs24.x'],
        CompatibleArchitectures: ['x86_64'],
      }),
    );
    expect(a).toMatchObject({
      Version: 1,
      LayerVersionArn: 'arn:aws:lambda:us-east-1:000000000000:layer:greeting:1',
      CompatibleRuntimes: ['nodejs22.x', 'nodejs24.x'],
    });
    expect(a.Content?.CodeSize).toBe(layerA.byteLength);
    // A layer from a local directory (the runtime's extension, like function code).
    writeFileSync(join(layerDir, 'unused.txt'), 'local');
    const b = await lambda.send(
      new PublishLayerVersionCommand({ LayerName: 'files', Content: { ZipFile: layerB } }),
    );
    const local = await lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'files',
        Content: { S3Bucket: localCodeBucket, S3Key: layerDir },
      }),
    );
    expect(local.Version).toBe(2);

    await createFunction('layered', { Layers: [a.LayerVersionArn ?? '', b.LayerVersionArn ?? ''] });
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'layered' }));
    expect(configuration.Layers).toEqual([
      { Arn: a.LayerVersionArn, CodeSize: layerA.byteLength },
      { Arn: b.LayerVersionArn, CodeSize: layerB.byteLength },
    ]);
    const answer = answerOf(
      await lambda.send(new InvokeCommand({ FunctionName: 'layered', Payload: encode({ layers: true }) })),
    );
    // `greeting` resolves through NODE_PATH's nodejs/node_modules; layer B's file overwrote layer A's.
    expect(answer).toMatchObject({ greeting: 'from layer A', layerFile: 'B' });

    expect(
      (await lambda.send(new GetLayerVersionCommand({ LayerName: 'greeting', VersionNumber: 1 }))).Version,
    ).toBe(1);
    const byArn = await lambda.send(new GetLayerVersionByArnCommand({ Arn: a.LayerVersionArn }));
    expect(byArn.LayerArn).toBe('arn:aws:lambda:us-east-1:000000000000:layer:greeting');
    const fileVersions = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'files' }));
    expect(fileVersions.LayerVersions?.map((v) => v.Version)).toEqual([2, 1]);
    const compatible = await lambda.send(new ListLayersCommand({ CompatibleRuntime: 'nodejs24.x' }));
    expect(compatible.Layers?.map((layer) => layer.LayerName)).toEqual(['greeting']);

    await expect(
      createFunction('too-many-layers', { Layers: Array.from({ length: 6 }, () => a.LayerVersionArn ?? '') }),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    // A deleted layer version cannot be read or added, but the functions using it keep it.
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'greeting', VersionNumber: 1 }));
    await expect(
      lambda.send(new GetLayerVersionCommand({ LayerName: 'greeting', VersionNumber: 1 })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(createFunction('late', { Layers: [a.LayerVersionArn ?? ''] })).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', MemorySize: 512 }));
    await waitForUpdated(lambda, 'layered');
    const afterDelete = answerOf(
      await lambda.send(new InvokeCommand({ FunctionName: 'layered', Payload: encode({ layers: true }) })),
    );
    expect(afterDelete).toMatchObject({ greeting: 'from layer A', layerFile: 'B', memory: '512' });
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'layered' }));
  });

  it('tags functions (not versions or aliases) and reports them', async () => {
    await createFunction('tagged');
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:tagged';
    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { team: 'moe', stage: 'test' } }));
    expect((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags).toEqual({
      'switchyard:model': 'test',
      team: 'moe',
      stage: 'test',
    });
    await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['stage', 'switchyard:model'] }));
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'tagged' }))).Tags).toEqual({
      team: 'moe',
    });
    await expect(
      lambda.send(new TagResourceCommand({ Resource: `${arn}:1`, Tags: { a: 'b' } })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(lambda.send(new ListTagsCommand({ Resource: `${arn}-missing` }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'tagged' }));
  });

  it('keeps provisioned instances initialised ahead of invokes and spills over to on-demand ones', async () => {
    await createFunction('provisioned');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'provisioned' }));
    await lambda.send(
      new CreateAliasCommand({ FunctionName: 'provisioned', Name: 'live', FunctionVersion: '1' }),
    );
    await expect(
      lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'provisioned',
          Qualifier: '$LATEST',
          ProvisionedConcurrentExecutions: 1,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(
      lambda.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: 'live' }),
      ),
    ).rejects.toBeInstanceOf(ProvisionedConcurrencyConfigNotFoundException);
    const put = await lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'provisioned',
        Qualifier: 'live',
        ProvisionedConcurrentExecutions: 2,
      }),
    );
    expect(put).toMatchObject({ RequestedProvisionedConcurrentExecutions: 2, Status: 'IN_PROGRESS' });
    let status = put.Status;
    for (let i = 0; i < 300 && status !== 'READY'; i++) {
      await delay(50);
      const got = await lambda.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: 'live' }),
      );
      status = got.Status;
      if (status === 'READY') expect(got.AvailableProvisionedConcurrentExecutions).toBe(2);
    }
    expect(status).toBe('READY');
    // Reserved concurrency cannot drop below what is provisioned.
    await expect(
      lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'provisioned', ReservedConcurrentExecutions: 1 }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);

    // Three at once: two run on the provisioned instances (no INIT), the third cold-starts on demand.
    const outputs = await Promise.all(
      [0, 1, 2].map(() =>
        lambda.send(
          new InvokeCommand({
            FunctionName: 'provisioned',
            Qualifier: 'live',
            Payload: encode({ sleepMs: 500 }),
            LogType: 'Tail',
          }),
        ),
      ),
    );
    const runs = outputs.map((output) => ({
      initializationType: answerOf(output).initializationType,
      initDurationMs: parseReportLine(logOf(output))?.initDurationMs,
    }));
    const provisioned = runs.filter((run) => run.initializationType === 'provisioned-concurrency');
    const onDemand = runs.filter((run) => run.initializationType === 'on-demand');
    expect(provisioned).toHaveLength(2);
    expect(provisioned.every((run) => run.initDurationMs === undefined)).toBe(true);
    expect(onDemand).toHaveLength(1);
    expect(onDemand[0]?.initDurationMs).toBeGreaterThan(0);

    const listed = await lambda.send(
      new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'provisioned' }),
    );
    expect(listed.ProvisionedConcurrencyConfigs?.map((config) => config.FunctionArn)).toEqual([
      'arn:aws:lambda:us-east-1:000000000000:function:provisioned:live',
    ]);
    await lambda.send(
      new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'provisioned', Qualifier: 'live' }),
    );
    const none = await lambda.send(
      new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'provisioned' }),
    );
    expect(none.ProvisionedConcurrencyConfigs).toEqual([]);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'provisioned' }));
  });

  it('takes the runtimes Lambda takes: nodejs22.x and nodejs24.x, not nodejs20.x', async () => {
    for (const runtime of ['nodejs20.x', 'python3.12', undefined]) {
      await expect(createFunction('old', { Runtime: runtime as Runtime })).rejects.toBeInstanceOf(
        InvalidParameterValueException,
      );
    }
    await expect(createFunction('old', { Runtime: 'nodejs20.x' })).rejects.toThrow(
      /nodejs20.x is no longer supported for creating or updating/,
    );
    await createFunction('current', { Runtime: 'nodejs24.x' });
    const output = await lambda.send(new InvokeCommand({ FunctionName: 'current', LogType: 'Tail' }));
    expect(answerOf(output).executionEnv).toBe('AWS_Lambda_nodejs24.x');
    expect(logOf(output)).toContain('INIT_START Runtime Version: nodejs:24.');
    await expect(
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'current', Runtime: 'nodejs20.x' })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    // Stored code: this function's zip and every layer version still published, each once.
    let layerBytes = 0;
    for (const layer of (await lambda.send(new ListLayersCommand({}))).Layers ?? []) {
      const versions = await lambda.send(new ListLayerVersionsCommand({ LayerName: layer.LayerName }));
      for (const version of versions.LayerVersions ?? []) {
        const got = await lambda.send(
          new GetLayerVersionCommand({ LayerName: layer.LayerName, VersionNumber: version.Version }),
        );
        layerBytes += got.Content?.CodeSize ?? 0;
      }
    }
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountUsage?.FunctionCount).toBe(1);
    expect(settings.AccountUsage?.TotalCodeSize).toBe(zip.byteLength + layerBytes);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'current' }));
  });
});
