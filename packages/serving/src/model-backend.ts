import type { MoeStep } from '@switchyard/core';
import type { MoeModel, Sequence } from '@switchyard/model';
import type { BatchEntry, BatchStepResult, DecodeBackend } from './batch-scheduler.js';
import type { LayerRouting } from './engine.js';

export interface ModelBackendOptions {
  /** Replaces the in-process MoE step: scatter-gather to expert functions plugs in here. */
  moeStep?: MoeStep;
  /** How routed experts run, for `/v1/deployment` and the dashboard. */
  expertPlacement?: string;
  /** Largest prompt + completion length; defaults to the checkpoint's `max_position_embeddings`. */
  maxContextTokens: number;
  /** Served model id (defaults to the model's name). */
  modelId?: string;
}

/**
 * The real decode backend: every scheduler step is ONE `model.forward` over all active sequences
 * (prefill chunks of joining sequences and one token of each decoding sequence packed together),
 * so all their tokens share one MoE step per MoE layer.
 */
export interface ModelBackend extends DecodeBackend {
  /**
   * Switches the MoE step used from the next decode step on (a new deployment's scatter-gather);
   * the step in progress finishes on the old one, so no in-flight sequence fails.
   */
  setMoeStep(moeStep: MoeStep | undefined, expertPlacement: string): void;
  /** Resolves once no decode step in progress uses `moeStep` (after `setMoeStep` switched away from it). */
  idle(moeStep: MoeStep | undefined): Promise<void>;
}

export function createModelBackend(model: MoeModel, options: ModelBackendOptions): ModelBackend {
  const sequences = new Map<number, Sequence>();
  const { summary } = model;
  let moeStep = options.moeStep;
  /** The MoE step each forward in progress was started with. */
  const inFlight = new Set<{ moeStep: MoeStep | undefined }>();
  let waiters: { moeStep: MoeStep | undefined; resolve: () => void }[] = [];
  const using = (step: MoeStep | undefined) => [...inFlight].some((entry) => entry.moeStep === step);
  const settle = () => {
    const ready = waiters.filter((waiter) => !using(waiter.moeStep));
    waiters = waiters.filter((waiter) => using(waiter.moeStep));
    for (const waiter of ready) waiter.resolve();
  };
  const info = {
    modelId: options.modelId ?? summary.name,
    maxContextTokens: options.maxContextTokens,
    vocabSize: summary.vocabSize,
    moeLayers: summary.moeLayers,
    numExperts: summary.numExperts,
    topK: summary.topK,
    expertPlacement: options.expertPlacement ?? 'in process',
  };
  return {
    info,
    setMoeStep(next, expertPlacement) {
      moeStep = next;
      info.expertPlacement = expertPlacement;
    },
    idle(step) {
      if (!using(step)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ moeStep: step, resolve }));
    },
    async step(batch: readonly BatchEntry[]): Promise<BatchStepResult> {
      const inputs = batch.map((entry) => {
        let sequence = sequences.get(entry.sequenceId);
        if (!sequence) {
          sequence = model.createSequence();
          sequences.set(entry.sequenceId, sequence);
        }
        return { sequence, tokens: entry.tokenIds, allLogits: entry.allLogits === true };
      });
      const routing: LayerRouting[] = [];
      // The whole forward (every MoE layer) uses the step current when it started.
      const entry = { moeStep };
      inFlight.add(entry);
      const forward = model.forward(inputs, {
        logits: 'last',
        moeStep: entry.moeStep,
        observer: {
          moeLayer: (event) =>
            routing.push({
              layer: event.layer,
              numTokens: event.numTokens,
              topK: summary.topK,
              topkIds: event.routing.topkIds,
            }),
        },
      });
      let result: Awaited<typeof forward>;
      try {
        result = await forward;
      } finally {
        inFlight.delete(entry);
        settle();
      }
      return { logits: result.logits, routing };
    },
    release(sequenceId: number): void {
      const sequence = sequences.get(sequenceId);
      if (!sequence) return;
      sequences.delete(sequenceId);
      model.releaseSequence(sequence);
    },
    async close(): Promise<void> {
      for (const sequence of sequences.values()) model.releaseSequence(sequence);
      sequences.clear();
      await model.close();
    },
  };
}
