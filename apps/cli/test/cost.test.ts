import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchyardError } from '@switchyard/core';
import { runCli } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../src/context.js';
import { createOutput } from '../src/output.js';
import { createProgram } from '../src/program.js';

function quietContext(): CliContext {
  const sink = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return {
    output: createOutput({ stdout: sink as never, stderr: sink as never, noColor: true }),
    logger: { debug: () => {}, warn: () => {}, error: () => {} },
    env: { SWITCHYARD_LOG_LEVEL: 'silent' },
    fixturesDir: join(tmpdir(), 'no-fixtures'),
  };
}

const work = mkdtempSync(join(tmpdir(), 'switchyard-cost-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('switchyard cost (child process)', () => {
  it("reproduces AWS's example as JSON and prints the price table's date", async () => {
    const [json, human] = await Promise.all([
      runCli([
        'cost',
        '--memory',
        '512',
        '--duration-ms',
        '1000',
        '--invocations',
        '3000000',
        '--no-free-tier',
        '--json',
      ]),
      runCli([
        'cost',
        '--memory',
        '512',
        '--duration-ms',
        '1000',
        '--invocations',
        '3000000',
        '--no-free-tier',
      ]),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.gbSeconds).toBe(1_500_000);
    expect(result.computeUsd).toBeCloseTo(25.0, 3);
    expect(result.requestUsd).toBeCloseTo(0.6, 10);
    expect(result.totalUsd).toBeCloseTo(25.6, 3);
    expect(result.freeTier).toBe(false);
    expect(result.priceTableDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('$25.00');
    expect(human.stdout).toContain('$0.60');
    expect(human.stdout).toContain('$25.60');
    expect(human.stdout).toContain(`dated ${result.priceTableDate}`);
  }, 180_000);

  it('applies the free tier by default and takes arm64 and a price-table override', async () => {
    const override = join(work, 'override.json');
    writeFileSync(
      override,
      JSON.stringify({
        date: '2027-02-01',
        version: 'custom',
        regions: {
          'us-east-1': {
            lambda: {
              requestUsdPerMillion: { value: 0, unit: 'USD/1M', source: 'test', date: '2027-02-01' },
            },
          },
        },
      }),
    );
    const [free, custom] = await Promise.all([
      runCli([
        'cost',
        '--memory',
        '512',
        '--duration-ms',
        '1000',
        '--invocations',
        '3000000',
        '--json',
        '--arch',
        'arm64',
      ]),
      runCli([
        'cost',
        '--memory',
        '512',
        '--duration-ms',
        '1000',
        '--invocations',
        '3000000',
        '--no-free-tier',
        '--json',
        '--price-table',
        override,
      ]),
    ]);
    expect(free.code, free.stderr).toBe(0);
    const freeResult = JSON.parse(free.stdout);
    expect(freeResult.computeUsd).toBeCloseTo(1_100_000 * 0.0000133334, 6);
    expect(freeResult.requestUsd).toBeCloseTo(0.4, 10);
    const customResult = JSON.parse(custom.stdout);
    expect(customResult.requestUsd).toBe(0);
    expect(customResult.priceTableDate).toBe('2027-02-01');
  }, 180_000);

  it('rejects bad input in a child process with one line naming the flag and exit code 2', async () => {
    const malformed = join(work, 'malformed.json');
    writeFileSync(
      malformed,
      '{"regions": {"us-east-1": {"lambda": {"requestUsdPerMillion": {"value": -3}}}}}',
    );
    const cases: Array<[string[], RegExp]> = [
      [
        ['cost', '--memory', '-1', '--duration-ms', '1000', '--invocations', '10'],
        /--memory: must not be negative/,
      ],
      [
        ['cost', '--memory', '512', '--duration-ms', '1', '--invocations', '1', '--price-table', malformed],
        /requestUsdPerMillion\.value/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      const [args, pattern] = cases[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(pattern);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stdout).toBe('');
    });
  }, 180_000);

  it('names the flag for every kind of bad number, region and architecture', async () => {
    const base = ['--duration-ms', '1000', '--invocations', '10'];
    const cases: Array<[string[], RegExp]> = [
      [['--memory', '512.5', ...base], /--memory: must be a whole number/],
      [['--memory', '64', ...base], /--memory: must be between 128 and 10240/],
      [['--memory', '10241', ...base], /--memory: must be between 128 and 10240/],
      [['--memory', 'lots', ...base], /--memory: must be a number/],
      [['--memory', '512', '--duration-ms', '-2', '--invocations', '1'], /--duration-ms/],
      [['--memory', '512', '--duration-ms', '1', '--invocations', '2.5'], /--invocations/],
      [['--memory', '512', ...base, '--region', 'mars-1'], /--region: unknown region "mars-1"/],
      [['--memory', '512', ...base, '--arch', 'mips'], /--arch: unknown architecture "mips"/],
    ];
    for (const [args, pattern] of cases) {
      const program = createProgram(quietContext());
      program.exitOverride();
      let caught: unknown;
      try {
        await program.parseAsync(['cost', ...args], { from: 'user' });
      } catch (error) {
        caught = error;
      }
      expect(SwitchyardError.isInstance(caught), args.join(' ')).toBe(true);
      expect((caught as SwitchyardError).code).toBe('INVALID_INPUT');
      expect((caught as Error).message, args.join(' ')).toMatch(pattern);
    }
  });
});
