import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../../test/byte-tokenizer.js';
import { ToyBackend } from '../../test/toy-backend.js';
import { createBatchScheduler } from '../batch-scheduler.js';
import type { StepEvent } from '../engine.js';
import { createLineDispatcher } from './line-dispatch.js';

describe('createLineDispatcher', () => {
  it("runs batch lines in the scheduler's batch class, beside interactive jobs", async () => {
    const engine = createBatchScheduler(
      new ToyBackend(),
      { maxBatchSize: 4, seed: 1 },
      {
        tokenizer: await byteTokenizer(),
      },
    );
    const steps: StepEvent[] = [];
    engine.onStep((event) => steps.push(event));
    const dispatcher = createLineDispatcher({ engine });
    const line = await dispatcher.dispatch('/v1/completions', {
      prompt: 'abc',
      max_tokens: 3,
      temperature: 0,
    });
    expect(line.statusCode).toBe(200);
    expect((line.body as { choices: { text: string }[] }).choices[0]!.text).toBe('def');
    const lineSteps = steps.length;
    expect(lineSteps).toBeGreaterThan(0);
    expect(steps.flatMap((step) => step.entries.map((entry) => entry.priority))).toEqual(
      Array(lineSteps).fill('batch'),
    );
    for await (const _ of engine.complete({ promptTokens: [97], maxTokens: 1, temperature: 0, stop: [] })) {
    }
    expect(steps.slice(lineSteps).flatMap((step) => step.entries.map((entry) => entry.priority))).toEqual([
      'interactive',
    ]);
    await engine.close();
  });
});
