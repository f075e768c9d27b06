import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { delay, vcpusForMemory } from '@switchyard/core';
import { LambdaLocalError } from './errors.js';

/** Where the cgroup v1 `cpu` controller is mounted on Linux. */
export const cgroupCpuRoot = '/sys/fs/cgroup/cpu';
/** CFS period of every instance group, µs (the kernel's default). */
export const cfsPeriodUs = 100_000;

/**
 * CFS quota (µs of CPU per period) of a function's vCPU share (core's `vcpusForMemory`,
 * architecture/aws-lambda-facts.md), never more than the cores here, never under the kernel's
 * 1 ms minimum: 256 MB → 14,471 µs per 100 ms, 1,769 MB → one core, 3,008 MB → 1.7 cores.
 */
export function cpuQuotaUs(memoryMB: number, cores: number = availableParallelism()): number {
  return Math.max(1000, Math.round(Math.min(vcpusForMemory(memoryMB), cores) * cfsPeriodUs));
}

let groupsOpened = 0;

/**
 * The kernel, not a stretched clock, limits each function instance to its memory's vCPU share
 * (`cpuEmulation: 'cgroup'`): one cgroup v1 `cpu` group per runtime under `root`, and in it one
 * group per instance process with `cpu.cfs_quota_us` = share × `cpu.cfs_period_us`. Needs the v1
 * controller and the right to create groups in it (root, or a delegated group); `open` says which
 * is missing.
 */
export class CpuCgroups {
  private constructor(readonly directory: string) {}

  static open(root: string = cgroupCpuRoot): CpuCgroups {
    const quotaFile = join(root, 'cpu.cfs_quota_us');
    if (!existsSync(quotaFile))
      throw new LambdaLocalError({
        code: 'INVALID_CONFIG',
        message: `cpuEmulation 'cgroup' needs the cgroup v1 cpu controller: ${quotaFile} does not exist`,
        location: 'cpuEmulation',
      });
    const directory = join(root, `switchyard-lambda-local-${process.pid}-${groupsOpened++}`);
    try {
      mkdirSync(directory);
    } catch (cause) {
      throw new LambdaLocalError({
        code: 'INVALID_CONFIG',
        message: `cpuEmulation 'cgroup': cannot create ${directory} (${(cause as Error).message}); it needs root or a cgroup delegated to this user`,
        location: 'cpuEmulation',
        cause,
      });
    }
    return new CpuCgroups(directory);
  }

  /**
   * Moves process `pid` (every thread of it) into a group of its own limited to `memoryMB`'s vCPU
   * share; processes it starts inherit the group. Returns the function that removes the group once
   * the process has exited (see `close`).
   */
  limit(pid: number, memoryMB: number): () => void {
    const group = join(this.directory, `instance-${pid}`);
    mkdirSync(group);
    writeFileSync(join(group, 'cpu.cfs_period_us'), String(cfsPeriodUs));
    writeFileSync(join(group, 'cpu.cfs_quota_us'), String(cpuQuotaUs(memoryMB)));
    writeFileSync(join(group, 'cgroup.procs'), String(pid));
    return () => {
      this.removals.push(removeGroup(group));
    };
  }

  /**
   * Removes every instance group and the runtime's own. A group is removable once no process is in
   * it: what an instance left behind (a child of the killed process, e.g. a loader's helper) is
   * killed, and removal is retried for up to `waitMs`. Returns the groups still there after that.
   */
  async close(waitMs = 5000): Promise<string[]> {
    await Promise.all(this.removals.splice(0));
    if (!existsSync(this.directory)) return [];
    const left = await Promise.all(
      readdirSync(this.directory, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => removeGroup(join(this.directory, entry.name), waitMs)),
    );
    left.push(await removeGroup(this.directory, waitMs));
    return left.filter((group): group is string => group !== undefined);
  }

  private readonly removals: Promise<string | undefined>[] = [];
}

/**
 * Removes a cgroup directory (rmdir; its control files go with it). While processes remain in it
 * (EBUSY) they are killed and the removal retried every 50 ms for up to `waitMs`. Resolves to the
 * directory if it is still there, else undefined.
 */
async function removeGroup(directory: string, waitMs = 5000): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      rmdirSync(directory);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code !== 'EBUSY' || Date.now() >= deadline) return directory;
    }
    for (const pid of groupProcesses(directory)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    await delay(50);
  }
}

function groupProcesses(directory: string): number[] {
  try {
    return readFileSync(join(directory, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}
