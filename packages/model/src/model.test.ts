import { join } from 'node:path';
import {
  combineExpertOutputs,
  type ExpertBatchOutput,
  gatherRows,
  groupTokensByExpert,
  type MoeStep,
} from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExpertGraph } from './expert-graph.js';
import { createExpertRunner, type ExpertRunner } from './expert-runner.js';
import { loadModel, type MoeModel } from './model.js';
import { verifyModel } from './verify.js';

const fixtures = join(import.meta.dirname, '../../../fixtures/checkpoints');

describe.each([
  'tiny-mixtral',
  'shakespeare-mixtral-8x2',
  'tiny-qwen2-moe',
  'tiny-qwen3-moe',
  'tiny-olmoe',
  'tiny-deepseek-v3',
  'tiny-gpt-oss',
])('verify %s against transformers', (name) => {
  it('matches logits, hidden states, MoE outputs, routing and the greedy continuation', async () => {
    const model = await loadModel(join(fixtures, name));
    const report = await verifyModel(model, join(fixtures, name, 'reference.safetensors'));
    await model.close();
    expect(report.failures).toEqual([]);
    expect(report.maxAbsDiffLogits).toBeLessThanOrEqual(1e-3);
    expect(report.maxAbsDiffMoeOutput).toBeLessThanOrEqual(1e-4);
    expect(report.routingAgreement).toBe(1);
    expect(report.generationMatch).toBe(true);
    expect(report.pass).toBe(true);
  });
});

describe('shakespeare-mixtral-8x2 runtime', () => {
  let model: MoeModel;
  const prompt = [...new TextEncoder().encode('ROMEO:\nWhat light')];
  const other = [...new TextEncoder().encode('First Citizen:\nBefore we')];

  beforeAll(async () => {
    model = await loadModel(join(fixtures, 'shakespeare-mixtral-8x2'));
  });
  afterAll(async () => {
    await model.close();
  });

  it('summarises the checkpoint', () => {
    expect(model.summary).toMatchObject({
      architecture: 'mixtral',
      numLayers: 4,
      hiddenSize: 128,
      numExperts: 8,
      topK: 2,
      moeLayers: [0, 1, 2, 3],
      dtype: 'BF16',
      expertIntermediateSize: 256,
    });
    expect(model.summary.parameters.perExpert).toBe(3 * 128 * 256);
    expect(model.summary.bytesPerExpert).toBe(3 * 128 * 256 * 4);
    expect(model.summary.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('gives the same greedy tokens for a prompt alone and batched with another', async () => {
    const [alone] = await model.generate([prompt], { maxNewTokens: 12, greedy: true });
    const batched = await model.generate([other, prompt], { maxNewTokens: 12, greedy: true });
    expect(batched[1]!.tokens).toEqual(alone!.tokens);
  });

  it('lets sequences join and leave between decode steps (continuous batching)', async () => {
    const [expected] = await model.generate([prompt], { maxNewTokens: 6, greedy: true });
    const a = model.createSequence();
    const b = model.createSequence();
    // a prefills alone, then decodes while b joins with its whole prompt, then b leaves.
    let { logits } = await model.forward([{ sequence: a, tokens: prompt }]);
    const tokens: number[] = [];
    let next = argmaxOf(logits[0]!);
    tokens.push(next);
    ({ logits } = await model.forward([
      { sequence: a, tokens: [next] },
      { sequence: b, tokens: other },
    ]));
    next = argmaxOf(logits[0]!);
    tokens.push(next);
    ({ logits } = await model.forward([
      { sequence: b, tokens: [argmaxOf(logits[1]!)] },
      { sequence: a, tokens: [next] },
    ]));
    next = argmaxOf(logits[1]!);
    tokens.push(next);
    model.releaseSequence(b);
    for (let i = 0; i < 3; i++) {
      ({ logits } = await model.forward([{ sequence: a, tokens: [next] }]));
      next = argmaxOf(logits[0]!);
      tokens.push(next);
    }
    expect(tokens).toEqual(expected!.tokens);
    expect(a.length).toBe(prompt.length + 5);
    await expect(model.forward([{ sequence: b, tokens: [1] }])).rejects.toThrow(/released/);
  });

  it('gives the same logits when long prefills run as separate attention groups in one call', async () => {
    const text = new TextEncoder().encode(
      'To be, or not to be, that is the question: whether tis nobler in the mind to suffer. '.repeat(8),
    );
    const first = Array.from(text.subarray(0, 300));
    const second = Array.from(text.subarray(5, 305));
    const together = [model.createSequence(), model.createSequence()];
    const both = await model.forward([
      { sequence: together[0]!, tokens: first },
      { sequence: together[1]!, tokens: second },
    ]);
    const alone = await model.forward([{ sequence: model.createSequence(), tokens: second }]);
    for (let i = 0; i < alone.logits[0]!.length; i++)
      expect(Math.abs(both.logits[1]![i]! - alone.logits[0]![i]!)).toBeLessThan(1e-4);
  });

  it('gives every row of an input that asks for all logits, beside inputs that give only their last', async () => {
    const sequences = [model.createSequence(), model.createSequence(), model.createSequence()];
    const mixed = await model.forward([
      { sequence: sequences[0]!, tokens: other },
      { sequence: sequences[1]!, tokens: prompt, allLogits: true },
      { sequence: sequences[2]!, tokens: [65, 66] },
    ]);
    const V = model.config.vocabSize;
    expect(mixed.logits.map((row) => row.length)).toEqual([V, prompt.length * V, V]);
    const alone = [model.createSequence(), model.createSequence(), model.createSequence()];
    const reference = await model.forward(
      [
        { sequence: alone[0]!, tokens: other },
        { sequence: alone[1]!, tokens: prompt },
        { sequence: alone[2]!, tokens: [65, 66] },
      ],
      { logits: 'all' },
    );
    const lastRow = (logits: Float32Array) => logits.subarray(logits.length - V);
    for (const [index, logits] of mixed.logits.entries()) {
      const expected = index === 1 ? reference.logits[1]! : lastRow(reference.logits[index]!);
      expect(logits.length).toBe(expected.length);
      let maxDiff = 0;
      for (let i = 0; i < logits.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs(logits[i]! - expected[i]!));
      expect(maxDiff).toBeLessThan(1e-4);
    }
    for (const sequence of [...sequences, ...alone]) model.releaseSequence(sequence);
  });

  it('samples reproducibly from a seed and differently from another seed', async () => {
    const options = { maxNewTokens: 24, temperature: 1, topP: 0.9 };
    const [first] = await model.generate([prompt], { ...options, seed: 7 });
    const [again] = await model.generate([prompt], { ...options, seed: 7 });
    const [otherSeed] = await model.generate([prompt], { ...options, seed: 8 });
    expect(again!.tokens).toEqual(first!.tokens);
    expect(otherSeed!.tokens).not.toEqual(first!.tokens);
  });

  it('stops at a stop sequence and leaves it out', async () => {
    const [free] = await model.generate([prompt], { maxNewTokens: 16, greedy: true });
    const stop = free!.tokens.slice(3, 5);
    const [stopped] = await model.generate([prompt], {
      maxNewTokens: 16,
      greedy: true,
      stopSequences: [stop],
    });
    const cut = free!.tokens.findIndex(
      (_, i) => free!.tokens[i] === stop[0] && free!.tokens[i + 1] === stop[1],
    );
    expect(stopped!.finishReason).toBe('stop');
    expect(stopped!.tokens).toEqual(free!.tokens.slice(0, cut));
  });

  it('never runs past max_position_embeddings (512): the budget shrinks, a full prompt is refused', async () => {
    expect(model.config.maxPositionEmbeddings).toBe(512);
    const long = Array.from({ length: 508 }, (_, i) => 32 + (i % 90));
    const [bounded] = await model.generate([long], { maxNewTokens: 16, greedy: true });
    expect(bounded!.tokens).toHaveLength(4);
    expect(bounded!.finishReason).toBe('length');
    await expect(model.generate([[...long, 1, 2, 3, 4]], { maxNewTokens: 1 })).rejects.toThrow(
      /max_position_embeddings.*prompts\[0\]/,
    );
  });

  it('is bit-identical when the MoE step runs through standalone expert graphs and combineExpertOutputs', async () => {
    // What a remote (scatter-gather) MoeStep does: build each expert's graph, run it elsewhere, combine.
    const runners = new Map<string, ExpertRunner>();
    let calls = 0;
    const remote: MoeStep = async (request) => {
      calls++;
      const outputs = new Map<number, ExpertBatchOutput>();
      const groups = groupTokensByExpert(request.topkIds, request.numTokens, request.topK);
      for (const [expert, tokens] of groups.tokens.entries()) {
        if (tokens.length === 0) continue;
        const key = `${request.layer}:${expert}`;
        let runner = runners.get(key);
        if (!runner) {
          runner = await createExpertRunner(buildExpertGraph(model, request.layer, expert), { threads: 1 });
          runners.set(key, runner);
        }
        const input = new Float32Array(tokens.length * request.hiddenSize);
        gatherRows(request.hiddenStates, request.hiddenSize, tokens, input);
        outputs.set(expert, { tokens, output: await runner.run(input, tokens.length) });
      }
      return combineExpertOutputs(request, outputs);
    };
    const runBoth = async (moeStep?: MoeStep) => {
      const sequences = [model.createSequence(), model.createSequence()];
      const result = await model.forward(
        [
          { sequence: sequences[0]!, tokens: prompt },
          { sequence: sequences[1]!, tokens: other },
        ],
        { logits: 'all', moeStep },
      );
      for (const s of sequences) model.releaseSequence(s);
      return result.logits;
    };
    const local = await runBoth();
    const viaSeam = await runBoth(remote);
    for (const runner of runners.values()) await runner.close();
    expect(calls).toBe(4);
    expect(viaSeam).toEqual(local);
  });

  it('reports an out-of-vocabulary token with its position', async () => {
    const s = model.createSequence();
    await expect(model.forward([{ sequence: s, tokens: [1, 999] }])).rejects.toThrow(
      /token id 999 is outside 0\.\.255.*inputs\[0\]\.tokens/,
    );
  });
});

function argmaxOf(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
