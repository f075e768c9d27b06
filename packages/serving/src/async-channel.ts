/** An unbounded single-consumer queue that an async generator drains. */
export class AsyncChannel<T> {
  private readonly items: T[] = [];
  private error: unknown;
  private ended = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  /** No more items; with `error`, the consumer throws it after draining what is queued. */
  end(error?: unknown): void {
    this.ended = true;
    this.error = error;
    this.notify();
  }

  async *drain(): AsyncGenerator<T> {
    while (true) {
      while (this.items.length > 0) yield this.items.shift()!;
      if (this.ended) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
