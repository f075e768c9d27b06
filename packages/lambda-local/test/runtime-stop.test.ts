import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { delay } from '@switchyard/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../src/local-runtime.js';
import { writeZip } from '../src/zip.js';
import { lambdaClient, waitForActive, waitForVersion } from './lambda-client.js';

/** A module whose INIT does not finish for two minutes: its instance stays busy in INIT. */
const slowInitSource = `
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
export const handler = async () => 'ready';
`;

/** Child processes of this process whose environment names `functionName` (Linux /proc). */
function instancesOf(functionName: string): number[] {
  const marker = `AWS_LAMBDA_FUNCTION_NAME=${functionName}`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
        return (
          ppid === process.pid && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)
        );
      } catch {
        return false; // gone meanwhile
      }
    });
}

function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  return existsSync(stat) && readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
}

let runtime: LocalRuntime | undefined;
const leftovers: number[] = [];
afterAll(async () => {
  await runtime?.stop();
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('stopping the local runtime', () => {
  it('stops an instance still in INIT whose function was deleted (a provisioned instance of a deleted function)', async () => {
    runtime = await startLocalRuntime({ initTimeoutMs: 180_000 });
    const lambda = lambdaClient(runtime);
    const name = `slow-init-${process.pid}`;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::000000000000:role/local',
        Handler: 'index.handler',
        Code: { ZipFile: writeZip([{ path: 'index.mjs', data: new TextEncoder().encode(slowInitSource) }]) },
      }),
    );
    await waitForActive(lambda, name);
    await lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await waitForVersion(lambda, name, '1');
    await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
    await lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: name,
        Qualifier: 'live',
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    let pids: number[] = [];
    for (let i = 0; i < 200 && pids.length === 0; i++) {
      await delay(50);
      pids = instancesOf(name);
    }
    expect(pids).toHaveLength(1);
    leftovers.push(...pids);
    // Deleted while its provisioned instance is busy in INIT, then the runtime stops.
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    lambda.destroy();
    await runtime.stop();
    runtime = undefined;
    expect(pids.filter(alive)).toEqual([]);
  }, 60_000);
});
