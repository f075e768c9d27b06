import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Errors raised by the optimizer and the deployment planner. */
export class OptimizerError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.optimizer.OptimizerError';

  constructor(options: SwitchyardErrorOptions) {
    super(options);
  }
}

/**
 * Raised when no plan meets the latency SLO; carries the SLO and the best latency any plan achieves.
 * The code is always SLO_INFEASIBLE and the message says what to change; a caller may pass its own
 * message (a CLI naming its flag, say).
 */
export class SloInfeasibleError extends OptimizerError {
  static override readonly brand: string = 'switchyard.optimizer.SloInfeasibleError';
  readonly sloMs: number;
  readonly bestAchievableLatencyMs: number;

  constructor(
    options: Omit<SwitchyardErrorOptions, 'code' | 'message'> & {
      message?: string;
      sloMs: number;
      bestAchievableLatencyMs: number;
    },
  ) {
    super({
      ...options,
      code: 'SLO_INFEASIBLE',
      message:
        options.message ??
        `no deployment meets the ${options.sloMs} ms SLO; the best achievable latency is ${options.bestAchievableLatencyMs.toFixed(1)} ms — raise the SLO to at least that or lower the tokens per batch`,
    });
    this.sloMs = options.sloMs;
    this.bestAchievableLatencyMs = options.bestAchievableLatencyMs;
  }
}
