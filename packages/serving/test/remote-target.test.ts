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
        // Re-plans only when the test forces one; one replica keeps the local cold starts few. A new
        // version gets half its function's invocations for 1.5 s before all of them.
        adaptation: { intervalMs: 0, maxReplicas: 1, maxEvaluations: 8, warmWeight: 0.5, warmMs: 1500 },
      },
      // Correctness, not speed: three 160-token streams span two rollouts with cold starts on a
      // loaded machine, which can take longer than the default 2 min a completion may run.
      { ...listen, requestTimeoutMs: 600_000 },
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

  it('a forced re-plan and a resize during concurrent streams roll out by moving live aliases, and every stream completes unchanged', async () => {
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
    const names = (plan: DeploymentBody['plan']) =>
      plan!.layers.flatMap((layer) => layer.functions.flatMap((fn) => fn.functionNames));
    const lambda = (path: string) => fetch(`${stack.remote!.endpoint}/2015-03-31/functions/${path}`);
    const live = async (name: string) =>
      (await (await lambda(`${name}/aliases/live`)).json()) as {
        FunctionVersion: string;
        RoutingConfig?: { AdditionalVersionWeights: Record<string, number> };
      };

    // Wait until every stream is producing, then force a re-plan mid-flight. The planner regroups the
    // experts (one function per layer → hot experts alone, cold ones packed): new groups, new functions.
    while (stack.engine.stats().activeSequences < streamPrompts.length) await delay(50);
    expect(await stack.adapter!.check({ force: true })).toBe(true);
    const replanned = (await (await fetch(`${server.url}/v1/deployment`)).json()) as DeploymentBody;
    expect(replanned.plan!.strategy).not.toBe('manual');
    expect(replanned.adaptation?.lastRollout).toMatchObject({ removedFunctions: names(before).length });
    // No renaming: a function name is the plan's, never a generation's.
    expect(names(replanned.plan).every((name) => !/-g\d+-r\d+$/.test(name))).toBe(true);

    // Then a resize of layer 0 (the same groups at twice the memory): every function is kept, and the
    // resized ones move their live alias — first half their invocations to the new version, then all.
    const resized = structuredClone(stack.adapter!.plan);
    const layer0 = resized.layers[0]!;
    for (const fn of layer0.functions) fn.memoryMB *= 2;
    const resizedNames = layer0.functions.flatMap((fn) => fn.functionNames);
    const rollout = stack.adapter!.rollOut(resized);
    let weighted: Record<string, number> | undefined;
    for (let i = 0; i < 600 && !weighted; i++) {
      const alias = await live(resizedNames[0]!);
      if (Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0) {
        weighted = alias.RoutingConfig?.AdditionalVersionWeights;
      } else await delay(25);
    }
    await rollout;
    rolledOut = true;
    expect(weighted).toEqual({ '2': 0.5 });
    const results = await Promise.all(streams);
    expect(results.map((result) => result.text)).toEqual(streamReference);
    expect(results.every((result) => result.finish === 'length')).toBe(true);
    // The moves happened while every stream was still generating.
    for (const count of afterRollout) expect(count).toBeGreaterThan(0);

    const after = (await (await fetch(`${server.url}/v1/deployment`)).json()) as DeploymentBody;
    expect(names(after.plan)).toEqual(names(replanned.plan));
    expect(after.adaptation?.lastRollout).toEqual({
      keptFunctions: names(after.plan).length,
      movedAliases: resizedNames.length,
      createdFunctions: 0,
      removedFunctions: 0,
    });
    for (const name of resizedNames) {
      const alias = await live(name);
      expect(alias.FunctionVersion).toBe('2');
      expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    }
    for (const name of names(after.plan).filter((name) => !resizedNames.includes(name))) {
      expect((await live(name)).FunctionVersion).toBe('1');
    }
    expect(after.adaptation?.rollouts).toBe(2);
    // The functions of the first plan were deleted after the switch; the kept ones exist.
    for (const name of names(before)) expect((await lambda(`${name}/configuration`)).status).toBe(404);
    for (const name of names(after.plan)) expect((await lambda(`${name}/configuration`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchyard_plan_rollouts_total 2$/m);
  }, 360_000);
});

interface DeploymentBody {
  plan: { strategy: string; layers: { functions: { functionNames: string[] }[] }[] } | null;
  adaptation?: {
    rollouts: number;
    lastRollout?: {
      keptFunctions: number;
      movedAliases: number;
      createdFunctions: number;
      removedFunctions: number;
    };
  };
}
