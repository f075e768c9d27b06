import { loadModel, type MoeModel } from '@switchyard/model';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelDir, type ServingStack, serve } from '../src/serve.js';

/** The shipped stack: the bundled trained model behind the continuous-batching engine and real HTTP. */
describe('serving the bundled model', () => {
  let stack: ServingStack;
  let reference: MoeModel;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await serve({ modelDir: bundledModelDir(), maxBatchSize: 8, seed: 1 }, { port: 0 });
    reference = await loadModel(bundledModelDir());
    client = new OpenAI({ apiKey: 'unused', baseURL: `${stack.server.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await stack?.close();
    await reference?.close();
  });

  it('lists the bundled model', async () => {
    const models = await client.models.list();
    expect(models.data[0]!.id).toBe('shakespeare-mixtral-8x2');
  });

  it('batched greedy completions of concurrent requests equal the model generating each alone', async () => {
    const prompts = [
      'ROMEO:\n',
      'First Citizen:\nBefore we proceed',
      'O',
      'KING RICHARD III:\nNow is the winter',
    ];
    const maxTokens = 24;
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
    for (const [index, prompt] of prompts.entries()) {
      const [alone] = await reference.generate([Array.from(new TextEncoder().encode(prompt))], {
        maxNewTokens: maxTokens,
        greedy: true,
      });
      const expected = new TextDecoder().decode(Uint8Array.from(alone!.tokens));
      expect(served[index]!.choices[0]!.text).toBe(expected);
      expect(served[index]!.usage!.completion_tokens).toBe(maxTokens);
    }
    expect(stack.server.metrics.batchSize.snapshot().counts[0]).toBeLessThan(
      stack.engine.stats().decodeSteps,
    );
  });

  it('streams Shakespeare-like text and records per-expert load', async () => {
    const stream = await client.completions.create({
      model: 'shakespeare-mixtral-8x2',
      prompt: 'JULIET:\n',
      max_tokens: 40,
      temperature: 0.8,
      seed: 7,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(20);
    const load = stack.server.metrics.expertLoad();
    expect(load).toHaveLength(4);
    for (const row of load) expect(row.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
