import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '@switchyard/model';
import { createDefaultPlan } from '@switchyard/scatter-gather';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelDir, type ServingStack, serve } from '../src/serve.js';

/**
 * `target: local`: the embedded Lambda runtime (real function processes) behind the real HTTP server,
 * experts scatter-gathered through LambdaExecutor.
 */
describe('serving with experts on the local Lambda runtime', () => {
  let stack: ServingStack;
  let client: OpenAI;
  let inProcess: string[];
  const prompts = ['ROMEO:\n', 'First Citizen:\nBefore we proceed'];
  const maxTokens = 12;

  beforeAll(async () => {
    const model = await loadModel(bundledModelDir());
    // One function per layer holding all 8 experts: 4 cold starts instead of 32.
    const plan = createDefaultPlan(model.summary, { expertsPerFunction: 8, beta: 16, memoryMB: 1024 });
    inProcess = [];
    for (const prompt of prompts) {
      const [alone] = await model.generate([Array.from(new TextEncoder().encode(prompt))], {
        maxNewTokens: maxTokens,
        greedy: true,
      });
      inProcess.push(new TextDecoder().decode(Uint8Array.from(alone!.tokens)));
    }
    await model.close();
    const planPath = join(mkdtempSync(join(tmpdir(), 'switchyard-serve-plan-')), 'plan.json');
    writeFileSync(planPath, JSON.stringify(plan));
    stack = await serve(
      { modelDir: bundledModelDir(), target: 'local', planPath, maxBatchSize: 8, seed: 1 },
      { port: 0 },
    );
    client = new OpenAI({ apiKey: 'unused', baseURL: `${stack.server.url}/v1`, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

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
    const deployment = (await (await fetch(`${stack.server.url}/v1/deployment`)).json()) as {
      plan: { layers: { functions: { functionNames: string[] }[] }[] } | null;
      expertPlacement: string;
    };
    expect(deployment.plan?.layers).toHaveLength(4);
    expect(deployment.expertPlacement).toContain('local Lambda runtime');
    const metrics = await (await fetch(`${stack.server.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('switchyard_function_invocations_total')).toBeGreaterThan(0);
    expect(value('switchyard_billed_gb_seconds_total')).toBeGreaterThan(0);
    expect(value('switchyard_cost_usd_total')).toBeGreaterThan(0);
  }, 120_000);
});
