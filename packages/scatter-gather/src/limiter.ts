/** FIFO concurrency limiter with a global cap and a cap per key (a replica function). */
export class Limiter {
  private active = 0;
  private readonly activeByKey = new Map<string, number>();
  private readonly waiting: { key: string; wake: () => void }[] = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxActivePerKey: number,
  ) {}

  /** Resolves with a release function once a slot for `key` is free. Rejects if `signal` aborts. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const entry = {
        key,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          this.take(key);
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.give(key);
          });
        },
      };
      const onAbort = (): void => {
        const position = this.waiting.indexOf(entry);
        if (position >= 0) this.waiting.splice(position, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      this.pump();
    });
  }

  private fits(key: string): boolean {
    return this.active < this.maxActive && (this.activeByKey.get(key) ?? 0) < this.maxActivePerKey;
  }

  private take(key: string): void {
    this.active++;
    this.activeByKey.set(key, (this.activeByKey.get(key) ?? 0) + 1);
  }

  private give(key: string): void {
    this.active--;
    this.activeByKey.set(key, (this.activeByKey.get(key) ?? 1) - 1);
    this.pump();
  }

  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.active < this.maxActive; ) {
      const entry = this.waiting[i]!;
      if (this.fits(entry.key)) {
        this.waiting.splice(i, 1);
        entry.wake();
      } else {
        i++;
      }
    }
  }
}
