const marker = Symbol.for('switchyard.error');
const brands = Symbol.for('switchyard.error.brands');

/** Every error code a Switchyard package may raise. Apps map these to exit codes and HTTP statuses. */
export const errorCodes = [
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'UNSUPPORTED_ARCHITECTURE',
  'INFERENCE_FAILED',
  'TRACE_INVALID',
  'PREDICTOR_INVALID',
  'PLAN_INVALID',
  'SLO_INFEASIBLE',
  'EXECUTOR_FAILED',
  'FUNCTION_ERROR',
  'THROTTLED',
  'TIMEOUT',
  'ABORTED',
  'PAYLOAD_TOO_LARGE',
  'WIRE_FORMAT_INVALID',
  'DEPLOYMENT_FAILED',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'INTERNAL',
] as const;

export type SwitchyardErrorCode = (typeof errorCodes)[number];

/**
 * What every Switchyard error is built from. Subclasses take `SwitchyardErrorOptions & { …extras }`
 * (one object, never positional arguments), so every error in the project is constructed the same way.
 */
export interface SwitchyardErrorOptions {
  code: SwitchyardErrorCode;
  message: string;
  cause?: unknown;
  /** Where the problem is: a file, tensor, field or function name. */
  location?: string;
  /** Whether retrying the same operation may succeed. */
  retryable?: boolean;
}

/** A SwitchyardError class: what `isInstance` narrows to. */
type ErrorClass<T> = abstract new (...args: never[]) => T;

/**
 * Base class for every error Switchyard raises. Use `X.isInstance(e)` rather than `instanceof`: it also
 * recognises errors from another copy of the package (two versions installed side by side).
 *
 * Subclasses set a unique `static readonly brand` (e.g. `'switchyard.model.ModelError'`); every
 * instance records the brands of its whole class chain, so `ModelError.isInstance(e)` is true for a
 * ModelError or any subclass of it, and `SwitchyardError.isInstance(e)` for every Switchyard error.
 */
export class SwitchyardError extends Error {
  /** The class's cross-realm identity; subclasses override it with their own. */
  static readonly brand: string = 'switchyard.SwitchyardError';
  /** Cross-realm marker kept for errors from older copies of core. */
  readonly [marker] = true;
  readonly [brands]: readonly string[];
  readonly code: SwitchyardErrorCode;
  readonly location: string | undefined;
  readonly retryable: boolean;

  constructor(options: SwitchyardErrorOptions) {
    super(
      options.location ? `${options.message} (at ${options.location})` : options.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name || 'SwitchyardError';
    this.code = options.code;
    this.location = options.location;
    this.retryable = options.retryable ?? false;
    const chain: string[] = [];
    for (let type: unknown = new.target; typeof type === 'function'; type = Object.getPrototypeOf(type)) {
      const brand = (type as { brand?: unknown }).brand;
      if (typeof brand === 'string' && !chain.includes(brand)) chain.push(brand);
      if (type === SwitchyardError) break;
    }
    this[brands] = chain;
  }

  /** True for an instance of this class (or a subclass), from any copy of the package that defines it. */
  static isInstance<T>(this: ErrorClass<T> & { readonly brand: string }, error: unknown): error is T {
    if (typeof error !== 'object' || error === null) return false;
    const record = error as Record<symbol, unknown>;
    const list = record[brands];
    // `this` is the class isInstance was called on (ModelError.isInstance → ModelError's brand).
    // biome-ignore lint/complexity/noThisInStatic: polymorphic on purpose
    const brand = this.brand;
    if (Array.isArray(list)) return list.includes(brand);
    // An error from an older copy of core carries only the base marker.
    return brand === SwitchyardError.brand && record[marker] === true;
  }

  toJSON(): { name: string; code: SwitchyardErrorCode; message: string; location?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.location ? { location: this.location } : {}),
    };
  }
}

/** Says what an unknown thrown value was, for wrapping it in a message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
