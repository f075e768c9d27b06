#!/usr/bin/env node
// Runs the whole vitest suite once and prints the plain `N passed, N failed` line from vitest's JSON
// report (CI does not parse vitest's own summary). Exits non-zero when anything failed. `pnpm test`
// runs provision-tests.mjs first, which makes sure aws-lambda-ric's native addon is built, so the run
// requires the ric runner (SWITCHYARD_REQUIRE_RIC=1): a silent fallback to the own runner fails.
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
  { cwd: root, stdio: 'inherit', env: { ...process.env, SWITCHYARD_REQUIRE_RIC: '1' } },
);
if (!existsSync(report)) {
  console.log('0 passed, 1 failed');
  console.error(`vitest wrote no JSON report (exit ${run.status ?? run.signal})`);
  process.exit(1);
}
const result = JSON.parse(readFileSync(report, 'utf8'));
const passed = result.numPassedTests ?? 0;
// A suite that failed without a failing test (it did not load, or a beforeAll hook threw) counts its
// tests that never ran as failures (at least one): vitest reports them as skipped.
let failedSuiteTests = 0;
let skippedInFailedSuites = 0;
for (const suite of result.testResults ?? []) {
  const tests = suite.assertionResults ?? [];
  if (suite.status !== 'failed' || tests.some((test) => test.status === 'failed')) continue;
  const notRun = tests.filter((test) => test.status !== 'passed').length;
  failedSuiteTests += Math.max(1, notRun);
  skippedInFailedSuites += notRun;
}
const failed = (result.numFailedTests ?? 0) + failedSuiteTests;
const skipped = (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0) - skippedInFailedSuites;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || run.status !== 0 || passed === 0 ? 1 : 0);
