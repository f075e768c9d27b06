import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadComputeProfile } from '@switchyard/cost-model';
import { runCli } from '@switchyard/testing/cli';
import { afterAll, describe, expect, it } from 'vitest';

const model = 'fixtures/checkpoints/shakespeare-mixtral-8x2';
const dir = mkdtempSync(join(tmpdir(), 'switchyard-profile-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('switchyard profile', () => {
  it('measures experts in separate processes into a profile with held-out checks', async () => {
    const out = join(dir, 'profile.json');
    const report = join(dir, 'report.json');
    const run = await runCli(
      [
        'profile',
        '--model',
        model,
        '--out',
        out,
        '--report',
        report,
        '--threads',
        '1,2',
        '--tokens',
        '16,64',
        '--held-out',
        '32',
        '--processes',
        '2',
        '--experts',
        '2',
        '--rounds',
        '3',
        '--max-rounds',
        '3',
        '--compare',
        'fixtures/profiles/shakespeare-mixtral-8x2.json',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.processes).toBe(2);
    expect(summary.rows).toHaveLength(6);
    for (const row of summary.rows) {
      expect(row.perProcessMs).toHaveLength(2);
      expect(row.measuredMs).toBeGreaterThan(0);
    }
    expect(Object.keys(summary.heldOutMaxAbsErrorPctByThreads).sort()).toEqual(['1', '2']);
    expect(Object.keys(summary.compared.maxAbsErrorPctByThreads).sort()).toEqual(['1', '2']);

    const profile = loadComputeProfile(out);
    expect(profile.subject.model).toBe('shakespeare-mixtral-8x2');
    expect(profile.curves.map((curve) => curve.knots.map((knot) => knot.tokens))).toEqual([
      [16, 64],
      [16, 64],
    ]);
    expect(profile.checks.map((check) => [check.threads, check.tokens])).toEqual([
      [1, 32],
      [2, 32],
    ]);
    // Each cell is the median over the two processes: 3 runs in each.
    expect(profile.points.every((point) => point.repetitions === 6)).toBe(true);
    expect(profile.measurement).toContain('GLIBC_TUNABLES=');
    expect(JSON.parse(readFileSync(report, 'utf8')).profile.createdAt).toBe(profile.createdAt);
  }, 150_000);

  it('names the flag that is wrong before measuring anything', async () => {
    const base = ['profile', '--model', model, '--out', join(dir, 'never.json')];
    const cases: Array<[string[], RegExp]> = [
      [['--threads', '2'], /--threads: must include 1/],
      [['--tokens', '64'], /--tokens: needs at least two/],
      [['--tokens', '16,abc'], /--tokens: expected a comma list of positive integers/],
      [['--held-out', '4096'], /--held-out: 4096 lies outside the knots 16–2048/],
      [['--held-out', '64'], /--held-out: 64 is also a knot/],
      [['--processes', '0'], /--processes: expected a whole number/],
      [['--compare', join(dir, 'missing.json')], /cannot read compute profile/],
    ];
    for (const [extra, message] of cases) {
      const run = await runCli([...base, ...extra]);
      expect(run.code, extra.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const missing = await runCli(['profile', '--model', join(dir, 'nope'), '--out', join(dir, 'x.json')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/not found|does not exist|cannot/i);
  }, 150_000);
});
