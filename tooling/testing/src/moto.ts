import { type ChildProcess, spawn } from 'node:child_process';
import { pythonWith } from './python.js';

/**
 * A moto server (https://github.com/getmoto/moto, installed with python3: `pip install
 * 'moto[server]'`): an implementation of the AWS control planes (Lambda, IAM, S3, STS, …) that
 * Switchyard did not write, for checking deployment code against. It cannot invoke functions
 * without Docker.
 */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: give it to every SDK client as `endpoint`. */
  endpoint: string;
  /** Forgets every resource (moto's `/moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Static credentials moto accepts (it checks none); account 123456789012. */
export const motoCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** The environment a child process (the CLI) needs to reach moto with `motoCredentials` in us-east-1. */
export const motoEnvironment = {
  AWS_ACCESS_KEY_ID: motoCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: motoCredentials.secretAccessKey,
  AWS_REGION: 'us-east-1',
} as const;

/**
 * How moto is started: `$SWITCHYARD_MOTO_SERVER`, else `moto_server`, else `<python3> -m moto.server`
 * with the first python3 on PATH that can import it (`pythonWith`: under `npx` the first python3 on
 * PATH may be the system one without moto). A candidate that cannot exist is its reason instead.
 */
const motoCommands = (command: string | undefined): (() => [string, string[]] | string)[] =>
  command
    ? [() => [command, []]]
    : [
        () => ['moto_server', []],
        () => {
          try {
            return [pythonWith('moto.server', "'moto[server]'"), ['-m', 'moto.server']];
          } catch (error) {
            return (error as Error).message;
          }
        },
      ];

/**
 * Starts moto on a free loopback port and waits until it listens: `moto_server`, or when that script
 * is not on PATH `python3 -m moto.server` (the same server; pip puts the script where PATH may not
 * look). A machine without moto fails the test with how to install it — never a skip.
 */
export async function startMotoServer(
  options: { command?: string; timeoutMs?: number } = {},
): Promise<MotoServer> {
  const candidates = motoCommands(options.command ?? process.env.SWITCHYARD_MOTO_SERVER);
  const missing: string[] = [];
  for (const candidate of candidates) {
    const resolved = candidate();
    if (typeof resolved === 'string') {
      missing.push(resolved);
      continue;
    }
    const [command, args] = resolved;
    const started = await spawnMoto(command, args, options.timeoutMs ?? 60_000);
    if (started !== 'not-found') return started;
    missing.push(`${[command, ...args].join(' ')}: not found`);
  }
  throw new Error(
    `cannot start moto (${missing.join('; ')}): install moto with \`pip install 'moto[server]'\` (moto 5.2) or set SWITCHYARD_MOTO_SERVER`,
  );
}

function spawnMoto(command: string, args: string[], timeoutMs: number): Promise<MotoServer | 'not-found'> {
  const display = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, [...args, '-H', '127.0.0.1', '-p', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PYTHONUNBUFFERED: '1' },
      });
    } catch (error) {
      reject(error);
      return;
    }
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${display} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      // Keep draining its output so the server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      const endpoint = match[1] as string;
      resolve({
        endpoint,
        async reset() {
          const answer = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
          if (!answer.ok) throw new Error(`moto reset answered HTTP ${answer.status}`);
        },
        stop() {
          return new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            child.once('exit', () => done());
            child.kill('SIGTERM');
          });
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') resolve('not-found');
      else reject(new Error(`cannot start ${display} (${error.message})`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${display} exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}
