import { SwitchyardError, type SwitchyardErrorCode } from '@switchyard/core';
import { HttpError } from '../errors.js';
import type { ErrorBody } from './schemas.js';

/**
 * The one place error codes become HTTP statuses and OpenAI error types. Any Switchyard error maps by
 * its `code`, whichever package raised it; an `HttpError` may add `param`, an OpenAI `code`, headers,
 * and (for 405 only, which no code names) a status.
 */
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

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** Status, headers and `{ error: { message, type, param, code } }` body for any thrown value. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (!SwitchyardError.isInstance(error)) {
    // Unexpected failures do not leak internals to clients; the server logs them.
    return {
      status: 500,
      headers: {},
      body: { error: { message: 'internal server error', type: 'server_error', param: null, code: null } },
    };
  }
  const mapping = httpMapping[error.code];
  const details = HttpError.isInstance(error) ? error : undefined;
  return {
    status: details?.status ?? mapping.status,
    headers: details?.headers ?? {},
    body: {
      error: {
        message: error.message,
        type: mapping.type,
        param: details?.param ?? null,
        code: details?.apiCode ?? error.code.toLowerCase(),
      },
    },
  };
}
