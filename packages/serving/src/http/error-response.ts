import {
  describeError,
  SwitchyardError,
  type SwitchyardErrorCode,
  type SwitchyardErrorOptions,
} from '@switchyard/core';
import type { ErrorBody } from './schemas.js';

/** A request error with the OpenAI-style details a client reads: `param`, `code`, extra headers. */
export class ServerError extends SwitchyardError {
  readonly param: string | null;
  readonly apiCode: string | null;
  readonly headers: Record<string, string>;
  /** Overrides the status the code maps to (e.g. 405 for a wrong method). */
  readonly status: number | undefined;

  constructor(
    options: SwitchyardErrorOptions & {
      param?: string;
      apiCode?: string;
      headers?: Record<string, string>;
      status?: number;
    },
  ) {
    super(options);
    this.status = options.status;
    this.name = 'ServerError';
    this.param = options.param ?? null;
    this.apiCode = options.apiCode ?? null;
    this.headers = options.headers ?? {};
  }
}

/** The one place error codes become HTTP statuses and OpenAI error types. */
const httpMapping: Record<SwitchyardErrorCode, { status: number; type: string }> = {
  INVALID_INPUT: { status: 400, type: 'invalid_request_error' },
  TRACE_INVALID: { status: 400, type: 'invalid_request_error' },
  PLAN_INVALID: { status: 400, type: 'invalid_request_error' },
  WIRE_FORMAT_INVALID: { status: 400, type: 'invalid_request_error' },
  UNAUTHORIZED: { status: 401, type: 'invalid_request_error' },
  NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  PAYLOAD_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
  RATE_LIMITED: { status: 429, type: 'requests' },
  INVALID_CONFIG: { status: 500, type: 'server_error' },
  MODEL_LOAD_FAILED: { status: 500, type: 'server_error' },
  UNSUPPORTED_ARCHITECTURE: { status: 500, type: 'server_error' },
  INFERENCE_FAILED: { status: 500, type: 'server_error' },
  PREDICTOR_INVALID: { status: 500, type: 'server_error' },
  SLO_INFEASIBLE: { status: 500, type: 'server_error' },
  DEPLOYMENT_FAILED: { status: 500, type: 'server_error' },
  INTERNAL: { status: 500, type: 'server_error' },
  EXECUTOR_FAILED: { status: 502, type: 'server_error' },
  FUNCTION_ERROR: { status: 502, type: 'server_error' },
  THROTTLED: { status: 503, type: 'server_error' },
  ABORTED: { status: 503, type: 'server_error' },
  TIMEOUT: { status: 504, type: 'server_error' },
};

export function httpStatusFor(code: SwitchyardErrorCode): number {
  return httpMapping[code].status;
}

/** Status, headers and `{ error: { message, type, param, code } }` body for any thrown value. */
export function toErrorResponse(error: unknown): {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
} {
  if (!SwitchyardError.isInstance(error)) {
    // Unexpected failures do not leak internals to clients; the server logs them.
    return {
      status: 500,
      headers: {},
      body: { error: { message: 'internal server error', type: 'server_error', param: null, code: null } },
    };
  }
  const mapping = httpMapping[error.code];
  const serverError = error instanceof ServerError ? error : undefined;
  return {
    status: serverError?.status ?? mapping.status,
    headers: serverError?.headers ?? {},
    body: {
      error: {
        message: error.message,
        type: mapping.type,
        param: serverError?.param ?? null,
        code: serverError?.apiCode ?? error.code.toLowerCase(),
      },
    },
  };
}

export function internalError(error: unknown): SwitchyardError {
  return new SwitchyardError({ code: 'INTERNAL', message: describeError(error), cause: error });
}
