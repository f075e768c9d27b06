import { SwitchyardError } from '@switchyard/core';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addQuantizeOptions, quantizationFromFlags } from './quantize-option.js';

function invalidInput(run: () => unknown, location: string, message: string): void {
  try {
    run();
  } catch (error) {
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', location });
    expect((error as Error).message).toContain(message);
    return;
  }
  expect.unreachable(`expected INVALID_INPUT at ${location}`);
}

describe('quantizationFromFlags', () => {
  it('maps the flags to a format; none and no flag are float32 (undefined)', () => {
    expect(quantizationFromFlags({})).toBeUndefined();
    expect(quantizationFromFlags({ quantize: 'none' })).toBeUndefined();
    expect(quantizationFromFlags({ quantize: 'int8' })).toEqual({ format: 'int8' });
    expect(quantizationFromFlags({ quantize: 'int4' })).toEqual({ format: 'int4', blockSize: 32 });
    expect(quantizationFromFlags({ quantize: 'int4', quantizeBlock: '128' })).toEqual({
      format: 'int4',
      blockSize: 128,
    });
  });

  it('refuses --quantize-block without int4', () => {
    invalidInput(
      () => quantizationFromFlags({ quantizeBlock: '32' }),
      '--quantize-block',
      'got --quantize none',
    );
    invalidInput(
      () => quantizationFromFlags({ quantize: 'int8', quantizeBlock: '128' }),
      '--quantize-block',
      'got --quantize int8',
    );
  });

  it("follows a plan's format without the flag and refuses a different one, naming both", () => {
    const plan = { quantization: { format: 'int4', blockSize: 128 } as const, source: 'plan.json' };
    expect(quantizationFromFlags({}, plan)).toEqual({ format: 'int4', blockSize: 128 });
    expect(quantizationFromFlags({ quantize: 'int4', quantizeBlock: '128' }, plan)).toEqual({
      format: 'int4',
      blockSize: 128,
    });
    invalidInput(
      () => quantizationFromFlags({ quantize: 'int4' }, plan),
      '--quantize',
      'plan.json was made for int4 (block 128) experts but --quantize asks for int4 (block 32)',
    );
    const float32Plan = { quantization: undefined, source: 'old-plan.json' };
    expect(quantizationFromFlags({}, float32Plan)).toBeUndefined();
    expect(quantizationFromFlags({ quantize: 'none' }, float32Plan)).toBeUndefined();
    invalidInput(
      () => quantizationFromFlags({ quantize: 'int8' }, float32Plan),
      '--quantize',
      'made for none (float32) experts but --quantize asks for int8',
    );
  });

  it('adds flags that accept only the known formats and block sizes', () => {
    const command = addQuantizeOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }));
    expect(command.parse(['--quantize', 'int4', '--quantize-block', '128'], { from: 'user' }).opts()).toEqual(
      {
        quantize: 'int4',
        quantizeBlock: '128',
      },
    );
    expect(() => command.parse(['--quantize', 'fp8'], { from: 'user' })).toThrow(/fp8/);
    expect(() => command.parse(['--quantize', 'int4', '--quantize-block', '64'], { from: 'user' })).toThrow(
      /64/,
    );
  });
});
