import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** `GET /metrics`: Prometheus text format 0.0.4; open without a key when `publicMetrics` is on. */
export function metricsRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    open: server.options.publicMetrics,
    run: (exchange) =>
      server.send(exchange, 200, server.metrics.registry.render(), {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      }),
  };
}
