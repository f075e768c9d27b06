import { describeError, type Logger, noopLogger, topKIndices } from '@switchyard/core';
import { forecastFromPrediction, type LoadForecast } from '@switchyard/optimizer';
import type { Predictor } from '@switchyard/predictor';
import type { StepEvent } from './engine.js';
import type { PredictorStatus } from './status.js';

/**
 * Feeds served routing to the expert-popularity predictor: each decode step's tokens are first
 * scored (hit@k of the predictor's top-k against the experts actually chosen, using the previous
 * layer's actual routing as at dispatch time), then passed to `observe` so the predictor learns
 * online from live traffic.
 */
export class OnlinePredictor {
  private hits = 0;
  private selections = 0;
  private observedTokens = 0;
  private readonly layerOrder: number[];
  /** Token features of the most recent served step (what the load forecast is made from). */
  private recent: { tokens: Int32Array; positions: Int32Array; contextTokenIds: Int32Array } | undefined;

  constructor(
    readonly predictor: Predictor,
    private readonly logger: Logger = noopLogger,
  ) {
    this.layerOrder = predictor.state.moeLayers;
  }

  status(): PredictorStatus | undefined {
    if (this.selections === 0) return undefined;
    return { hitRate: this.hits / this.selections, observedTokens: this.observedTokens };
  }

  /**
   * The predictor's current load forecast for a batch of `tokensPerBatch` tokens, from the token
   * features of the last served step (scaled to the batch by `forecastFromPrediction`). Undefined
   * before anything was served.
   */
  forecast(tokensPerBatch: number): LoadForecast | undefined {
    if (!this.recent) return undefined;
    return forecastFromPrediction(this.predictor.predictLoad(this.recent), {
      tokensPerBatch,
      moeLayers: this.layerOrder,
    });
  }

  record(event: StepEvent): void {
    const { predictor } = this;
    const T = event.inputTokenIds.length;
    const K = predictor.topK;
    const E = predictor.numExperts;
    const L = this.layerOrder.length;
    const byLayer = new Map(event.routing.map((routing) => [routing.layer, routing]));
    if (T === 0 || this.layerOrder.some((layer) => byLayer.get(layer)?.numTokens !== T)) return;
    const topkIds = new Int32Array(L * T * K);
    for (const [index, layer] of this.layerOrder.entries()) {
      topkIds.set(byLayer.get(layer)!.topkIds, index * T * K);
    }
    const chunk = predictor.state.chunk;
    const batch = {
      tokens: event.inputTokenIds,
      positions: event.positions.map((position) => position % chunk),
      contextTokenIds: event.precedingTokens(predictor.state.contextTokens),
      topkIds,
    };
    try {
      const predicted = new Int32Array(K);
      for (let layer = 0; layer < L; layer++) {
        const probabilities = predictor.tokenProbabilities(batch, layer);
        for (let t = 0; t < T; t++) {
          topKIndices(probabilities.subarray(t * E, (t + 1) * E), K, predicted);
          const actual = topkIds.subarray((layer * T + t) * K, (layer * T + t + 1) * K);
          for (const expert of predicted) if (actual.includes(expert)) this.hits += 1;
          this.selections += K;
        }
      }
      predictor.observe(batch);
      this.recent = {
        tokens: Int32Array.from(batch.tokens),
        positions: Int32Array.from(batch.positions),
        contextTokenIds: Int32Array.from(batch.contextTokenIds),
      };
      this.observedTokens += T;
    } catch (error) {
      this.logger.warn('online predictor update failed', { error: describeError(error) });
    }
  }
}
