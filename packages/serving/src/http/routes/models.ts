import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

function modelCard(server: ServerContext) {
  return { id: server.modelId, object: 'model', created: server.createdS, owned_by: 'switchyard' };
}

/** `GET /v1/models`: the one served model, as a list. */
export function modelListRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    run: (exchange, rateKey) => {
      server.rateLimit(rateKey);
      server.send(exchange, 200, { object: 'list', data: [modelCard(server)] });
    },
  };
}

/** `GET /v1/models/{id}` for the served model's id. */
export function modelRoute(server: ServerContext): Route {
  return {
    method: 'GET',
    run: (exchange, rateKey) => {
      server.rateLimit(rateKey);
      server.send(exchange, 200, modelCard(server));
    },
  };
}
