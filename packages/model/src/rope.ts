import type { RopeConfig } from './config.js';

/** Inverse frequencies and the cos/sin scale of the rope (default, or YaRN as transformers computes it). */
export function ropeFrequencies(rope: RopeConfig): { invFreq: Float32Array; scale: number } {
  const half = rope.dim / 2;
  const invFreq = new Float32Array(half);
  const positionFreq = (i: number) => Math.fround(rope.theta ** Math.fround((2 * i) / rope.dim));
  if (rope.kind === 'default') {
    for (let i = 0; i < half; i++) invFreq[i] = 1 / positionFreq(i);
    return { invFreq, scale: 1 };
  }
  const correctionDim = (rotations: number) =>
    (rope.dim * Math.log(rope.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(rope.theta));
  let low = correctionDim(rope.betaFast);
  let high = correctionDim(rope.betaSlow);
  if (rope.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, rope.dim - 1);
  if (low === high) high += 0.001;
  for (let i = 0; i < half; i++) {
    const ramp = Math.min(1, Math.max(0, Math.fround((i - low) / (high - low))));
    const extrapolationFactor = Math.fround(1 - ramp);
    const extrapolation = Math.fround(1 / positionFreq(i));
    const interpolation = Math.fround(1 / Math.fround(rope.factor * positionFreq(i)));
    invFreq[i] =
      Math.fround(interpolation * Math.fround(1 - extrapolationFactor)) +
      Math.fround(extrapolation * extrapolationFactor);
  }
  const scale = rope.attentionFactor ?? (rope.factor <= 1 ? 1 : 0.1 * Math.log(rope.factor) + 1);
  return { invFreq, scale };
}

/** Rope tables [T, dim] in the rotate-half layout, computed in float32 steps like transformers. */
export function ropeTables(
  rope: RopeConfig,
  positions: Int32Array,
): { cos: Float32Array; sin: Float32Array } {
  const D = rope.dim;
  const half = D / 2;
  const { invFreq, scale } = ropeFrequencies(rope);
  const cos = new Float32Array(positions.length * D);
  const sin = new Float32Array(positions.length * D);
  for (let t = 0; t < positions.length; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(positions[t]! * invFreq[i]!);
      const c = Math.fround(Math.cos(angle)) * scale;
      const s = Math.fround(Math.sin(angle)) * scale;
      cos[t * D + i] = c;
      cos[t * D + half + i] = c;
      sin[t * D + i] = s;
      sin[t * D + half + i] = s;
    }
  }
  return { cos, sin };
}
