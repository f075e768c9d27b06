import { HttpError } from '../errors.js';
import { BearerAuth, clientAddress } from './bearer-auth.js';
import { chatCompletionsRoute } from './routes/chat-completions.js';
import { completionsRoute } from './routes/completions.js';
import { dashboardRoute, rootRoute } from './routes/dashboard.js';
import { deploymentRoute } from './routes/deployment.js';
import { healthRoute } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { modelListRoute, modelRoute } from './routes/models.js';
import { statsRoute } from './routes/stats.js';
import { detokenizeRoute, tokenizeRoute } from './routes/tokenize.js';
import { versionRoute } from './routes/version.js';
import type { Exchange, ServerContext } from './server-context.js';

export interface Route {
  method: 'GET' | 'POST';
  /** Served without a bearer token (rate-limited by client address). */
  open?: boolean;
  /** Answers the request; `rateKey` is the caller's token digest or address. */
  run(exchange: Exchange, rateKey: string): unknown;
}

/** Maps a request to its route: path, then method, then bearer token. */
export function createRouter(
  server: ServerContext,
  /** Routes with ids in their paths (the Batch API), tried when no fixed path matches. */
  dynamic?: (method: string, path: string) => Route | undefined,
): (exchange: Exchange) => Promise<void> {
  const auth = new BearerAuth(server.options.apiKeys);
  const health = healthRoute(server);
  const routes: Record<string, Route> = {
    '/healthz': health,
    '/health': health,
    '/version': versionRoute(server),
    '/': rootRoute(server),
    '/dashboard': dashboardRoute(server),
    '/metrics': metricsRoute(server),
    '/v1/models': modelListRoute(server),
    [`/v1/models/${server.modelId}`]: modelRoute(server),
    '/v1/deployment': deploymentRoute(server),
    '/v1/stats': statsRoute(server),
    '/v1/completions': completionsRoute(server),
    '/v1/chat/completions': chatCompletionsRoute(server),
    '/tokenize': tokenizeRoute(server),
    '/detokenize': detokenizeRoute(server),
  };
  return async (exchange) => {
    const { request, url } = exchange;
    const method = request.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const fixed = routes[decodeURIComponent(path)];
    const route = fixed ?? dynamic?.(method, path);
    // Ids stay out of the metrics' route label.
    exchange.route = fixed ? path : route ? path.replace(/\/(?:file|batch)-[^/]+/g, '/{id}') : 'unknown';
    if (!route) {
      throw new HttpError({
        code: 'NOT_FOUND',
        message: `Unknown path ${method} ${path}.`,
        apiCode: 'not_found',
      });
    }
    if (method !== route.method && !(method === 'HEAD' && route.method === 'GET')) {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: `${method} is not allowed on ${path}; use ${route.method}.`,
        apiCode: 'method_not_allowed',
        status: 405,
        headers: { allow: route.method },
      });
    }
    const rateKey = route.open ? clientAddress(request) : auth.authenticate(request);
    await route.run(exchange, rateKey);
  };
}
