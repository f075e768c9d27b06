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

  it('describes non-error throwables', () => {
    expect(describeError('boom')).toBe('boom');
    expect(describeError(new TypeError('bad'))).toBe('bad');
  });
});
