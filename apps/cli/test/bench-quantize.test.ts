import { runCli } from '@switchyard/testing/cli';
import { describe, expect, it } from 'vitest';

/** `bench paper --quantize` refuses contradictory flags before the (long) run starts. */
describe('bench paper --quantize', () => {
  it('refuses --quantize with --no-quantized, naming both', async () => {
    const run = await runCli(['bench', 'paper', '--no-validation', '--no-quantized', '--quantize', 'int8']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('error [INVALID_INPUT]');
    expect(run.stderr).toContain('--quantize int8');
    expect(run.stderr).toContain('--no-quantized');
  });

  it('refuses --quantize-block without --quantize int4', async () => {
    const run = await runCli([
      'bench',
      'paper',
      '--no-validation',
      '--quantize',
      'int8',
      '--quantize-block',
      '128',
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--quantize-block applies to --quantize int4 only (got --quantize int8)');
  });

  it('lists the formats in its help', async () => {
    const run = await runCli(['bench', 'paper', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--quantize <format>');
    expect(run.stdout).toContain('--quantize int4 --quantize-block 128');
  });
});
