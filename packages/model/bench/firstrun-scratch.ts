import { resolve } from 'node:path';
import { median } from '@switchyard/core';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../src/expert-runner.js';
import { buildExpertGraph, loadModel } from '../src/index.js';

const model = await loadModel(
  resolve(import.meta.dirname, '../../../fixtures/checkpoints/shakespeare-mixtral-8x2'),
);
const H = model.config.hiddenSize;
const s = await ort.InferenceSession.create(buildExpertGraph(model, 0, 0), sessionOptions(1));
const input = new Float32Array(2048 * H).map((_, i) => Math.sin(i));
const run = async (n: number) => {
  const t0 = performance.now();
  await s.run({ hidden_states: new ort.Tensor('float32', input.subarray(0, n * H), [n, H]) });
  return performance.now() - t0;
};
const n = Number(process.env.T ?? 1024);
const times: number[] = [];
for (let i = 0; i < 200; i++) times.push(await run(n));
const blocks = [];
for (let b = 0; b < 200; b += 20) blocks.push(median(times.slice(b, b + 20)).toFixed(2));
console.log(`${n} tokens, median per block of 20 runs:`, blocks.join(' '));
