import { errorCodes, SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { describeFailure, exitCodes } from './exit-codes.js';

describe('describeFailure', () => {
  it('maps every error code to a non-zero exit code', () => {
    for (const code of errorCodes) {
      const failure = describeFailure(new SwitchyardError({ code, message: 'x' }));
      expect(failure.exitCode, code).toBe(exitCodes[code]);
      expect(failure.exitCode, code).toBeGreaterThan(0);
    }
  });

  it('maps a missing file to NOT_FOUND', () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, open 'x.json'"), {
      code: 'ENOENT',
    });
    expect(describeFailure(error)).toEqual({
      code: 'NOT_FOUND',
      message: "ENOENT: no such file or directory, open 'x.json'",
      exitCode: 3,
    });
  });

  it('maps a JSON syntax error to INVALID_INPUT', () => {
    let error: unknown;
    try {
      JSON.parse('{');
    } catch (caught) {
      error = caught;
    }
    expect(describeFailure(error)).toMatchObject({ code: 'INVALID_INPUT', exitCode: 2 });
  });

  it('keeps multi-line messages to one line', () => {
    const failure = describeFailure(new Error('first\n  second\n'));
    expect(failure.message).toBe('first — second');
    expect(failure.exitCode).toBe(1);
  });
});
