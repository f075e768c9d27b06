#!/usr/bin/env node
// Provisions what the test suite needs before vitest runs (`pnpm test` runs this first), so the
// README's test command passes on a machine with only Node and npm:
//   1. Debian's chromium at /usr/bin/chromium (the browser tests drive it through playwright-core);
//   2. aws-lambda-ric's native addon (the local Lambda runtime runs function instances under it):
//      its build tools, then a rebuild of the package when a first build failed without them;
//   3. the expert function's Lambda bundle the deploy tests zip (built with turbo when missing).
// Each step is a no-op when its piece is present. Where a piece is missing and cannot be provisioned
// (not root, no apt-get, a failed build) it prints one line saying what is missing and how to get
// it, and exits non-zero: the suite never runs with a browser test or the ric runner skipped.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const chromiumPath = '/usr/bin/chromium';

function fail(line) {
  console.error(`pnpm test cannot run: ${line}`);
  process.exit(1);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs one of tooling/scripts' installers. Its stdout is shown when it succeeds; when it fails, its last
 * line of output (why: not root, no apt-get, apt-get's error) is returned for the one-line message.
 */
function runInstaller(script) {
  const run = spawnSync('bash', [join(root, 'tooling/scripts', script)], { cwd: root, encoding: 'utf8' });
  if (run.status === 0) {
    // stdout says what it did; stderr is apt's and chromium's chatter (debconf, the wrapper script).
    if (run.stdout?.trim()) console.log(run.stdout.trim());
    return { ok: true, reason: '' };
  }
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim();
  return { ok: false, reason: output.split('\n').at(-1) || `${script} exited ${run.status ?? run.signal}` };
}

// 1. chromium --------------------------------------------------------------------------------------
if (!isExecutable(chromiumPath)) {
  const canUseApt =
    process.getuid?.() === 0 &&
    spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  const howTo = `install Debian's chromium as root (apt-get install chromium, or bash tooling/scripts/install-chromium.sh) and rerun`;
  if (!canUseApt)
    fail(
      `the browser tests need chromium at ${chromiumPath} (missing; not root or no apt-get here): ${howTo}`,
    );
  console.log(`${chromiumPath} is missing: installing Debian's chromium for the browser tests`);
  const install = runInstaller('install-chromium.sh');
  if (!install.ok || !isExecutable(chromiumPath)) {
    fail(
      `the browser tests need chromium at ${chromiumPath} (${install.reason || 'still missing after apt-get'}): ${howTo}`,
    );
  }
}

// 2. aws-lambda-ric's native addon -------------------------------------------------------------------
/** Workspace projects (pnpm-workspace.yaml's `dir/*` globs) that depend on aws-lambda-ric. */
function ricDependents() {
  const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...workspace.matchAll(/^\s+-\s+["']?([\w./-]+)\/\*["']?\s*$/gm)].map((match) => match[1]);
  const dependents = [];
  for (const glob of globs) {
    const parent = join(root, glob);
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      const manifestPath = join(parent, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const declared = { ...manifest.dependencies, ...manifest.optionalDependencies };
      if ('aws-lambda-ric' in declared) dependents.push({ name: manifest.name, manifestPath });
    }
  }
  return dependents;
}

/** The addon the runtime loads (the package's postinstall copies build/Release/rapid-client.node here). */
function addonOf(dependent) {
  let packageJson;
  try {
    packageJson = createRequire(dependent.manifestPath).resolve('aws-lambda-ric/package.json');
  } catch {
    fail(`aws-lambda-ric (a dependency of ${dependent.name}) is not installed; run pnpm install and rerun`);
  }
  return join(dirname(packageJson), 'dist', 'rapid-client.node');
}

const dependents = ricDependents();
const missingAddons = () => dependents.map(addonOf).filter((addon) => !existsSync(addon));
if (missingAddons().length > 0) {
  const install = runInstaller('install-ric-build-deps.sh');
  if (!install.ok) {
    fail(
      `aws-lambda-ric's native addon is not built and its build tools are missing (${install.reason}); install autoconf, automake, libtool, cmake, make and g++ as root (apt-get install …, or bash tooling/scripts/install-ric-build-deps.sh) and rerun`,
    );
  }
  // pnpm rebuild reruns the package's install scripts (they build curl and aws-lambda-cpp from the
  // bundled sources, then the addon). It exits 0 even when they fail (the dependency is optional), so
  // the addon is checked afterwards. A successful build is also stored in pnpm's side-effects cache.
  const pnpmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split(
    '@',
  )[1];
  const logDirectory = join(root, 'node_modules', '.cache', 'switchyard');
  mkdirSync(logDirectory, { recursive: true });
  const log = join(logDirectory, 'aws-lambda-ric-build.log');
  console.log(
    `aws-lambda-ric's native addon is not built: building it (several minutes on 2 cores; log in ${relative(root, log)})`,
  );
  const started = Date.now();
  const logFile = openSync(log, 'w');
  const build = spawnSync(
    'npx',
    ['--yes', `pnpm@${pnpmVersion}`, '--recursive', 'rebuild', 'aws-lambda-ric'],
    {
      cwd: root,
      stdio: ['ignore', logFile, logFile],
    },
  );
  closeSync(logFile);
  const stillMissing = missingAddons();
  if (build.status !== 0 || stillMissing.length > 0) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-25).join('\n') : '';
    if (tail) console.error(tail);
    fail(
      `aws-lambda-ric's native addon did not build (${relative(root, stillMissing[0] ?? log)} missing; see ${relative(root, log)}); fix the build and rerun, or rerun pnpm -r rebuild aws-lambda-ric`,
    );
  }
  console.log(`built aws-lambda-ric's native addon in ${Math.round((Date.now() - started) / 1000)} s`);
}

// 3. The expert function's Lambda bundle (packages/expert-function/dist/lambda/expert-function.mjs):
// the deploy tests zip it into each function (`deploy --target aws` against moto, doctor), as a
// real deployment does. turbo builds it and the packages it inlines; its cache makes a rerun a no-op.
const bundle = join(root, 'packages', 'expert-function', 'dist', 'lambda', 'expert-function.mjs');
if (!existsSync(bundle)) {
  console.log('building the expert function bundle the deploy tests package (turbo, about a minute)');
  const build = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'turbo', 'bin', 'turbo'),
      'run',
      'build',
      '--filter=@switchyard/expert-function',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    },
  );
  if (build.status !== 0 || !existsSync(bundle))
    fail(
      `the expert function bundle did not build (${relative(root, bundle)} missing); run pnpm --filter @switchyard/expert-function... build and rerun`,
    );
}
