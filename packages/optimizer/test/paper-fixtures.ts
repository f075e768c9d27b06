import { fitComputeProfile } from '@switchyard/cost-model';

/** A tiny hand-made compute profile: 2 ms + 0.05 ms/token at 1 thread, 1.5 + 0.03 at 2. */
export const tinyCompute = fitComputeProfile(
  [
    { threads: 1, tokens: 100, durationMs: 7 },
    { threads: 1, tokens: 1000, durationMs: 52 },
    { threads: 2, tokens: 100, durationMs: 4.5 },
    { threads: 2, tokens: 1000, durationMs: 31.5 },
  ],
  {
    subject: { model: 'tiny', hiddenSize: 768, intermediateSize: 3072, experts: 'test' },
    machine: { description: 'test', logicalCpus: 2 },
    createdAt: '2026-11-28T00:00:00Z',
  },
);

/**
 * Three text domains of routing counts, 3 source layers × 8 experts each (every count in a layer of
 * `web` distinct, so tests can find an expert by its count); the domains disagree about which
 * experts are hot.
 */
export const testDomains = [
  {
    name: 'web',
    layers: [
      [900, 50, 300, 20, 10, 400, 5, 100],
      [100, 700, 60, 30, 250, 15, 80, 5],
      [300, 310, 290, 305, 10, 11, 12, 13],
    ],
  },
  {
    name: 'books',
    layers: [
      [700, 80, 500, 40, 10, 300, 15, 90],
      [150, 500, 90, 60, 300, 25, 70, 10],
      [250, 350, 280, 310, 20, 15, 10, 5],
    ],
  },
  {
    name: 'code',
    layers: [
      [50, 900, 20, 600, 10, 40, 300, 5],
      [10, 20, 900, 30, 20, 700, 5, 300],
      [20, 30, 10, 40, 600, 500, 400, 300],
    ],
  },
];
