import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A job's scheduling class. `interactive` jobs (the HTTP API) take sequence slots and step tokens
 * first; `batch` jobs (Batch API lines) fill only what interactive ones leave, and are held (their KV
 * caches kept) while interactive ones need the room.
 */
export type JobPriority = 'interactive' | 'batch';

const priorities = new AsyncLocalStorage<JobPriority>();

/** Runs `work` with every engine job it submits (through any layer in between) in `priority`'s class. */
export function withJobPriority<T>(priority: JobPriority, work: () => T): T {
  return priorities.run(priority, work);
}

/** The class `withJobPriority` set for the current asynchronous context; `interactive` outside one. */
export function currentJobPriority(): JobPriority {
  return priorities.getStore() ?? 'interactive';
}
