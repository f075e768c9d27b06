import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swigluGraph } from './expert-graph.js';
import { createExpertRunner, createSessionFromGraph } from './expert-runner.js';

function randomFloats(count: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => (random() - 0.5) * 0.1);
}

describe('graphs loaded through external-data files', () => {
  let work: string;
  let previousTmpdir: string | undefined;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'switchyard-external-'));
    previousTmpdir = process.env.TMPDIR;
  });
  afterAll(async () => {
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
    await rm(work, { recursive: true, force: true });
  });

  const H = 48;
  const I = 352; // 48 × 352 × 4 bytes = 66 KiB per matrix: stored externally
  const graph = () =>
    swigluGraph({
      hiddenSize: H,
      intermediateSize: I,
      gate: randomFloats(I * H, 1),
      up: randomFloats(I * H, 2),
      down: randomFloats(H * I, 3),
    });

  it('writes large initializers at 64 KiB-aligned offsets and keeps small ones inline', async () => {
    const dir = join(work, 'written');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const modelPath = graph().writeWithExternalWeights(dir, 'expert');
    const weights = await stat(join(dir, 'expert.weights'));
    // Three 66 KiB matrices at offsets 0, 128 KiB and 256 KiB.
    expect(weights.size).toBe(4 * 65536 + H * I * 4);
    const model = await readFile(modelPath);
    expect(model.length).toBeLessThan(H * I * 4);
    expect(Buffer.from(model).includes(Buffer.from('expert.weights'))).toBe(true);
  });

  it('gives bit-identical outputs to the same graph loaded from ONNX bytes, and leaves no files behind', async () => {
    const sessionTmp = join(work, 'tmp');
    await import('node:fs/promises').then((fs) => fs.mkdir(sessionTmp));
    process.env.TMPDIR = sessionTmp;
    const built = graph();
    const runner = await createExpertRunner(built.build(), { threads: 1 });
    const session = await createSessionFromGraph(built, 1, 'test expert');
    expect((await readdir(sessionTmp)).filter((name) => name.startsWith('switchyard-graph-'))).toEqual([]);
    for (const n of [1, 3, 17, 64]) {
      const x = randomFloats(n * H, 10 + n);
      const expected = await runner.run(x, n);
      const actual = (await session.run({ hidden_states: new ort.Tensor('float32', x, [n, H]) }))
        .expert_output!.data as Float32Array;
      expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength)).toEqual(
        Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
      );
    }
    await runner.close();
    await session.release();
  });

  it('falls back to ONNX bytes when the temporary directory cannot be written', async () => {
    process.env.TMPDIR = join(work, 'missing', 'nested');
    const debug: string[] = [];
    const session = await createSessionFromGraph(graph(), 1, 'test expert', {
      debug: (message) => debug.push(message),
      warn: () => {},
      error: () => {},
    });
    expect(debug.join('\n')).toMatch(/loading from memory/);
    const x = randomFloats(H, 5);
    const out = await session.run({ hidden_states: new ort.Tensor('float32', x, [1, H]) });
    expect(out.expert_output!.dims).toEqual([1, H]);
    await session.release();
  });
});
