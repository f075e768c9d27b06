import { join } from 'node:path';
import { type RoutingTrace, readRoutingTrace } from '@switchyard/core';
import { loadModel, type MoeModel } from '@switchyard/model';
import { fitPredictor } from '@switchyard/predictor';
import { withServer } from '@switchyard/testing/server';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpServingStack, serve } from '../src/http/serve.js';
import { bundledModelDir, bundledTracesDir, generateAlone } from './fixtures.js';

/** The shipped stack: the bundled trained model behind the continuous-batching engine and real HTTP. */
describe('serving the bundled model', () => {
  let stack: HttpServingStack;
  let reference: MoeModel;
  let client: OpenAI;

  const served = withServer(async (listen) => {
    const calibration = await readRoutingTrace(join(bundledTracesDir, 'calibration.safetensors'));
    // A slice keeps the fit fast; the predictor then learns online from served routing.
    const predictor = fitPredictor(sliceTrace(calibration, 8192));
    stack = await serve({ modelDir: bundledModelDir, maxBatchSize: 8, seed: 1 }, listen, { predictor });
    return { url: stack.server.url, close: () => stack.close() };
  });

  beforeAll(async () => {
    reference = await loadModel(bundledModelDir);
    client = new OpenAI({ apiKey: 'unused', baseURL: served.apiUrl, maxRetries: 0 });
  });

  afterAll(async () => {
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
      const expected = await generateAlone(reference, prompt, maxTokens);
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

  it('scores the predictor on served routing and feeds it online', async () => {
    const status = stack.onlinePredictor!.status()!;
    const fedTokens = stack.server.metrics.expertLoad()[0]!.reduce((a, b) => a + b, 0) / 2;
    expect(status.observedTokens).toBe(fedTokens);
    // Uniform guessing scores K/E = 0.25; a fitted predictor with the previous layer's routing does far better.
    expect(status.hitRate).toBeGreaterThan(0.5);
    expect(stack.onlinePredictor!.predictor.drift().observedTokens).toBe(fedTokens);
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    const hitRate = Number(/^switchyard_predictor_hit_rate (\S+)$/m.exec(metrics)?.[1]);
    expect(hitRate).toBeCloseTo(status.hitRate, 6);
  });
});

function sliceTrace(trace: RoutingTrace, numTokens: number): RoutingTrace {
  const { numLayers, topK } = trace;
  const topkIds = new Int16Array(numLayers * numTokens * topK);
  const topkProbs = new Float32Array(numLayers * numTokens * topK);
  for (let layer = 0; layer < numLayers; layer++) {
    const from = layer * trace.numTokens * topK;
    topkIds.set(trace.topkIds.subarray(from, from + numTokens * topK), layer * numTokens * topK);
    topkProbs.set(trace.topkProbs.subarray(from, from + numTokens * topK), layer * numTokens * topK);
  }
  return {
    ...trace,
    tokens: trace.tokens.slice(0, numTokens),
    topkIds,
    topkProbs,
    numTokens,
    attentionIds: undefined,
  };
}
