import { readFileSync } from 'node:fs';

const bytesPerMB = 1024 * 1024;

/** Current and peak resident set size of a process from /proc (Linux), in bytes. */
function readMemory(pid: number): { rssBytes: number; peakBytes: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const peak = /VmHWM:\s+(\d+) kB/.exec(status);
    if (!rss || !peak) return undefined;
    return { rssBytes: Number(rss[1]) * 1024, peakBytes: Number(peak[1]) * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Lambda's memory limit for one process: polls its RSS and calls `onExceeded` (which kills it) once it
 * is over the function's memory size; records the peak for the REPORT line's `Max Memory Used`.
 */
export class MemoryWatchdog {
  /** Whether the watchdog found the process over its memory size. */
  exceeded = false;
  private peakBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param pid the process to watch, undefined once it has exited
   * @param onExceeded called when the RSS is over `memoryMB`
   */
  constructor(
    private readonly memoryMB: number,
    private readonly pid: () => number | undefined,
    private readonly onExceeded: () => void,
  ) {}

  /** Peak RSS so far, in whole MB, at most the memory size (as Lambda reports it). */
  get maxMemoryUsedMB(): number {
    return Math.min(this.memoryMB, Math.ceil(this.peakBytes / bytesPerMB));
  }

  start(pollMs: number): void {
    this.timer = setInterval(() => this.check(), pollMs);
    this.timer.unref();
  }

  /** Reads the process's memory now (also on demand, e.g. when an invocation ends). */
  check(): void {
    const pid = this.pid();
    if (pid === undefined) return;
    const memory = readMemory(pid);
    if (!memory) return;
    this.peakBytes = Math.max(this.peakBytes, memory.peakBytes);
    if (memory.rssBytes > this.memoryMB * bytesPerMB) {
      this.exceeded = true;
      this.onExceeded();
    }
  }

  /** An out-of-memory death reports the whole memory size as used. */
  recordOutOfMemory(): void {
    this.peakBytes = Math.max(this.peakBytes, this.memoryMB * bytesPerMB);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
