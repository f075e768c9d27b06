/**
 * Issue #20's acceptance run: a seeded 1,000-line job (mixed completions and chat, greedy) through
 * `switchyard run-batch --cost --json` in process and on the embedded Lambda runtime; outputs equal line
 * by line, billed GB-s equal to the runtime's REPORT lines. Writes bench-results/batch-acceptance.json
 * (+ .md) and exits 1 when a check fails.
 *   pnpm --filter @switchyard/cli bench:batch-acceptance [-- --lines 1000] [--seed 20]
 *     [--max-prompt-bytes 480] [--max-batch-tokens 10240] [--concurrency 256] [--plan plan.json]
 *     [--work DIR] [--out bench-results]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBatchAcceptance } from './batch-acceptance.js';
import { batchAcceptanceMarkdown } from './batch-acceptance-report.js';
import { defaultBatchJobSpec } from './batch-job.js';

const root = join(import.meta.dirname, '../../../..');
const argv = process.argv.slice(2);
const args = argv[0] === '--' ? argv.slice(1) : argv;
const { values } = parseArgs({
  args,
  options: {
    lines: { type: 'string', default: String(defaultBatchJobSpec.lines) },
    seed: { type: 'string', default: String(defaultBatchJobSpec.seed) },
    'max-prompt-bytes': { type: 'string', default: String(defaultBatchJobSpec.maxPromptBytes) },
    'max-batch-tokens': { type: 'string', default: '10240' },
    concurrency: { type: 'string', default: '256' },
    plan: { type: 'string' },
    work: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench-results') },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: batch-acceptance-main.ts [--lines 1000] [--seed 20] [--max-prompt-bytes 480]\n' +
      '  [--max-batch-tokens 10240] [--concurrency 256] [--plan plan.json] [--work DIR] [--out DIR]\n',
  );
  process.exit(0);
}
const integer = (name: string, value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name}: expected a positive integer, got ${value}`);
  return parsed;
};
const work = values.work ?? mkdtempSync(join(tmpdir(), 'switchyard-batch-acceptance-'));
const result = await runBatchAcceptance({
  workDir: work,
  job: {
    lines: integer('lines', values.lines),
    seed: integer('seed', values.seed),
    maxPromptBytes: integer('max-prompt-bytes', values['max-prompt-bytes']),
  },
  planPath: values.plan,
  runBatchArgs: [
    '--max-batch-tokens',
    String(integer('max-batch-tokens', values['max-batch-tokens'])),
    '--concurrency',
    String(integer('concurrency', values.concurrency)),
  ],
});
const { inputPath: _input, ...figures } = result;
const checks = {
  outputsEqual:
    result.differingLines.length === 0 && result.outputLines.local === result.outputLines.inProcess,
  invocationsEqualReports: result.local.invocations === result.reports.lines,
  gbSecondsEqualReports: Math.abs(result.local.billedGbSeconds - result.reports.gbSeconds) < 1e-6,
};
const report = {
  ...figures,
  checks,
  plan: values.plan ?? 'run-batch default',
  measuredAt: new Date().toISOString(),
};
writeFileSync(join(values.out, 'batch-acceptance.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(values.out, 'batch-acceptance.md'), batchAcceptanceMarkdown(report));
process.stdout.write(batchAcceptanceMarkdown(report));
if (!values.work) rmSync(work, { recursive: true, force: true });
process.exit(Object.values(checks).every(Boolean) ? 0 : 1);
