import { wireMessageBytes } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Bytes, maxDirectTokens } from './transport.js';

describe('maxDirectTokens', () => {
  it('is the largest batch whose base64 envelope fits the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8192 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom('f32' as const, 'f16' as const),
        fc.integer({ min: 0, max: 4096 }),
        (hiddenSize, segments, dtype, envelopeOverheadBytes) => {
          const limitBytes = 6 * 1024 * 1024;
          const tokens = maxDirectTokens({ hiddenSize, segments, dtype, limitBytes, envelopeOverheadBytes });
          const size = (n: number) =>
            base64Bytes(wireMessageBytes(segments, n, hiddenSize, dtype)) + envelopeOverheadBytes;
          expect(size(tokens)).toBeLessThanOrEqual(limitBytes);
          expect(size(tokens + 1)).toBeGreaterThan(limitBytes);
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });

  it('fits 287 tokens of hidden size 4096 in f32, not the 383 that 6 MB of raw bytes would hold', () => {
    const tokens = maxDirectTokens({
      hiddenSize: 4096,
      segments: 1,
      dtype: 'f32',
      limitBytes: 6 * 1024 * 1024,
      envelopeOverheadBytes: 1024,
    });
    expect(tokens).toBe(287);
  });
});
