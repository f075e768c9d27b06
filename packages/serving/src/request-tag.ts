import { AsyncLocalStorage } from 'node:async_hooks';

const requestTags = new AsyncLocalStorage<string>();

/**
 * Runs `work` with `tag` attached to every engine job it submits (through any layer in between, such as
 * the HTTP routes), so each step's `entries` say which request fed which tokens — how a batch job
 * attributes billed expert time to its lines.
 */
export function withRequestTag<T>(tag: string, work: () => T): T {
  return requestTags.run(tag, work);
}

/** The tag `withRequestTag` set for the current asynchronous context, if any. */
export function currentRequestTag(): string | undefined {
  return requestTags.getStore();
}
