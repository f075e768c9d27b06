import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Errors raised by the optimizer and the deployment planner. */
export class OptimizerError extends SwitchyardError {
  constructor(options: SwitchyardErrorOptions) {
    super(options);
    this.name = 'OptimizerError';
  }
}

/** Raised when no plan meets the latency SLO; carries the best latency any plan achieves. */
export class SloInfeasibleError extends OptimizerError {
  readonly bestAchievableLatencyMs: number;

  constructor(sloMs: number, bestAchievableLatencyMs: number, options: { location?: string } = {}) {
    super({
      code: 'SLO_INFEASIBLE',
      message: `no deployment meets the ${sloMs} ms SLO; the best achievable latency is ${bestAchievableLatencyMs.toFixed(1)} ms — raise --slo-ms to at least that or lower the tokens per batch`,
      ...(options.location ? { location: options.location } : {}),
    });
    this.name = 'SloInfeasibleError';
    this.bestAchievableLatencyMs = bestAchievableLatencyMs;
  }
}
