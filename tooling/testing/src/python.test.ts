import { describe, expect, it } from 'vitest';
import { pythonWith } from './python.js';

describe('pythonWith', () => {
  it('finds an interpreter that imports a standard-library module', () => {
    expect(pythonWith('json')).toMatch(/python3$/);
  });

  it('names the module, what it tried and how to install it when none has it', () => {
    expect(() => pythonWith('switchyard_no_such_module', 'no-such-package')).toThrow(
      /no python3 here can import switchyard_no_such_module \(tried .*python3.*\): install it with `python3 -m pip install no-such-package`/,
    );
  });
});
