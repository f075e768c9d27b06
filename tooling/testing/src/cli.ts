import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the CLI runs from here, so relative fixture paths work). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The `switchyard` command's source entry. */
export const cliEntry = resolve(repoRoot, 'apps/cli/src/main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SourceProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the process's stdin, which is then closed (a pipe, not a terminal); else stdin is ignored. */
  input?: string;
}

/** Starts a TypeScript entry from source (tsx, the source export condition) without colour. */
export function spawnSource(
  entry: string,
  args: readonly string[],
  options: SourceProcessOptions = {},
): ChildProcess {
  return spawn(process.execPath, ['--conditions=@switchyard/source', '--import', 'tsx', entry, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', SWITCHYARD_LOG_LEVEL: 'warn', ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
}

/** Runs `switchyard <args>` from source in a real child process (no colour, not a terminal). */
export function runCli(
  args: readonly string[],
  options: SourceProcessOptions & { timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnSource(cliEntry, args, options);
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code once the process has ended (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `pattern` (rejects on exit or after `timeoutMs`). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a long-running source process (a server) and lets a test wait for a line of its output,
 * then stop it with a signal, as a user would with Ctrl-C.
 */
export function startSource(
  entry: string,
  args: readonly string[],
  options: SourceProcessOptions = {},
): RunningProcess {
  const child = spawnSource(entry, args, options);
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const watcher of watchers) watcher();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForLine(pattern, timeoutMs = 120_000) {
      return new Promise<string>((resolveLine, reject) => {
        const check = () => {
          // Complete lines only: a line still arriving could match and then be cut.
          const line = stdout
            .split('\n')
            .slice(0, -1)
            .find((candidate) => pattern.test(candidate));
          if (line === undefined) return;
          finish();
          resolveLine(line);
        };
        const onExit = (code: number | null) => {
          finish();
          reject(
            new Error(`the process exited (code ${code}) before printing ${pattern}; stderr: ${stderr}`),
          );
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          watchers.delete(check);
          child.off('exit', onExit);
        };
        watchers.add(check);
        child.on('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** `switchyard <args>` as a long-running process (e.g. `serve`). */
export function startCli(args: readonly string[], options: SourceProcessOptions = {}): RunningProcess {
  return startSource(cliEntry, args, options);
}

/** Runs tasks with at most `limit` in flight (the machine has two cores). */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
