import { existsSync, readFileSync } from 'node:fs';

const schedstat = '/proc/thread-self/schedstat';
const available = existsSync(schedstat);

/**
 * CPU time of the calling thread in ms (Linux: the first field of /proc/thread-self/schedstat, ns of
 * on-CPU time), or undefined where the OS does not tell. Unlike wall time it does not grow while the
 * thread waits for a core, so it stays meaningful on a loaded machine.
 */
export function threadCpuMs(): number | undefined {
  if (!available) return undefined;
  return Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6;
}
