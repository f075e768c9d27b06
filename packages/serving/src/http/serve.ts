import type { ServingOptions } from '../options.js';
import { type ServingDependencies, type ServingStack, startServing } from '../start-serving.js';
import { type RunningServer, startServer } from './http-server.js';
import type { ServerOptions } from './server-options.js';

export interface HttpServingStack extends ServingStack {
  server: RunningServer;
  /** Graceful: drains the server, then closes the stack (engine, functions, model). */
  close(): Promise<void>;
}

/**
 * What both apps run: `startServing` (model, engine, expert functions, adaptation) behind the
 * OpenAI-compatible HTTP server. A server that cannot start closes the stack again.
 */
export async function serve(
  servingOptions: ServingOptions,
  serverOptions: ServerOptions = {},
  dependencies: ServingDependencies = {},
): Promise<HttpServingStack> {
  const stack = await startServing(servingOptions, dependencies);
  let server: RunningServer;
  try {
    server = await startServer(
      { engine: stack.engine, status: stack.status, logger: dependencies.logger },
      serverOptions,
    );
  } catch (error) {
    await stack.close();
    throw error;
  }
  return {
    ...stack,
    server,
    async close() {
      await server.close();
      await stack.close();
    },
  };
}
