import type { Route } from '../router.js';
import type { ServerContext } from '../server-context.js';

/** `GET /v1/stats`: the JSON the dashboard polls (totals, current rates, expert load, history). */
export function statsRoute(server: ServerContext): Route {
  const { engine, metrics, status, modelId } = server;
  const stats = () => {
    const billing = metrics.billing();
    const predictor = status.predictor?.();
    const engineStats = engine.stats();
    return {
      object: 'stats',
      model: modelId,
      engine: engine.info,
      uptimeSeconds: metrics.uptimeSeconds(),
      totals: {
        requests: metrics.requests.total(),
        promptTokens: metrics.promptTokens.total(),
        completionTokens: metrics.completionTokens.total(),
        decodeSteps: engineStats.decodeSteps,
        billedGbSeconds: billing.billedGbSeconds,
        costUsd: billing.costUsd,
        invocations: billing.invocations,
        retries: billing.retries,
        rateLimited: metrics.rateLimited.total(),
      },
      current: {
        tokensPerSecond: metrics.tokensPerSecond(),
        inFlightRequests: server.inFlight.size,
        activeSequences: engineStats.activeSequences,
        queuedSequences: engineStats.queuedSequences,
        latencyP50Seconds: metrics.requestDuration.quantile(0.5),
        latencyP99Seconds: metrics.requestDuration.quantile(0.99),
        predictorHitRate: predictor?.hitRate ?? null,
      },
      experts: {
        moeLayers: engine.info.moeLayers,
        numExperts: engine.info.numExperts,
        load: metrics.expertLoad(),
      },
      deployment: status.deployment?.() ?? null,
      history: metrics.history,
    };
  };
  return { method: 'GET', run: (exchange) => server.send(exchange, 200, stats()) };
}
