import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';

/** The one place error codes become process exit codes. 1 = unexpected, 2 = usage. */
export const exitCodes: Readonly<Record<SwitchyardErrorCode, number>> = {
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

/** Exit code for a commander usage error (unknown flag, missing argument, bad option value). */
export const usageExitCode = 2;

/** Node system error codes that mean the user pointed at something wrong, mapped to our codes. */
const systemErrorCodes: Record<string, SwitchyardErrorCode> = {
  ENOENT: 'NOT_FOUND',
  ENOTDIR: 'INVALID_INPUT',
  EISDIR: 'INVALID_INPUT',
  EACCES: 'INVALID_INPUT',
  EPERM: 'INVALID_INPUT',
  EADDRINUSE: 'INVALID_CONFIG',
  ECONNREFUSED: 'EXECUTOR_FAILED',
};

export interface Failure {
  code: SwitchyardErrorCode;
  /** One line: what was wrong, where, and what to do. */
  message: string;
  exitCode: number;
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' — ');
}

/** Turns anything thrown into the one line main.ts prints and the exit code it returns. */
export function describeFailure(error: unknown): Failure {
  if (SwitchyardError.isInstance(error)) {
    return { code: error.code, message: oneLine(error.message), exitCode: exitCodes[error.code] ?? 1 };
  }
  if (error instanceof Error) {
    const systemCode = (error as NodeJS.ErrnoException).code;
    const mapped = systemCode ? systemErrorCodes[systemCode] : undefined;
    if (mapped) return { code: mapped, message: oneLine(error.message), exitCode: exitCodes[mapped] };
    if (error instanceof SyntaxError && /JSON/.test(error.message)) {
      return { code: 'INVALID_INPUT', message: `malformed JSON: ${oneLine(error.message)}`, exitCode: 2 };
    }
    if (error.name === 'ZodError') {
      const issues =
        (error as unknown as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues ?? [];
      const first = issues[0];
      const message = first
        ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}`
        : error.message;
      return { code: 'INVALID_INPUT', message: oneLine(message), exitCode: 2 };
    }
    return { code: 'INTERNAL', message: oneLine(error.message || error.name), exitCode: 1 };
  }
  return { code: 'INTERNAL', message: oneLine(String(error)), exitCode: 1 };
}

export function exitCodeFor(error: unknown): number {
  return describeFailure(error).exitCode;
}
