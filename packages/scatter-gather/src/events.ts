/** One attempt at one mini-batch finished (won, lost a hedge race, or failed). */
export interface InvokeEvent {
  type: 'invoke';
  layer: number;
  functionName: string;
  experts: number[];
  tokens: number;
  /** 1 for the first attempt, counting retries and hedges. */
  attempt: number;
  hedge: boolean;
  outcome: 'won' | 'lost' | 'failed';
  requestBytes: number;
  responseBytes: number;
  latencyMs: number;
  /**
   * Function-side duration and billed duration from the REPORT line, when the executor had one (for a
   * failed attempt: when its function error carried the log tail).
   */
  durationMs?: number;
  billedDurationMs?: number;
  errorCode?: string;
}

export interface RetryEvent {
  type: 'retry';
  layer: number;
  functionName: string;
  experts: number[];
  tokens: number;
  attempt: number;
  errorCode: string;
  message: string;
}

export interface HedgeEvent {
  type: 'hedge';
  layer: number;
  functionName: string;
  experts: number[];
  tokens: number;
  afterMs: number;
}

/** Per-expert totals for one layer call. Bytes and billed ms of packed messages are shared by tokens. */
export interface ExpertStats {
  expert: number;
  tokens: number;
  miniBatches: number;
  requestBytes: number;
  responseBytes: number;
  /** Slowest winning attempt carrying this expert's tokens. */
  maxLatencyMs: number;
  billedDurationMs: number;
  retries: number;
  hedges: number;
}

/** The invocation counters of a layer call, and of a summary over calls. */
export interface InvocationCounters {
  invocations: number;
  retries: number;
  hedges: number;
  /** Hedged duplicates that lost the race (paid for, not used). */
  wastedInvocations: number;
  requestBytes: number;
  responseBytes: number;
  billedDurationMs: number;
}

export interface LayerStats extends InvocationCounters {
  layer: number;
  method: string;
  beta: number;
  tokens: number;
  /** Routed (token, expert) rows sent. */
  rows: number;
  miniBatches: number;
  /** Σ function-side duration of the winning attempts. */
  computeDurationMs: number;
  wallMs: number;
  experts: ExpertStats[];
}

export interface LayerEvent {
  type: 'layer';
  stats: LayerStats;
}

export type ScatterGatherEvent = InvokeEvent | RetryEvent | HedgeEvent | LayerEvent;

/** Running totals over every layer call of a remote MoE step. */
export interface ScatterGatherSummary extends InvocationCounters {
  layerCalls: number;
  tokens: number;
  rows: number;
  wallMs: number;
  /** Totals per decoder layer, experts merged across calls. */
  layers: LayerStats[];
}

/** The invocation counters a layer call and a summary both keep, at zero. */
export function zeroInvocationCounters(): InvocationCounters {
  return {
    invocations: 0,
    retries: 0,
    hedges: 0,
    wastedInvocations: 0,
    requestBytes: 0,
    responseBytes: 0,
    billedDurationMs: 0,
  };
}

export function emptySummary(): ScatterGatherSummary {
  return { layerCalls: 0, tokens: 0, rows: 0, ...zeroInvocationCounters(), wallMs: 0, layers: [] };
}

const additive = [
  'tokens',
  'rows',
  'miniBatches',
  'invocations',
  'retries',
  'hedges',
  'wastedInvocations',
  'requestBytes',
  'responseBytes',
  'billedDurationMs',
  'computeDurationMs',
  'wallMs',
] as const;

/** Folds one layer call into the running summary. */
export function addToSummary(summary: ScatterGatherSummary, stats: LayerStats): void {
  summary.layerCalls++;
  summary.tokens += stats.tokens;
  summary.rows += stats.rows;
  summary.invocations += stats.invocations;
  summary.retries += stats.retries;
  summary.hedges += stats.hedges;
  summary.wastedInvocations += stats.wastedInvocations;
  summary.requestBytes += stats.requestBytes;
  summary.responseBytes += stats.responseBytes;
  summary.billedDurationMs += stats.billedDurationMs;
  summary.wallMs += stats.wallMs;
  let layer = summary.layers.find((entry) => entry.layer === stats.layer);
  if (!layer) {
    layer = { ...stats, experts: stats.experts.map((expert) => ({ ...expert })) };
    summary.layers.push(layer);
    summary.layers.sort((a, b) => a.layer - b.layer);
    return;
  }
  for (const key of additive) layer[key] += stats[key];
  for (const expert of stats.experts) {
    const target = layer.experts.find((entry) => entry.expert === expert.expert);
    if (!target) {
      layer.experts.push({ ...expert });
      continue;
    }
    target.tokens += expert.tokens;
    target.miniBatches += expert.miniBatches;
    target.requestBytes += expert.requestBytes;
    target.responseBytes += expert.responseBytes;
    target.maxLatencyMs = Math.max(target.maxLatencyMs, expert.maxLatencyMs);
    target.billedDurationMs += expert.billedDurationMs;
    target.retries += expert.retries;
    target.hedges += expert.hedges;
  }
  layer.experts.sort((a, b) => a.expert - b.expert);
}
