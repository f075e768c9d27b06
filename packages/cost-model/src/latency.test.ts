import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  directReplicaMs,
  fitsMemory,
  fitsPayload,
  headTimeMs,
  layerLatencyMs,
  meetsSlo,
  pipelinedReplicaMs,
  type ReplicaWork,
  requiredMemoryBytes,
  storageReplicaMs,
  transportParametersSchema,
} from './latency.js';

// B_s = 100 MB/s = 100,000 B/ms, B_f = 50,000 B/ms, T_dl = 20 ms, T_start = 10 ms.
const transport = transportParametersSchema.parse({
  storageBandwidthBytesPerS: 100e6,
  functionBandwidthBytesPerS: 50e6,
  storageAccessMs: 20,
  warmStartMs: 10,
  nextLayerLoadMs: 0,
});

// P = 1 MB, D_in = D_out = 512 B (hidden 128 × f32), t_cal = 0.1 ms, r = 1000.
const work: ReplicaWork = {
  tokens: 1000,
  parameterBytes: 1_000_000,
  inputBytesPerToken: 512,
  outputBytesPerToken: 512,
  computeMsPerToken: 0.1,
  computeFixedMs: 0,
};

describe("the paper's latency equations (hand-computed)", () => {
  it('T_h = P/B_s + T_dl + T_start = 10 + 20 + 10', () => {
    expect(headTimeMs(1_000_000, transport)).toBeCloseTo(40, 12);
    expect(headTimeMs(1_000_000, { ...transport, parameterDownloadPerInvocation: false })).toBeCloseTo(
      30,
      12,
    );
  });

  it('method 2: T_h + 2·T_dl + r(D_in+D_out)/B_s + r·t_cal = 40 + 40 + 10.24 + 100', () => {
    expect(storageReplicaMs(work, transport)).toBeCloseTo(190.24, 9);
  });

  it('method 3: T_h + r(D_out/B_f + t_cal) = 40 + 1000 × (0.01024 + 0.1)', () => {
    expect(directReplicaMs(work, transport)).toBeCloseTo(150.24, 9);
    // Layer: r·D_in/B_f + max t_rep + T_load = 10.24 + 150.24 + 0.
    expect(layerLatencyMs('direct', 150.24, 1000, 512, transport)).toBeCloseTo(160.48, 9);
    expect(layerLatencyMs('s3', 190.24, 1000, 512, { ...transport, nextLayerLoadMs: 5 })).toBeCloseTo(
      195.24,
      9,
    );
  });

  it('method 1 with β = 250: 4 blocks of t_blk = 20 + 250 × max(0.00512 + 0.1, 0.00512) = 46.28, t_nblk = 21.28', () => {
    expect(pipelinedReplicaMs(work, 250, transport)).toBeCloseTo(40 + 21.28 + 4 * 46.28, 9);
  });

  it('method 1 is upload-bound when D_out/B_s exceeds D_in/B_s + t_cal', () => {
    const uploadBound = { ...work, outputBytesPerToken: 20_480, computeMsPerToken: 0 };
    // t_blk = 20 + 100 × max(0.00512, 0.2048) = 40.48; t_nblk = 20 + 100 × 0.2048 = 40.48; 10 blocks.
    expect(pipelinedReplicaMs(uploadBound, 100, transport)).toBeCloseTo(40 + 40.48 + 10 * 40.48, 9);
  });

  it('method 1 with one mini-batch (β ≥ r) equals method 2', () => {
    expect(pipelinedReplicaMs(work, 4096, transport)).toBeCloseTo(storageReplicaMs(work, transport), 9);
  });

  it('pipelining beats non-pipelined S3 once compute and transfer overlap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 20_000 }),
        fc.integer({ min: 8, max: 4096 }),
        fc.double({ min: 0.001, max: 2, noNaN: true }),
        (tokens, beta, tcal) => {
          const w = { ...work, tokens, computeMsPerToken: tcal };
          const blocks = Math.ceil(tokens / Math.min(beta, tokens));
          // Pipelined pays one extra T_dl per extra block; everything else it overlaps.
          const bound = storageReplicaMs(w, transport) + (blocks - 1) * transport.storageAccessMs + 1e-9;
          return pipelinedReplicaMs(w, beta, transport) <= bound;
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('a replica with no tokens is not invoked', () => {
    const none = { ...work, tokens: 0 };
    expect(pipelinedReplicaMs(none, 10, transport)).toBe(0);
    expect(storageReplicaMs(none, transport)).toBe(0);
    expect(directReplicaMs(none, transport)).toBe(0);
  });
});

describe('constraints', () => {
  it('payload: direct only while r·D_in fits 6 MB (binary), less with base64', () => {
    const limitTokens = (6 * 1024 * 1024) / 512;
    expect(fitsPayload(limitTokens, 512, 512, transport)).toBe(true);
    expect(fitsPayload(limitTokens + 1, 512, 512, transport)).toBe(false);
    expect(fitsPayload(limitTokens, 512, 512, { ...transport, payloadExpansion: 4 / 3 })).toBe(false);
    // Paper: direct wins at 256 tokens, is infeasible at 2,560+ for BERT-size hidden (768 × f32 = 3 KB) …
    expect(fitsPayload(256, 3072, 3072, transport)).toBe(true);
    // … for a 4096-wide f32 hidden state (16 KB/token), 2,560 tokens are 40 MB.
    expect(fitsPayload(2560, 16_384, 16_384, transport)).toBe(false);
  });

  it('memory: params + intermediates + r(D_in + D_out) + runtime ≤ memory', () => {
    const footprint = {
      parameterBytes: 100 * 1024 * 1024,
      intermediateBytesPerToken: 1024,
      inputBytesPerToken: 512,
      outputBytesPerToken: 512,
      runtimeOverheadMB: 100,
    };
    expect(requiredMemoryBytes(1024, footprint)).toBe(200 * 1024 * 1024 + 1024 * 2048);
    expect(fitsMemory(202, 1024, footprint)).toBe(true);
    expect(fitsMemory(201, 1024, footprint)).toBe(false);
  });

  it('SLO', () => {
    expect(meetsSlo(99.9, 100)).toBe(true);
    expect(meetsSlo(100.1, 100)).toBe(false);
  });
});
