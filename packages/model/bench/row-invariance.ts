/**
 * Are an expert graph's output rows bit-identical whatever the batch size? Prints, per thread count,
 * the batch sizes whose first rows differ from the same rows computed inside a 1024-row batch.
 *   node --conditions=@switchyard/source --import tsx bench/row-invariance.ts
 */
import { createRandom } from '@switchyard/core';
import { buildSwigluGraph, createExpertRunner } from '../src/index.js';

const H = 2048;
const I = 1408;
const random = createRandom(11);
const make = (count: number) => Float32Array.from({ length: count }, () => (random() * 2 - 1) * 0.05);
const graph = buildSwigluGraph({
  hiddenSize: H,
  intermediateSize: I,
  gate: make(I * H),
  up: make(I * H),
  down: make(H * I),
});
const rows = Float32Array.from({ length: 1024 * H }, () => random() * 2 - 1);
for (const threads of [1, 2]) {
  const runner = await createExpertRunner(graph, { threads });
  const full = await runner.run(rows, 1024);
  const differing: number[] = [];
  let maxDiff = 0;
  for (const n of [1, 2, 3, 4, 7, 8, 16, 31, 64, 100, 256, 512]) {
    const part = await runner.run(rows.slice(0, n * H), n);
    let same = true;
    for (let i = 0; i < part.length; i++) {
      if (!Object.is(part[i], full[i])) {
        same = false;
        maxDiff = Math.max(maxDiff, Math.abs(part[i]! - full[i]!));
      }
    }
    if (!same) differing.push(n);
  }
  // Same batch twice: run-to-run determinism.
  const again = await runner.run(rows, 1024);
  const deterministic = again.every((v, i) => Object.is(v, full[i]));
  console.log(
    JSON.stringify({
      shape: `${H}x${I}`,
      threads,
      batchSizesDifferingFrom1024: differing,
      maxAbsDiff: maxDiff,
      deterministicRepeat: deterministic,
    }),
  );
  await runner.close();
}
