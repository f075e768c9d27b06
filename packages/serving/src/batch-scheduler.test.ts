import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../test/byte-tokenizer.js';
import { ToyBackend } from '../test/toy-backend.js';
import { createBatchScheduler } from './batch-scheduler.js';
import type { Engine, StepEvent } from './engine.js';
import type { JobPriority } from './job-priority.js';

const tokenizer = await byteTokenizer();
const maxBatchSize = 4;
const maxBatchTokens = 32;

function startEngine(): { engine: Engine; steps: StepEvent[] } {
  const engine = createBatchScheduler(
    new ToyBackend(),
    { maxBatchSize, maxBatchTokens, seed: 1 },
    { tokenizer },
  );
  const steps: StepEvent[] = [];
  engine.onStep((event) => steps.push(event));
  return { engine, steps };
}

/** A prompt of `length` bytes cycling through the alphabet from `first`. */
const promptOf = (length: number, first: number): number[] =>
  Array.from({ length }, (_, index) => 97 + ((first + index) % 26));

/**
 * Runs one greedy job; resolves with its text and how many steps the engine had run when the job was
 * submitted and when its first token arrived (step counts, not time: deterministic under any load).
 */
async function runJob(
  setup: { engine: Engine; steps: StepEvent[] },
  promptTokens: number[],
  maxTokens: number,
  priority: JobPriority,
): Promise<{ text: string; submittedAtStep: number; firstTokenAtStep: number }> {
  const submittedAtStep = setup.steps.length;
  let firstTokenAtStep = -1;
  let text = '';
  for await (const event of setup.engine.complete({
    promptTokens,
    maxTokens,
    temperature: 0,
    stop: [],
    priority,
  })) {
    if (event.type !== 'text') continue;
    if (firstTokenAtStep < 0) firstTokenAtStep = setup.steps.length;
    text += event.text;
  }
  return { text, submittedAtStep, firstTokenAtStep };
}

/** Resolves once the engine has run `count` steps. */
const afterSteps = (setup: { engine: Engine; steps: StepEvent[] }, count: number) =>
  new Promise<void>((resolve) => {
    const unsubscribe = setup.engine.onStep(() => {
      if (setup.steps.length < count) return;
      unsubscribe();
      resolve();
    });
  });

/**
 * Twelve long batch jobs keep every slot and the whole token budget busy; an interactive job arrives in
 * the middle. Its time to first token, in scheduler steps, is compared with the same job on an idle
 * engine, and with the same load submitted without the batch class (which must be worse, or the test
 * would show nothing).
 */
async function interactiveBesideLoad(loadPriority: JobPriority) {
  const setup = startEngine();
  const loadPrompts = Array.from({ length: 12 }, (_, index) => promptOf(40, index));
  const load = loadPrompts.map((prompt) => runJob(setup, prompt, 30, loadPriority));
  await afterSteps(setup, 6);
  const interactive = await runJob(setup, promptOf(48, 3), 4, 'interactive');
  const loadResults = await Promise.all(load);
  await setup.engine.close();
  return { interactive, loadPrompts, loadResults, steps: setup.steps };
}

describe('interactive jobs before batch jobs in the continuous-batching scheduler', () => {
  it("keeps an interactive job's steps to first token as on an idle engine while a batch runs, and the batch still finishes", async () => {
    const idle = startEngine();
    const alone = await runJob(idle, promptOf(48, 3), 4, 'interactive');
    await idle.engine.close();
    // 48 prompt tokens at 32 per step: two steps on an idle engine.
    expect(alone.firstTokenAtStep - alone.submittedAtStep).toBe(2);

    const { interactive, loadPrompts, loadResults, steps } = await interactiveBesideLoad('batch');
    const stepsToFirstToken = interactive.firstTokenAtStep - interactive.submittedAtStep;
    // At most the step under way when it arrived on top of the idle engine's count.
    expect(stepsToFirstToken).toBeLessThanOrEqual(alone.firstTokenAtStep - alone.submittedAtStep + 1);
    expect(interactive.text).toBe(alone.text);

    // Every batch job finished with the text it gets alone (held sequences kept their KV caches).
    for (const [index, prompt] of loadPrompts.entries()) {
      const solo = startEngine();
      const expected = await runJob(solo, prompt, 30, 'batch');
      await solo.engine.close();
      expect(loadResults[index]!.text).toBe(expected.text);
    }
    for (const step of steps) {
      expect(step.inputTokens).toBeLessThanOrEqual(maxBatchTokens);
      expect(step.sequences).toBeLessThanOrEqual(maxBatchSize);
    }
    // Batch work filled what the interactive job left: some steps carried both classes.
    const mixed = steps.filter(
      (step) =>
        step.entries.some((entry) => entry.priority === 'interactive') &&
        step.entries.some((entry) => entry.priority === 'batch'),
    );
    expect(mixed.length).toBeGreaterThan(0);
    // In every step the interactive job rode in, it was fed before any batch sequence.
    for (const step of steps) {
      const classes = step.entries.map((entry) => entry.priority);
      const lastInteractive = classes.lastIndexOf('interactive');
      const firstBatch = classes.indexOf('batch');
      if (lastInteractive >= 0 && firstBatch >= 0) expect(lastInteractive).toBeLessThan(firstBatch);
    }
  });

  it('without the batch class the same load delays the interactive job (the bound above is not free)', async () => {
    const idle = startEngine();
    const alone = await runJob(idle, promptOf(48, 3), 4, 'interactive');
    await idle.engine.close();
    const { interactive } = await interactiveBesideLoad('interactive');
    expect(interactive.firstTokenAtStep - interactive.submittedAtStep).toBeGreaterThan(
      alone.firstTokenAtStep - alone.submittedAtStep + 1,
    );
  });
});
