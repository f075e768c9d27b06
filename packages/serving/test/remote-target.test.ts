import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay } from '@switchyard/core';
import { loadModel } from '@switchyard/model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import { withServer } from '@switchyard/testing/server';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HttpServingStack, serve } from '../src/http/serve.js';
import { bundledModelDir, generateAlone } from './fixtures.js';

/**
 * `target: local`: the embedded Lambda runtime (real function processes) behind the real HTTP server,
 * experts scatter-gathered through LambdaExecutor.
 */
describe('serving with experts on the local Lambda runtime', () => {
  let stack: HttpServingStack;
  let client: OpenAI;
  let inProcess: string[];
  const prompts = ['ROMEO:\n', 'First Citizen:\nBefore we proceed'];
  const maxTokens = 12;
  const streamPrompts = ['KING RICHARD III:\n', 'O', 'JULIET:\n'];
  const streamTokens = 160;
  let streamReference: string[];

  const server = withServer(async (listen) => {
    const model = await loadModel(bundledModelDir);
    // One function per layer holding all 8 experts: 4 cold starts instead of 32.
    const plan = createDefaultPlan(model.summary, { expertsPerFunction: 8, beta: 16, memoryMB: 1024 });
    inProcess = [];
    for (const prompt of prompts) inProcess.push(await generateAlone(model, prompt, maxTokens));
    streamReference = [];
    for (const prompt of streamPrompts)
      streamReference.push(await generateAlone(model, prompt, streamTokens));
    await model.close();
    const planPath = join(mkdtempSync(join(tmpdir(), 'switchyard-serve-plan-')), 'plan.json');
    writeFileSync(planPath, JSON.stringify(plan));
    stack = await serve(
      {
        modelDir: bundledModelDir,
        target: 'local',
        planPath,
        maxBatchSize: 8,
        seed: 1,
        // Re-plans only when the test forces one; one replica keeps the local cold starts few.
        adaptation: { intervalMs: 0, maxReplicas: 1, maxEvaluations: 8 },
      },
      listen,
    );
    return { url: stack.server.url, close: () => stack.close() };
  });

  beforeAll(() => {
    client = new OpenAI({ apiKey: 'unused', baseURL: server.apiUrl, maxRetries: 0 });
  });

  it('greedy completions through the functions equal in-process generation, and billing shows up in /metrics', async () => {
    const served = await Promise.all(
      prompts.map((prompt) =>
        client.completions.create({
          model: 'shakespeare-mixtral-8x2',
          prompt,
          max_tokens: maxTokens,
          temperature: 0,
        }),
      ),
    );
    expect(served.map((completion) => completion.choices[0]!.text)).toEqual(inProcess);
    const deployment = (await (await fetch(`${server.url}/v1/deployment`)).json()) as {
      plan: { layers: { functions: { functionNames: string[] }[] }[] } | null;
      expertPlacement: string;
    };
    expect(deployment.plan?.layers).toHaveLength(4);
    expect(deployment.expertPlacement).toContain('local Lambda runtime');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('switchyard_function_invocations_total')).toBeGreaterThan(0);
    expect(value('switchyard_billed_gb_seconds_total')).toBeGreaterThan(0);
    expect(value('switchyard_cost_usd_total')).toBeGreaterThan(0);
  }, 120_000);

  it('a forced re-plan during concurrent streams deploys new functions, switches, and every stream completes unchanged', async () => {
    const before = ((await (await fetch(`${server.url}/v1/deployment`)).json()) as DeploymentBody).plan!;
    let rolledOut = false;
    const afterRollout = streamPrompts.map(() => 0);
    const streams = streamPrompts.map(async (prompt, index) => {
      const stream = await client.completions.create({
        model: 'shakespeare-mixtral-8x2',
        prompt,
        max_tokens: streamTokens,
        temperature: 0,
        stream: true,
      });
      let text = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.text ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (rolledOut) afterRollout[index]! += 1;
      }
      return { text, finish };
    });
    // Wait until every stream is producing, then force a re-plan mid-flight.
    while (stack.engine.stats().activeSequences < streamPrompts.length) await delay(50);
    expect(await stack.adapter!.check({ force: true })).toBe(true);
    rolledOut = true;
    const results = await Promise.all(streams);
    expect(results.map((result) => result.text)).toEqual(streamReference);
    expect(results.every((result) => result.finish === 'length')).toBe(true);
    // The switch happened while every stream was still generating.
    for (const count of afterRollout) expect(count).toBeGreaterThan(0);
    const after = (await (await fetch(`${server.url}/v1/deployment`)).json()) as DeploymentBody;
    const names = (plan: DeploymentBody['plan']) =>
      plan!.layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.functionNames));
    expect(after.plan!.strategy).not.toBe('manual');
    expect(names(after.plan).every((name) => name.endsWith('-g1-r0'))).toBe(true);
    expect(names(after.plan).some((name) => names(before).includes(name))).toBe(false);
    expect(after.adaptation?.rollouts).toBe(1);
    // The old functions were deleted from the runtime after the switch; the new ones exist.
    const status = async (name: string) =>
      (await fetch(`${stack.remote!.endpoint}/2015-03-31/functions/${name}/configuration`)).status;
    for (const name of names(before)) expect(await status(name)).toBe(404);
    for (const name of names(after.plan)) expect(await status(name)).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchyard_plan_rollouts_total 1$/m);
  }, 240_000);
});

interface DeploymentBody {
  plan: { strategy: string; layers: { functions: { functionNames: string[] }[] }[] } | null;
  adaptation?: { rollouts: number };
}
