import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { instanceCommand, type ParentDeathMode, setprivPath } from './instance-environment.js';

/** Running (not gone, not a zombie nobody reaped). */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc/self/stat'))
    return existsSync(stat) && readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

const started: number[] = [];
const runtimes: ChildProcess[] = [];
afterEach(() => {
  for (const runtime of runtimes.splice(0)) runtime.kill('SIGKILL');
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** What the instance's main thread does while the runtime is killed. */
const instanceBodies = [
  { name: 'an idle event loop', code: 'setInterval(() => {}, 1000)' },
  // A synchronous futex wait, as aws-lambda-ric's native client blocks while it waits for the next
  // invocation: no timer or event of the main thread runs again.
  {
    name: 'a main thread blocked in a synchronous wait',
    code: 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)',
  },
];

// Both ways an instance learns its runtime is gone: the kernel's parent-death signal through setpriv
// (the default on Linux) and the preloaded watch thread (elsewhere). setpriv ships with util-linux on
// every Debian/Ubuntu machine; a machine without it fails the pdeathsig cases here instead of skipping.
const modes: ParentDeathMode[] = ['pdeathsig', 'watch'];
const cases = modes.flatMap((mode) => instanceBodies.map((body) => ({ mode, ...body })));

describe('instance parent death', () => {
  it('starts instances behind setpriv on this machine (no watch thread in them)', () => {
    expect(setprivPath()).toBeDefined();
    const launch = instanceCommand(
      { memoryMB: 256, runtime: 'nodejs22.x', nodeMajor: 0, nodeExecutable: process.execPath },
      ['handler.js'],
    );
    expect(launch.parentDeath).toBe('pdeathsig');
    expect(launch.args.slice(0, 4)).toEqual(['--pdeathsig', 'SIGKILL', '--', process.execPath]);
    expect(launch.args.join(' ')).not.toContain('parent-watch');
    expect(launch.args.at(-1)).toBe('handler.js');
  });

  it.each(cases)(
    'an instance started with the $mode launch ($name) lives while its runtime lives and exits when the runtime is killed',
    async ({ mode, code }) => {
      // A stand-in runtime process starts an instance the way FunctionInstance does (instanceCommand's
      // command and arguments), prints its pid, and is then SIGKILLed: it cannot stop its instance.
      const launch = instanceCommand(
        { memoryMB: 256, runtime: 'nodejs22.x', nodeMajor: 0, nodeExecutable: process.execPath },
        ['-e', code],
        mode,
      );
      expect(launch.parentDeath).toBe(mode);
      const runtimeCode = `
      const { spawn } = require('node:child_process');
      const child = spawn(${JSON.stringify(launch.command)}, ${JSON.stringify(launch.args)}, { stdio: 'ignore' });
      process.stdout.write(child.pid + '\\n');
      setInterval(() => {}, 1000);`;
      const runtime = spawn(process.execPath, ['-e', runtimeCode], { stdio: ['ignore', 'pipe', 'inherit'] });
      runtimes.push(runtime);
      const pid = await new Promise<number>((resolve) =>
        runtime.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
      );
      started.push(pid);
      expect(pid).toBeGreaterThan(0);
      // Alive while its runtime is: neither mechanism may end a healthy instance (three checks' worth).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(alive(pid)).toBe(true);
      // The pid is node's own after setpriv's exec (the runtime limits and kills that pid).
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath);
      runtime.kill('SIGKILL');
      expect(await until(() => !alive(pid), 30_000)).toBe(true);
    },
    60_000,
  );
});
