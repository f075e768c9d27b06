/**
 * Load test: continuous batching vs one-at-a-time serving of the bundled model, side by side in
 * one run. Each mode starts the real server (`src/main.ts`) as a child process on loopback and
 * runs bounded closed-loop load against it. Prints a table and writes
 * bench-results/server-load.json at the repository root.
 *
 *   node --conditions=@switchyard/source --import tsx bench/load.ts          # 32 clients × 30 s, 8 × 10 s
 *   node --conditions=@switchyard/source --import tsx bench/load.ts --quick  # 8 clients × 5 s
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LoadResult, runLoad } from './load-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = resolve(here, '..');
const repoRoot = resolve(appDir, '../..');
const quick = process.argv.includes('--quick');
const settings = quick
  ? [{ concurrency: 8, durationMs: 5_000 }]
  : [
      { concurrency: 32, durationMs: 30_000 },
      { concurrency: 8, durationMs: 10_000 },
    ];
const maxTokens = 32;
const text = readFileSync(resolve(repoRoot, 'fixtures/data/tinyshakespeare.txt'), 'utf8');

function prompt(clientIndex: number, requestIndex: number): string {
  // Deterministic prompt slices of 16–48 bytes.
  const seed = (clientIndex * 7919 + requestIndex * 104_729) % (text.length - 64);
  const length = 16 + ((clientIndex + requestIndex) % 33);
  return text.slice(seed, seed + length);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function startChild(
  batching: 'continuous' | 'sequential',
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--conditions=@switchyard/source', '--import', 'tsx', 'src/main.ts'],
    {
      cwd: appDir,
      env: {
        ...process.env,
        SWITCHYARD_HOST: '127.0.0.1',
        SWITCHYARD_PORT: String(port),
        SWITCHYARD_BATCHING: batching,
        SWITCHYARD_MAX_BATCH_SIZE: '64',
        SWITCHYARD_RATE_LIMIT_PER_MINUTE: '0',
        SWITCHYARD_LOG_LEVEL: 'info',
        SWITCHYARD_SEED: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('server did not start within 120 s')), 120_000);
    child.once('exit', (code) => reject(new Error(`server exited with code ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        if (line.includes('"msg":"listening"')) {
          clearTimeout(timer);
          resolveUrl((JSON.parse(line) as { url: string }).url);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
  });
  return { child, url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  await exited;
}

interface Row extends LoadResult {
  mode: string;
}

const rows: Row[] = [];
for (const mode of ['continuous', 'sequential'] as const) {
  const { child, url } = await startChild(mode);
  try {
    // Warm-up: load expert sessions and JIT before measuring.
    await runLoad({
      url,
      concurrency: 4,
      durationMs: 1_500,
      body: () => ({ prompt: 'ROMEO:', max_tokens: 8 }),
    });
    for (const setting of settings) {
      process.stderr.write(`${mode}: ${setting.concurrency} clients × ${setting.durationMs / 1000} s…\n`);
      const result = await runLoad({
        url,
        concurrency: setting.concurrency,
        durationMs: setting.durationMs,
        body: (clientIndex, requestIndex) => ({
          prompt: prompt(clientIndex, requestIndex),
          max_tokens: maxTokens,
          temperature: 0.8,
          seed: clientIndex * 1000 + requestIndex,
        }),
      });
      rows.push({ mode, ...result });
    }
  } finally {
    await stopChild(child);
  }
}

const table = rows.map((row) => ({
  mode: row.mode,
  clients: row.concurrency,
  seconds: row.durationS.toFixed(1),
  requests: row.requests,
  errors: row.errors,
  'req/s': row.requestsPerS.toFixed(2),
  'tokens/s': row.tokensPerS.toFixed(1),
  'p50 ms': row.latencyP50Ms.toFixed(0),
  'p99 ms': row.latencyP99Ms.toFixed(0),
}));
const columns = Object.keys(table[0]!);
const widths = columns.map((column) =>
  Math.max(column.length, ...table.map((row) => String(row[column as keyof typeof row]).length)),
);
const line = (cells: string[]) =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
console.log(`\nLoad test: bundled model, max_tokens ${maxTokens}, closed loop on loopback\n`);
console.log(line(columns));
console.log(widths.map((width) => '─'.repeat(width)).join('  '));
for (const row of table) console.log(line(columns.map((column) => String(row[column as keyof typeof row]))));
const speedups = settings.map((setting) => {
  const continuous = rows.find(
    (row) => row.mode === 'continuous' && row.concurrency === setting.concurrency,
  )!;
  const sequential = rows.find(
    (row) => row.mode === 'sequential' && row.concurrency === setting.concurrency,
  )!;
  return {
    clients: setting.concurrency,
    tokensPerSecondRatio: continuous.tokensPerS / sequential.tokensPerS,
  };
});
for (const speedup of speedups) {
  console.log(
    `\n${speedup.clients} clients: continuous batching serves ${speedup.tokensPerSecondRatio.toFixed(2)}× the tokens/s of one-at-a-time`,
  );
}
const totalErrors = rows.reduce((sum, row) => sum + row.errors, 0);
const output = resolve(
  repoRoot,
  quick ? 'bench-results/tmp/server-load-quick.json' : 'bench-results/server-load.json',
);
mkdirSync(dirname(output), { recursive: true });
writeFileSync(
  output,
  `${JSON.stringify({ date: new Date().toISOString(), maxTokens, quick, rows, speedups, totalErrors }, null, 2)}\n`,
);
console.log(`\nwrote ${output}`);
if (totalErrors > 0) {
  console.error(`${totalErrors} requests failed: ${rows.flatMap((row) => row.errorSamples).join('; ')}`);
  process.exitCode = 1;
}
