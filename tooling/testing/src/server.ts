import { afterAll, beforeAll } from 'vitest';

/** Where a server under test listens: loopback, any free port. */
export const testListen = { host: '127.0.0.1', port: 0 } as const;

export interface ServerUnderTest {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Drains and stops the server and everything `start` created for it. */
  close(): Promise<void>;
}

export interface ServerFixture<T extends ServerUnderTest> {
  /** The started server (throws before `beforeAll` has run). */
  readonly current: T;
  /** Its base URL. */
  readonly url: string;
  /** The OpenAI-compatible base URL (`<url>/v1`). */
  readonly apiUrl: string;
}

/**
 * Starts a server for the enclosing `describe` and closes it after its tests. `start` receives the
 * listen options (loopback, port 0) to pass to the serving stack or HTTP server it builds, and
 * returns the URL and a `close` that stops all of it. This package does not depend on
 * `@switchyard/serving` (which depends on packages that use these helpers), so the caller wires it.
 */
export function withServer<T extends ServerUnderTest>(
  start: (listen: typeof testListen) => Promise<T>,
  {
    startTimeoutMs = 180_000,
    closeTimeoutMs = 60_000,
  }: { startTimeoutMs?: number; closeTimeoutMs?: number } = {},
): ServerFixture<T> {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start(testListen);
  }, startTimeoutMs);
  afterAll(async () => {
    await started?.close();
    started = undefined;
  }, closeTimeoutMs);
  const current = (): T => {
    if (!started) throw new Error('withServer: the server is not running (use it inside a test)');
    return started;
  };
  return {
    get current() {
      return current();
    },
    get url() {
      return current().url;
    },
    get apiUrl() {
      return `${current().url}/v1`;
    },
  };
}
