/**
 * Profiles the shakespeare-mixtral-8x2 expert FFNs on this machine with `switchyard profile` and
 * writes the compute profile the planner and the demo use (fixtures/profiles/shakespeare-mixtral-8x2.json)
 * and bench-results/cost-model-profile.json (every cell: the median over processes of each one's
 * fastest run, the spread across processes, the held-out prediction and its error, and how well the
 * profile on disk before the run predicts every cell of the new one).
 *
 * What `switchyard profile` does (apps/cli/src/commands/profile.ts): all 32 routed experts at 1 and 2
 * threads, knots at every power of two from 16 to 2,048 tokens, held-out checks at 24, 48, 96, 192,
 * 384, 768, 1,536 tokens, 5 measurement processes one after another, each started with core's
 * `expertProcessEnvironment` as expert functions are; inside a process, rounds of every cell in a
 * seeded shuffled order until each cell's odd- and even-run minima agree within 3 %.
 *
 *   pnpm --filter @switchyard/cost-model bench
 *   env: WRITE=0 leaves the fixture alone (the profile goes to a temporary file); PROCESSES, ROUNDS,
 *        MAX_ROUNDS, MAX_SECONDS, FIT_TOKENS, HELD_OUT_TOKENS are passed on as the matching flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const profilePath = resolve(root, 'fixtures/profiles/shakespeare-mixtral-8x2.json');
const resultsPath = resolve(root, 'bench-results/cost-model-profile.json');
const write = process.env.WRITE !== '0';
const scratch = write ? undefined : mkdtempSync(join(tmpdir(), 'switchyard-profile-'));
const out = scratch ? join(scratch, 'profile.json') : profilePath;

const passOn: Array<[string, string]> = [
  ['PROCESSES', '--processes'],
  ['ROUNDS', '--rounds'],
  ['MAX_ROUNDS', '--max-rounds'],
  ['MAX_SECONDS', '--max-seconds'],
  ['FIT_TOKENS', '--tokens'],
  ['HELD_OUT_TOKENS', '--held-out'],
];
const args = [
  '--conditions=@switchyard/source',
  '--import',
  'tsx',
  resolve(root, 'apps/cli/src/main.ts'),
  'profile',
  '--model',
  resolve(root, 'fixtures/checkpoints/shakespeare-mixtral-8x2'),
  '--out',
  out,
  '--report',
  resultsPath,
  ...(existsSync(profilePath) ? ['--compare', profilePath] : []),
  ...passOn.flatMap(([env, flag]) => (process.env[env] ? [flag, process.env[env]!] : [])),
];
mkdirSync(dirname(resultsPath), { recursive: true });
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (scratch) rmSync(scratch, { recursive: true, force: true });
process.exitCode = run.status ?? 1;
console.log(`wrote ${resultsPath}`);
