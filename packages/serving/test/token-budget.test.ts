import { loadModel, type MoeModel } from '@switchyard/model';
import { loadTokenizer } from '@switchyard/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchScheduler } from '../src/batch-scheduler.js';
import type { Engine, StepEvent } from '../src/engine.js';
import { createModelBackend } from '../src/model-backend.js';
import { bundledModelDir, generateAlone } from './fixtures.js';

/**
 * `maxBatchTokens` on the bundled model: no step feeds more than the budget, prompts longer than it are
 * prefilled in chunks over several steps, and greedy completions still equal the model generating
 * each prompt alone.
 */
describe('a step token budget over the real model', () => {
  let reference: MoeModel;
  let engine: Engine;
  const steps: StepEvent[] = [];
  const maxBatchTokens = 24;

  beforeAll(async () => {
    reference = await loadModel(bundledModelDir);
    const model = await loadModel(bundledModelDir);
    const backend = createModelBackend(model, { maxContextTokens: 512 });
    engine = createBatchScheduler(
      backend,
      { maxBatchSize: 8, maxBatchTokens, seed: 1 },
      { tokenizer: await loadTokenizer(bundledModelDir) },
    );
    engine.onStep((event) => steps.push(event));
  });

  afterAll(async () => {
    await engine?.close();
    await reference?.close();
  });

  it('packs steps within the budget, chunks long prompts, and completes as each prompt alone', async () => {
    const prompts = [
      'First Citizen:\nBefore we proceed any further, hear me speak.',
      'ROMEO:\n',
      'KING RICHARD III:\nNow is the winter of our discontent',
      'O',
    ];
    const maxTokens = 10;
    const texts = await Promise.all(
      prompts.map(async (prompt) => {
        let text = '';
        for await (const event of engine.complete({
          promptTokens: Array.from(new TextEncoder().encode(prompt)),
          maxTokens,
          temperature: 0,
          stop: [],
        }))
          if (event.type === 'text') text += event.text;
        return text;
      }),
    );
    for (const [index, prompt] of prompts.entries())
      expect(texts[index]).toBe(await generateAlone(reference, prompt, maxTokens));
    expect(Math.max(...steps.map((step) => step.inputTokens))).toBeLessThanOrEqual(maxBatchTokens);
    // The 59-byte prompt cannot fit one step: it was fed in pieces, each step's entries add up to its tokens.
    const longest = prompts[0]!.length;
    expect(longest).toBeGreaterThan(maxBatchTokens);
    const chunks = steps.flatMap((step) => step.entries.filter((entry) => entry.sequenceId === 1));
    expect(chunks.slice(0, 3).map((entry) => entry.tokens)).toEqual([24, 24, longest - 48]);
    for (const step of steps)
      expect(step.entries.reduce((sum, entry) => sum + entry.tokens, 0)).toBe(step.inputTokens);
    expect(Math.max(...steps.map((step) => step.sequences))).toBeGreaterThan(1);
  });
});
