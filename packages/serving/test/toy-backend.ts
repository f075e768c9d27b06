import { delay, SwitchyardError } from '@switchyard/core';
import type { BatchEntry, BatchStepResult, DecodeBackend } from '../src/batch-scheduler.js';

/**
 * A test-only decode backend with fixed, predictable output so HTTP behaviour can be asserted
 * exactly: greedy decoding continues the alphabet (`a`→`b`…`y`→`z`, `z`→space, other bytes→`a`).
 * A prompt containing BEL (0x07) makes the step fail. Never shipped: the server runs the real model.
 */
export class ToyBackend implements DecodeBackend {
  readonly info = {
    modelId: 'toy-alphabet',
    maxContextTokens: 256,
    vocabSize: 256,
    moeLayers: [0, 1],
    numExperts: 4,
    topK: 2,
    expertPlacement: 'in process (toy)',
  };
  readonly batchSizes: number[] = [];
  readonly live = new Set<number>();
  stepDelayMs: number;

  constructor(options: { stepDelayMs?: number } = {}) {
    this.stepDelayMs = options.stepDelayMs ?? 0;
  }

  async step(batch: readonly BatchEntry[]): Promise<BatchStepResult> {
    if (this.stepDelayMs > 0) await delay(this.stepDelayMs);
    this.batchSizes.push(batch.length);
    const tokens = batch.flatMap((entry) => [...entry.tokenIds]);
    if (tokens.includes(7)) {
      throw new SwitchyardError({ code: 'INFERENCE_FAILED', message: 'toy backend refuses BEL' });
    }
    for (const entry of batch) this.live.add(entry.sequenceId);
    const logits = batch.map((entry) => {
      const rows = entry.allLogits ? entry.tokenIds : entry.tokenIds.slice(-1);
      const out = new Float32Array(rows.length * 256);
      rows.forEach((token, i) => {
        out.set(toyLogits(token), i * 256);
      });
      return out;
    });
    const routing = this.info.moeLayers.map((layer) => ({
      layer,
      numTokens: tokens.length,
      topK: 2,
      topkIds: Int32Array.from(tokens.flatMap((token) => [(token + layer) % 4, (token + layer + 1) % 4])),
    }));
    return { logits, routing };
  }

  release(sequenceId: number): void {
    this.live.delete(sequenceId);
  }

  async close(): Promise<void> {}
}

/** The toy's next-token logits after `last`: 8 for the next letter, ((id × 37) mod 11) / 10 elsewhere. */
export function toyLogits(last: number): Float32Array {
  const next = last >= 97 && last < 122 ? last + 1 : last === 122 ? 32 : 97;
  const row = new Float32Array(256).map((_, i) => ((i * 37) % 11) / 10);
  row[next] = 8;
  return row;
}
