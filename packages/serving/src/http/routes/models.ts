import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** OpenAI's model object, with vLLM's `max_model_len` (prompt + completion tokens the model holds). */
function modelCard(server: ServerContext) {
  return {
    id: server.modelId,
    object: 'model',
    created: server.createdS,
    owned_by: 'switchyard',
    max_model_len: server.engine.info.maxContextTokens,
  };
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
