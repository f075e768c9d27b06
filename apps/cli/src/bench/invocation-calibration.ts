import {
  type BillingReport,
  type Executor,
  encodeExpertMessage,
  median,
  vcpusForMemory,
} from '@switchyard/core';
import {
  type ComputeProfile,
  computeTimeAtThreadsMs,
  fitInvocationOverhead,
  type InvocationOverhead,
  type InvocationOverheadPoint,
} from '@switchyard/cost-model';

/** A deployed function the calibration invokes. */
export interface CalibrationFunction {
  functionName: string;
  layer: number;
  experts: number[];
  memoryMB: number;
}

/** Splits `tokens` over `parts` as evenly as possible. */
function split(tokens: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor((tokens * (i + 1)) / parts) - Math.floor((tokens * i) / parts),
  );
}

/**
 * Calibration invocations, separate from the validation batches: synthetic activations at token
 * counts of their own (split over each function's experts), one invocation at a time, visiting the
 * given functions in turn as a batch's scatter does (waking a function process that sat idle costs
 * more than repeating a call on a hot one, so the calibration keeps the workload's access pattern).
 * Each handler duration is brought back to one full vCPU by the cost model's own rule (× share
 * below one vCPU; serial work is not sped up above it), so the fit is the overhead at one vCPU
 * and the cost model's memory→vCPU rule decides how it stretches. Call `round` repeatedly,
 * interleaved with the batches, so both see the same machine load.
 */
export class InvocationCalibration {
  private readonly samples = new Map<string, { tokens: number; payloadBytes: number; durations: number[] }>();

  constructor(
    private readonly options: {
      executor: Executor;
      hiddenSize: number;
      compute: ComputeProfile;
      tokenCounts: number[];
    },
  ) {}

  private payload(fn: CalibrationFunction, tokens: number): Uint8Array {
    const { hiddenSize } = this.options;
    const activations = new Float32Array(tokens * hiddenSize);
    for (let i = 0; i < activations.length; i++) activations[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    return encodeExpertMessage({
      kind: 'request',
      dtype: 'f32',
      layer: fn.layer,
      sequence: tokens,
      hiddenSize,
      expertIds: fn.experts,
      tokenCounts: split(tokens, fn.experts.length),
      activations,
    });
  }

  /** One round over `functions`: every token count once on every function, functions in turn. */
  async round(functions: readonly CalibrationFunction[]): Promise<BillingReport[]> {
    const reports: BillingReport[] = [];
    for (const tokens of this.options.tokenCounts)
      for (const fn of functions) {
        const result = await this.options.executor.invoke({
          functionName: fn.functionName,
          payload: this.payload(fn, tokens),
        });
        reports.push(result.billing);
        if (result.billing.initDurationMs !== undefined) continue;
        const key = `${fn.memoryMB}:${tokens}`;
        // Request and response each carry tokens × hidden float32 activations.
        const cell = this.samples.get(key) ?? {
          tokens,
          payloadBytes: 2 * tokens * this.options.hiddenSize * 4,
          durations: [],
        };
        cell.durations.push(result.billing.durationMs * Math.min(1, vcpusForMemory(fn.memoryMB)));
        this.samples.set(key, cell);
      }
    return reports;
  }

  /** Median one-vCPU handler time per (memory, token count) beside the compute profile's prediction. */
  points(): InvocationOverheadPoint[] {
    return [...this.samples.values()].map(({ tokens, payloadBytes, durations }) => {
      return {
        tokens,
        payloadBytes,
        handlerMs: median(durations),
        // What the cost model charges as compute for this call (one thread); the rest is overhead.
        computeMs: computeTimeAtThreadsMs(this.options.compute, tokens, 1),
        repetitions: durations.length,
        statistic: 'median' as const,
      };
    });
  }

  /** Adds another calibration's samples (e.g. one round's) to this one. */
  absorb(other: InvocationCalibration): void {
    for (const [key, cell] of other.samples) {
      const mine = this.samples.get(key) ?? { ...cell, durations: [] };
      mine.durations.push(...cell.durations);
      this.samples.set(key, mine);
    }
  }

  get invocations(): number {
    let n = 0;
    for (const cell of this.samples.values()) n += cell.durations.length;
    return n;
  }

  fit(measuredOn: string): InvocationOverhead {
    return fitInvocationOverhead(this.points(), { measuredOn });
  }
}
