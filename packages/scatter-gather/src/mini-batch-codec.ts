import {
  decodeExpertMessage,
  draftExpertMessage,
  type ExpertGroups,
  type ExpertMessage,
  gatherRows,
  wireMessageBytes,
} from '@switchyard/core';
import type { BufferPool } from './buffer-pool.js';
import { OutputCombiner } from './combine.js';
import { ScatterGatherError } from './errors.js';
import type { ResolvedScatterGatherOptions } from './options.js';
import type { MiniBatch } from './partition.js';

/**
 * Moves one layer call's rows between the layer and the wire: a mini-batch's rows are gathered
 * straight into a pooled request message, and an answer's rows are folded into the layer output
 * (`OutputCombiner`) once the response was checked against its request.
 */
export class MiniBatchCodec {
  // Created at the first answer, not up front: allocating and zeroing T × H floats before the first
  // mini-batch is sent would put it on the critical path instead of under the experts' compute.
  private combiner: OutputCombiner | undefined;

  constructor(
    private readonly call: {
      layer: number;
      hiddenSize: number;
      numTokens: number;
      topK: number;
      hiddenStates: Float32Array;
      topkWeights: Float32Array;
      /** The caller's buffer for the layer output, if it gave one. */
      output?: Float32Array | undefined;
      groups: ExpertGroups;
      options: Pick<ResolvedScatterGatherOptions, 'wireDtype' | 'skipChecksum'>;
      pool: BufferPool;
    },
  ) {}

  /** The request message of a mini-batch, in a buffer taken from the pool. */
  encode(batch: MiniBatch): Uint8Array {
    const { hiddenSize, options } = this.call;
    const segments = batch.segments.length;
    const draft = draftExpertMessage(
      {
        kind: 'request',
        dtype: options.wireDtype,
        layer: this.call.layer,
        sequence: batch.index,
        hiddenSize,
        expertIds: batch.segments.map((segment) => segment.expert),
        tokenCounts: batch.segments.map((segment) => segment.count),
      },
      {
        target: this.call.pool.take(wireMessageBytes(segments, batch.tokens, hiddenSize, options.wireDtype)),
      },
    );
    // f32: the rows land in the message bytes themselves (no staging copy).
    let row = 0;
    for (const segment of batch.segments) {
      gatherRows(
        this.call.hiddenStates,
        hiddenSize,
        this.call.groups.tokens[segment.expert]!.subarray(segment.start, segment.start + segment.count),
        draft.activations,
        row,
      );
      row += segment.count;
    }
    return draft.finish();
  }

  /** Decodes an answer as a view of `bytes` and checks it answers `batch`; WIRE_FORMAT_INVALID if not. */
  decode(batch: MiniBatch, bytes: Uint8Array): ExpertMessage {
    const { layer, hiddenSize } = this.call;
    // A view of the response bytes: its rows are folded, then the bytes go back to the transport.
    const message = decodeExpertMessage(bytes, { skipChecksum: this.call.options.skipChecksum, view: true });
    const expected = batch.segments;
    const matches =
      message.kind === 'response' &&
      message.layer === layer &&
      message.sequence === batch.index &&
      message.hiddenSize === hiddenSize &&
      message.expertIds.length === expected.length &&
      expected.every(
        (segment, i) => message.expertIds[i] === segment.expert && message.tokenCounts[i] === segment.count,
      );
    if (!matches) {
      throw new ScatterGatherError({
        code: 'WIRE_FORMAT_INVALID',
        message: `response to mini-batch ${batch.index} of layer ${layer} does not match its request (experts ${message.expertIds.join(',')}, tokens ${message.tokenCounts.join(',')}, sequence ${message.sequence})`,
        layer,
        retryable: true,
      });
    }
    return message;
  }

  /** Folds a checked answer's rows into the layer output. */
  fold(batch: MiniBatch, message: ExpertMessage): void {
    const values = message.activations;
    const target = this.output();
    const hiddenSize = this.call.hiddenSize;
    let offset = 0;
    for (const segment of batch.segments) {
      const slots = this.call.groups.slots[segment.expert]!;
      for (let row = segment.start; row < segment.start + segment.count; row++) {
        target.add(slots[row]!, values, offset);
        offset += hiddenSize;
      }
    }
  }

  /** The layer output [T × H], once every routed row was folded exactly once. */
  finish(): Float32Array {
    return this.output().finish(this.call.layer);
  }

  private output(): OutputCombiner {
    const { numTokens, hiddenSize, topK, topkWeights, output } = this.call;
    this.combiner ??= new OutputCombiner(numTokens, hiddenSize, topK, topkWeights, output);
    return this.combiner;
  }
}
