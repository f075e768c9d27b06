import { fitComputeProfile } from '@switchyard/cost-model';
import { describe, expect, it } from 'vitest';
import { quantizedPaperRows } from './quantized-paper-rows.js';

/** 2 ms + 0.05 ms/token at 1 thread (1.5 + 0.03 at 2), and the same `speedup` times faster. */
function profile(speedup: number, format: string) {
  return fitComputeProfile(
    [
      { threads: 1, tokens: 100, durationMs: 7 / speedup },
      { threads: 1, tokens: 1000, durationMs: 52 / speedup },
      { threads: 2, tokens: 100, durationMs: 4.5 / speedup },
      { threads: 2, tokens: 1000, durationMs: 31.5 / speedup },
    ],
    {
      subject: { model: format, hiddenSize: 768, intermediateSize: 3072, experts: 'test' },
      machine: { description: 'test', logicalCpus: 2 },
      createdAt: '2026-11-28T00:00:00Z',
    },
  );
}
const counts = [
  [900, 50, 300, 20, 10, 400, 5, 100],
  [100, 700, 60, 30, 250, 15, 80, 5],
];

describe('quantizedPaperRows', () => {
  it('plans each format with its own profile and bytes; faster, smaller experts bill less', async () => {
    const rows = await quantizedPaperRows({
      shape: 'bert-moe-12x4',
      sourceCounts: counts,
      computeByFormat: { none: profile(1, 'fp32'), int8: profile(2, 'int8'), int4: profile(1.5, 'int4') },
      sloMs: 60_000,
      tokensPerBatch: 2048,
      strategy: 'ods',
      accuracy: { int8: { bitsPerToken: 2.17, relativeToFloat32: 1.0001 } },
    });
    expect(rows.map((row) => row.format)).toEqual(['none', 'int8', 'int4']);
    // 768×3072 ×2 matrices + biases: float32, int8 (+ per-channel scales), int4/32 (+ block scales).
    expect(rows.map((row) => row.bytesPerExpert)).toEqual([
      4 * 2 * 768 * 3072 + 4 * (3072 + 768),
      2 * 768 * 3072 + 4 * (3072 + 768) + 4 * (3072 + 768),
      768 * 3072 + 4 * ((3072 * 768) / 32 + (768 * 3072) / 32) + 4 * (3072 + 768),
    ]);
    expect(rows[0]!.costRelativeToFloat32).toBe(1);
    expect(rows[1]!.costUsdPerBatch).toBeLessThan(rows[0]!.costUsdPerBatch);
    expect(rows[2]!.costUsdPerBatch).toBeLessThan(rows[0]!.costUsdPerBatch);
    expect(rows[1]!.accuracy).toEqual({ bitsPerToken: 2.17, relativeToFloat32: 1.0001 });
    expect(rows.every((row) => row.sloMet)).toBe(true);
  });

  it('plans only the formats it has a profile for, float32 as its own baseline', async () => {
    const same = await quantizedPaperRows({
      shape: 'bert-moe-12x4',
      sourceCounts: counts,
      computeByFormat: { none: profile(1, 'fp32') },
      sloMs: 60_000,
      tokensPerBatch: 2048,
      strategy: 'ods',
    });
    expect(same).toHaveLength(1);
    expect(same[0]!.costRelativeToFloat32).toBe(1);
  });
});
