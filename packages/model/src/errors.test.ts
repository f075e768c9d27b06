import { SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config.js';
import { inferenceError, ModelError, modelLoadError } from './errors.js';

describe('ModelError', () => {
  it('is a SwitchyardError recognised by its own brand, named after its class', () => {
    const error = new ModelError({ code: 'MODEL_LOAD_FAILED', message: 'bad', location: 'a.safetensors' });
    expect(ModelError.isInstance(error)).toBe(true);
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect(ModelError.isInstance(new SwitchyardError({ code: 'MODEL_LOAD_FAILED', message: 'x' }))).toBe(
      false,
    );
    expect(error.name).toBe('ModelError');
    expect(error.message).toBe('bad (at a.safetensors)');
  });

  it('is what the factories build, with the cause kept and no location when none is given', () => {
    const cause = new Error('session');
    const failed = inferenceError('onnxruntime failed', undefined, cause);
    expect(failed.code).toBe('INFERENCE_FAILED');
    expect(failed.location).toBeUndefined();
    expect(failed.message).toBe('onnxruntime failed');
    expect(failed.cause).toBe(cause);
    expect(modelLoadError('truncated', 'b.safetensors').code).toBe('MODEL_LOAD_FAILED');
  });

  it('is what config parsing raises, naming the field', () => {
    let thrown: unknown;
    try {
      parseModelConfig({ model_type: 'mixtral' }, 'm/config.json');
    } catch (error) {
      thrown = error;
    }
    expect(ModelError.isInstance(thrown) && thrown.code).toBe('INVALID_CONFIG');
    expect(ModelError.isInstance(thrown) && thrown.location).toMatch(/^m\/config\.json: /);
  });
});
