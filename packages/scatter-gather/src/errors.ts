import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Raised by scatter-gather: an expert unreachable after the retry budget, a deadline, bad input. */
export class ScatterGatherError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.scatter-gather.ScatterGatherError';
  /** Decoder layer the failure happened in, when known. */
  readonly layer: number | undefined;
  /** Expert ids whose tokens could not be served, when known. */
  readonly experts: number[] | undefined;

  constructor(options: SwitchyardErrorOptions & { layer?: number; experts?: number[] }) {
    super(options);
    this.layer = options.layer;
    this.experts = options.experts;
  }
}
