import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BillingTotals } from '../status.js';
import { CostAttribution } from './cost-attribution.js';

describe('CostAttribution', () => {
  it('shares each step bill by fed tokens and keeps attributed + unattributed equal to what the steps billed', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gbSeconds: fc.double({ min: 0, max: 10, noNaN: true }),
            invocations: fc.integer({ min: 0, max: 20 }),
            entries: fc.array(
              fc.record({
                tag: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
                tokens: fc.integer({ min: 1, max: 50 }),
              }),
              { maxLength: 5 },
            ),
          }),
          { maxLength: 20 },
        ),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (steps, startup) => {
          const bill: BillingTotals = { billedGbSeconds: 0, costUsd: 0, invocations: 0, retries: 0 };
          // Billed before the job's first step (the startup probe): not part of any request.
          bill.billedGbSeconds += startup;
          const attribution = new CostAttribution(() => ({ ...bill }));
          let expectedA = 0;
          for (const step of steps) {
            bill.billedGbSeconds += step.gbSeconds;
            bill.costUsd += step.gbSeconds * 2;
            bill.invocations += step.invocations;
            const tokens = step.entries.reduce((sum, entry) => sum + entry.tokens, 0);
            for (const entry of step.entries)
              if (entry.tag === 'a') expectedA += (step.gbSeconds * entry.tokens) / tokens;
            attribution.record({
              entries: step.entries.map((entry, index) => ({
                sequenceId: index,
                priority: 'batch' as const,
                ...entry,
              })),
            });
          }
          const shares = ['a', 'b', 'c'].map((tag) => attribution.take(tag));
          const attributed = shares.reduce((sum, share) => sum + share.billed_gb_seconds, 0);
          const total = steps.reduce((sum, step) => sum + step.gbSeconds, 0);
          expect(attributed + attribution.unattributed().gbSeconds).toBeCloseTo(total, 9);
          expect(shares[0]!.billed_gb_seconds).toBeCloseTo(expectedA, 9);
          expect(shares[0]!.usd).toBeCloseTo(expectedA * 2, 9);
        },
      ),
      { seed: 20, numRuns: 200 },
    );
  });
});
