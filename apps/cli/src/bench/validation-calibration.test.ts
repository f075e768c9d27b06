import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchyardError } from '@switchyard/core';
import { afterAll, describe, expect, it } from 'vitest';
import { validationBatchTokens, validationMemorySizesMB } from './paper-validation.js';
import {
  calibrationMemorySizesMB,
  calibrationTokenCounts,
  readValidationCalibration,
} from './validation-calibration.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-validation-calibration-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the calibration design', () => {
  it('shares no memory size or token count with the validation', () => {
    const memory = new Set<number>(validationMemorySizesMB);
    expect(calibrationMemorySizesMB.filter((m) => memory.has(m))).toEqual([]);
    const tokens = new Set<number>(validationBatchTokens);
    expect(calibrationTokenCounts.filter((t) => tokens.has(t))).toEqual([]);
  });
});

describe('readValidationCalibration', () => {
  it('names the file and the field when a field is wrong', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ kind: 'switchyard.validation-calibration', createdAt: 1 }));
    let error: unknown;
    try {
      readValidationCalibration(path);
    } catch (caught) {
      error = caught;
    }
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect((error as SwitchyardError).code).toBe('INVALID_INPUT');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('createdAt');
  });

  it('names the file when it is not JSON', () => {
    const path = join(dir, 'not-json.json');
    writeFileSync(path, '{ nope');
    expect(() => readValidationCalibration(path)).toThrow(/not-json\.json: cannot read it as JSON/);
  });
});
