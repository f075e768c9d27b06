import { type ChildProcess, spawn } from 'node:child_process';

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

/**
 * Starts `moto_server` on a free loopback port and waits until it listens. A machine without it
 * fails the test with how to install it — never a skip.
 */
export function startMotoServer(options: { command?: string; timeoutMs?: number } = {}): Promise<MotoServer> {
  const command = options.command ?? process.env.SWITCHYARD_MOTO_SERVER ?? 'moto_server';
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, ['-H', '127.0.0.1', '-p', '0'], {
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
      reject(new Error(`moto_server did not start within ${options.timeoutMs ?? 60_000} ms:\n${output}`));
    }, options.timeoutMs ?? 60_000);
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
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `cannot start ${command} (${error.message}): install moto with \`pip install 'moto[server]'\` (moto 5.2) or set SWITCHYARD_MOTO_SERVER`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}
