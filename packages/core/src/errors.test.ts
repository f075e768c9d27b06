import { describe, expect, it } from 'vitest';
import { describeError, SwitchyardError } from './errors.js';

describe('SwitchyardError', () => {
  it('carries code, location and cause, and names the location in its message', () => {
    const cause = new Error('disk full');
    const error = new SwitchyardError({
      code: 'MODEL_LOAD_FAILED',
      message: 'cannot read',
      location: 'a.safetensors',
      cause,
    });
    expect(error.code).toBe('MODEL_LOAD_FAILED');
    expect(error.message).toBe('cannot read (at a.safetensors)');
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(false);
    expect(error.toJSON()).toEqual({
      name: 'SwitchyardError',
      code: 'MODEL_LOAD_FAILED',
      message: error.message,
      location: 'a.safetensors',
    });
  });

  it('recognises instances across package copies through the Symbol.for marker', () => {
    const error = new SwitchyardError({ code: 'INTERNAL', message: 'x' });
    const foreign = Object.assign(Object.create(null), { [Symbol.for('switchyard.error')]: true });
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect(SwitchyardError.isInstance(foreign)).toBe(true);
    expect(SwitchyardError.isInstance(new Error('x'))).toBe(false);
    expect(SwitchyardError.isInstance(null)).toBe(false);
  });

  it('narrows subclasses by brand: a subclass instance is its class and every ancestor, not a sibling', () => {
    class ModelishError extends SwitchyardError {
      static override readonly brand: string = 'test.ModelishError';
    }
    class DeeperError extends ModelishError {
      static override readonly brand: string = 'test.DeeperError';
      readonly extra: number;
      constructor(options: ConstructorParameters<typeof SwitchyardError>[0] & { extra: number }) {
        super(options);
        this.extra = options.extra;
      }
    }
    class SiblingError extends SwitchyardError {
      static override readonly brand: string = 'test.SiblingError';
    }
    const deeper = new DeeperError({ code: 'INTERNAL', message: 'x', extra: 3 });
    expect(deeper.name).toBe('DeeperError');
    expect(DeeperError.isInstance(deeper)).toBe(true);
    expect(ModelishError.isInstance(deeper)).toBe(true);
    expect(SwitchyardError.isInstance(deeper)).toBe(true);
    expect(SiblingError.isInstance(deeper)).toBe(false);
    expect(DeeperError.isInstance(new ModelishError({ code: 'INTERNAL', message: 'y' }))).toBe(false);
    // A copy of the class from another bundle: same brand, different constructor.
    const copy = Object.assign(Object.create(null), {
      [Symbol.for('switchyard.error')]: true,
      [Symbol.for('switchyard.error.brands')]: [
        'test.DeeperError',
        'test.ModelishError',
        'switchyard.SwitchyardError',
      ],
    });
    expect(DeeperError.isInstance(copy)).toBe(true);
    expect(SiblingError.isInstance(copy)).toBe(false);
  });

  it('describes non-error throwables', () => {
    expect(describeError('boom')).toBe('boom');
    expect(describeError(new TypeError('bad'))).toBe('bad');
  });
});
