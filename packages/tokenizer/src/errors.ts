import { SwitchyardError, type SwitchyardErrorCode, type SwitchyardErrorOptions } from '@switchyard/core';

/** The codes @switchyard/tokenizer raises. */
export type TokenizerErrorCode = Extract<
  SwitchyardErrorCode,
  'INVALID_INPUT' | 'NOT_FOUND' | 'MODEL_LOAD_FAILED'
>;

export type TokenizerErrorOptions = SwitchyardErrorOptions & {
  code: TokenizerErrorCode;
};

/**
 * Raised by @switchyard/tokenizer: INVALID_INPUT for a bad request (an unknown role, a token id outside
 * the vocabulary, a chat template's `raise_exception`), MODEL_LOAD_FAILED for tokenizer files that cannot
 * be read or are damaged (`location` names the file and field), NOT_FOUND for a missing directory.
 */
export class TokenizerError extends SwitchyardError {
  static override readonly brand: string = 'switchyard.tokenizer.TokenizerError';
  declare readonly code: TokenizerErrorCode;

  constructor(options: TokenizerErrorOptions) {
    super(options);
  }
}

/** MODEL_LOAD_FAILED naming the file (and field). */
export function tokenizerLoadError(message: string, location: string, cause?: unknown): TokenizerError {
  return new TokenizerError({ code: 'MODEL_LOAD_FAILED', message, location, cause });
}

/** INVALID_INPUT naming the offending field of the request. */
export function invalidInput(message: string, location?: string, cause?: unknown): TokenizerError {
  return new TokenizerError({ code: 'INVALID_INPUT', message, location, cause });
}
