import { SwitchyardError, type SwitchyardErrorOptions } from '@switchyard/core';

/** Every error the serving stack raises itself (wrapped causes keep their own class). */
export class ServingError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.serving.ServingError';
}

export type HttpErrorOptions = SwitchyardErrorOptions & {
  /** The request field at fault (OpenAI's `param`). */
  param?: string;
  /** OpenAI's machine-readable `code` (e.g. `invalid_api_key`); default: the Switchyard code in lower case. */
  apiCode?: string;
  /** Extra response headers (e.g. `retry-after`, `allow`). */
  headers?: Record<string, string>;
  /** Overrides the status the code maps to, for the one status no code names (405 for a wrong method). */
  status?: number;
};

/**
 * A refused request, with the OpenAI-style details a client reads. The status still comes from the
 * code (`http/error-response.ts`); these fields only add to the response.
 */
export class HttpError extends ServingError {
  static override readonly brand: string = 'switchyard.serving.HttpError';
  readonly param: string | null;
  readonly apiCode: string | null;
  readonly headers: Record<string, string>;
  readonly status: number | undefined;

  constructor(options: HttpErrorOptions) {
    super(options);
    this.param = options.param ?? null;
    this.apiCode = options.apiCode ?? null;
    this.headers = options.headers ?? {};
    this.status = options.status;
  }
}
