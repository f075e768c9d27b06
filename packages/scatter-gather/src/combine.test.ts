import { combineExpertOutputs, type ExpertBatchOutput, groupTokensByExpert } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputCombiner } from './combine.js';

describe('OutputCombiner', () => {
  it('is bit-identical to combineExpertOutputs for any top-K and any arrival order of rows (property)', () => {
    const special = [0, -0, 1, -1, 1e-40, -3.5e38, 2 ** -24, 0.1];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (numTokens, topK, hiddenSize, seed) => {
          let state = seed;
          const random = (): number => {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            return state / 2 ** 32;
          };
          const numExperts = topK + 2;
          const pick = (): number =>
            random() < 0.2 ? special[Math.floor(random() * special.length)]! : (random() - 0.5) * 8;
          const topkIds = new Int32Array(numTokens * topK);
          for (let t = 0; t < numTokens; t++) {
            const experts = Array.from({ length: numExperts }, (_, e) => e).sort(() => random() - 0.5);
            for (let k = 0; k < topK; k++) topkIds[t * topK + k] = experts[k]!;
          }
          const topkWeights = Float32Array.from({ length: numTokens * topK }, pick);
          const groups = groupTokensByExpert(topkIds, numTokens, topK, numExperts);
          const outputs = new Map<number, ExpertBatchOutput>();
          groups.tokens.forEach((tokens, expert) => {
            if (tokens.length > 0)
              outputs.set(expert, {
                tokens,
                output: Float32Array.from({ length: tokens.length * hiddenSize }, pick),
              });
          });
          const expected = combineExpertOutputs(
            { numTokens, hiddenSize, topK, topkIds, topkWeights },
            outputs,
          );
          // Rows arrive in a random order, as mini-batches of any expert may land first.
          const rows: { expert: number; row: number }[] = [];
          for (const [expert, batch] of outputs)
            for (let row = 0; row < batch.tokens.length; row++) rows.push({ expert, row });
          rows.sort(() => random() - 0.5);
          const combiner = new OutputCombiner(numTokens, hiddenSize, topK, topkWeights);
          for (const { expert, row } of rows) {
            combiner.add(groups.slots[expert]![row]!, outputs.get(expert)!.output, row * hiddenSize);
          }
          const actual = combiner.finish(0);
          expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        },
      ),
      { seed: 23, numRuns: 300 },
    );
  });

  it('refuses to finish while a routed row is missing', () => {
    const combiner = new OutputCombiner(2, 3, 2, new Float32Array([0.5, 0.5, 0.5, 0.5]));
    combiner.add(0, new Float32Array(3), 0);
    combiner.add(3, new Float32Array(3), 0);
    combiner.add(2, new Float32Array(3), 0);
    expect(() => combiner.finish(4)).toThrow(/layer 4: 3 of 4 routed rows/);
  });

  it('refuses to finish when one token got a row twice and another too few (its output is never filled)', () => {
    const combiner = new OutputCombiner(2, 3, 2, new Float32Array([0.5, 0.5, 0.5, 0.5]));
    combiner.add(0, new Float32Array(3), 0);
    combiner.add(1, new Float32Array(3), 0);
    combiner.add(0, new Float32Array(3), 0);
    combiner.add(2, new Float32Array(3), 0);
    expect(() => combiner.finish(5)).toThrow(/layer 5: token 0 combined 3 of 2 routed rows/);
  });
});
