#!/usr/bin/env node
// Runs the whole vitest suite once and prints the plain `N passed, N failed` line from vitest's JSON
// report (CI does not parse vitest's own summary). Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const report = resolve(root, '.vitest-report.json');
rmSync(report, { force: true });
const vitest = resolve(root, 'node_modules/vitest/vitest.mjs');
const run = spawnSync(
  process.execPath,
  [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);
if (!existsSync(report)) {
  console.log('0 passed, 1 failed');
  console.error(`vitest wrote no JSON report (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
const result = JSON.parse(readFileSync(report, 'utf8'));
const passed = result.numPassedTests ?? 0;
// Suites that fail to load count as failures too: their tests never ran.
const failedSuites = (result.testResults ?? []).filter(
  (suite) => suite.status === 'failed' && (suite.assertionResults ?? []).length === 0,
).length;
const failed = (result.numFailedTests ?? 0) + failedSuites;
const skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || run.status !== 0 || passed === 0 ? 1 : 0);
