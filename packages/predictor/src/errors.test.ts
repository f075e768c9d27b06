import { SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { inputError, PredictorError, predictorError } from './errors.js';
import { fitPredictor } from './fit.js';
import { deserializePredictor } from './serialization.js';

describe('PredictorError', () => {
  it('is a SwitchyardError recognised by its own brand, named after its class', () => {
    const error = new PredictorError({ code: 'PREDICTOR_INVALID', message: 'bad', location: 'file.json' });
    expect(PredictorError.isInstance(error)).toBe(true);
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect(PredictorError.isInstance(new SwitchyardError({ code: 'PREDICTOR_INVALID', message: 'x' }))).toBe(
      false,
    );
    expect(error.name).toBe('PredictorError');
    expect(error.toJSON()).toEqual({
      name: 'PredictorError',
      code: 'PREDICTOR_INVALID',
      message: 'bad (at file.json)',
      location: 'file.json',
    });
  });

  it('is what the factories build, with the cause kept', () => {
    const cause = new Error('EACCES');
    const read = predictorError('cannot read', 'p.json', 'NOT_FOUND', cause);
    expect(PredictorError.isInstance(read) && read.code).toBe('NOT_FOUND');
    expect(read.cause).toBe(cause);
    expect(inputError('no tokens', 'batch.tokens').code).toBe('INVALID_INPUT');
  });

  it('is what fitting and reading raise for bad input', () => {
    expect(() => fitPredictor([])).toThrowError(
      expect.objectContaining({ name: 'PredictorError', code: 'INVALID_INPUT' }),
    );
    let thrown: unknown;
    try {
      deserializePredictor({ format: 'something else' }, 'x.json');
    } catch (error) {
      thrown = error;
    }
    expect(PredictorError.isInstance(thrown) && thrown.code).toBe('PREDICTOR_INVALID');
  });
});
