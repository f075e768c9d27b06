/** The small logger every package accepts. Packages never create a logger and never call `console`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** The default logger: discards everything. */
export const noopLogger: Logger = Object.freeze({ debug: noop, warn: noop, error: noop });
