import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** The one place error codes become process exit codes. 1 = unexpected, 2 = usage. */
const exitCodes: Record<SwitchyardErrorCode, number> = {
  INVALID_INPUT: 2,
  INVALID_CONFIG: 2,
  NOT_FOUND: 3,
  MODEL_LOAD_FAILED: 4,
  UNSUPPORTED_ARCHITECTURE: 4,
  INFERENCE_FAILED: 5,
  TRACE_INVALID: 6,
  PREDICTOR_INVALID: 6,
  PLAN_INVALID: 7,
  SLO_INFEASIBLE: 8,
  EXECUTOR_FAILED: 9,
  FUNCTION_ERROR: 9,
  THROTTLED: 9,
  TIMEOUT: 9,
  ABORTED: 130,
  PAYLOAD_TOO_LARGE: 10,
  WIRE_FORMAT_INVALID: 10,
  DEPLOYMENT_FAILED: 11,
  UNAUTHORIZED: 12,
  RATE_LIMITED: 12,
  INTERNAL: 1,
};

export function exitCodeFor(error: unknown): number {
  return SwitchyardError.isInstance(error) ? exitCodes[error.code] : 1;
}
