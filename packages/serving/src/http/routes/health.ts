import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** `GET /healthz` and `/health` (vLLM's): 200 with the engine's queue, or 503 while draining; never needs a key. */
export function healthRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    open: true,
    run: (exchange) =>
      server.draining
        ? server.send(exchange, 503, { status: 'draining' })
        : server.send(exchange, 200, { status: 'ok', model: server.modelId, ...server.engine.stats() }),
  };
}
