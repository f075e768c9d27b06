import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { parseReportLine } from '@switchyard/core';
import { loadedInitTimeoutMs } from '@switchyard/testing/local-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../src/local-runtime.js';
import { writeZip } from '../src/zip.js';
import { lambdaClient, waitForActive } from './lambda-client.js';

// A handler that reports its process id, so a killed instance shows as new pids on later answers.
const handlerSource = 'export const handler = async (event) => ({ pid: process.pid, echo: event });';

const decoder = new TextDecoder();

describe('local runtime fault injection (faults: killRate, failRate)', () => {
  let runtime: LocalRuntime;
  let lambda: LambdaClient;

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      initTimeoutMs: loadedInitTimeoutMs,
      s3: false,
      faults: { seed: 7, killRate: 0.15, failRate: 0.15 },
    });
    lambda = lambdaClient(runtime);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'faulty',
        Runtime: 'nodejs22.x',
        Role: 'arn:aws:iam::000000000000:role/local',
        Handler: 'index.handler',
        Code: { ZipFile: writeZip([{ path: 'index.mjs', data: new TextEncoder().encode(handlerSource) }]) },
        MemorySize: 256,
        Timeout: 30,
      }),
    );
    await waitForActive(lambda, 'faulty');
  }, 120_000);

  afterAll(async () => {
    lambda?.destroy();
    await runtime?.stop();
  });

  it('kills instance processes and fails invocations at the seeded rates, each with its REPORT line', async () => {
    const outcomes: Array<{ kind: 'ok' | 'killed' | 'injected'; pid?: number }> = [];
    for (let i = 0; i < 40; i++) {
      const answer = await lambda.send(
        new InvokeCommand({
          FunctionName: 'faulty',
          Payload: new TextEncoder().encode(JSON.stringify({ i })),
          LogType: 'Tail',
        }),
      );
      const body = JSON.parse(decoder.decode(answer.Payload)) as {
        pid?: number;
        echo?: unknown;
        errorType?: string;
        errorMessage?: string;
      };
      // Every invocation, failed or not, ends its log with a REPORT line (it is billed).
      const report = parseReportLine(Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8'));
      expect(report?.billedDurationMs).toBeGreaterThan(0);
      if (!answer.FunctionError) {
        expect(body.echo).toEqual({ i });
        outcomes.push({ kind: 'ok', pid: body.pid });
      } else if (body.errorType === 'Switchyard.InjectedFault') {
        outcomes.push({ kind: 'injected' });
      } else {
        expect(body.errorType).toBe('Runtime.ExitError');
        expect(body.errorMessage).toMatch(/Runtime exited with error: signal: kill/);
        outcomes.push({ kind: 'killed' });
      }
    }
    const killed = outcomes.filter((outcome) => outcome.kind === 'killed').length;
    const injected = outcomes.filter((outcome) => outcome.kind === 'injected').length;
    // 40 draws at 15 % each: the seeded stream gives some of both, and most invocations succeed.
    expect(killed).toBeGreaterThan(0);
    expect(injected).toBeGreaterThan(0);
    expect(killed + injected).toBeLessThan(20);
    // A killed process never answers again: later answers come from new processes.
    const pids = new Set(outcomes.flatMap((outcome) => (outcome.pid === undefined ? [] : [outcome.pid])));
    expect(pids.size).toBeGreaterThan(1);
  }, 120_000);

  it('refuses rates that add up to more than 1', async () => {
    await expect(startLocalRuntime({ faults: { killRate: 0.6, failRate: 0.6 } })).rejects.toThrow(
      /killRate \+ failRate/,
    );
  });
});
