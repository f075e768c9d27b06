import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** `GET /v1/deployment`: where experts run, the active plan (or null) and adaptation so far. */
export function deploymentRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    run: (exchange, rateKey) => {
      server.rateLimit(rateKey);
      server.send(exchange, 200, {
        object: 'deployment',
        expertPlacement: server.engine.info.expertPlacement,
        plan: server.status.deployment?.() ?? null,
        adaptation: server.status.adaptation?.(),
      });
    },
  };
}
