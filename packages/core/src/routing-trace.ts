import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { numberToFloat16Bits } from './dtype.js';
import { SwitchyardError } from './errors.js';
import { parseSafetensors, serializeSafetensors, type TensorInput } from './safetensors.js';

/**
 * Routing-trace sidecar JSON (architecture/formats.md, "Routing trace"). Field names are snake_case, as
 * the fixtures write them. Unknown fields are kept.
 */
export const routingTraceMetaSchema = z.looseObject({
  model: z.string(),
  part: z.string().optional(),
  byte_offset: z.number().int().nonnegative().optional(),
  tokens: z.number().int().positive(),
  chunk: z.number().int().positive(),
  moe_layers: z.array(z.number().int().nonnegative()).min(1),
  num_experts: z.number().int().positive().max(65535),
  top_k: z.number().int().positive(),
  expert_load: z.array(z.array(z.number().int().nonnegative())).optional(),
});

export type RoutingTraceMeta = z.infer<typeof routingTraceMetaSchema>;

/** A routing trace in memory. Arrays are flat, row-major. */
export interface RoutingTrace {
  meta: RoutingTraceMeta;
  /** [T] token ids. */
  tokens: Int32Array;
  /** [L, T, K] expert ids in router order. */
  topkIds: Int16Array;
  /** [L, T, K] softmax probabilities over all experts, before renormalisation. */
  topkProbs: Float32Array;
  /** [L, T] optional "attention id" feature (paper f3): token id with the highest summed attention. */
  attentionIds?: Int32Array;
  numLayers: number;
  numTokens: number;
  topK: number;
}

function traceError(message: string, location: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError({ code: 'TRACE_INVALID', message, location, cause });
}

/** The sidecar JSON path of a trace's safetensors file. */
export function traceMetaPath(safetensorsPath: string): string {
  return `${safetensorsPath.replace(/\.safetensors$/, '')}.json`;
}

/** Validates a trace's arrays against its metadata; throws TRACE_INVALID naming the field. */
export function validateRoutingTrace(trace: RoutingTrace, source = '<trace>'): RoutingTrace {
  const { meta } = trace;
  const L = meta.moe_layers.length;
  const T = trace.tokens.length;
  const K = meta.top_k;
  if (T === 0) throw traceError('trace is empty (0 tokens)', `${source}: tokens`);
  if (T !== meta.tokens)
    throw traceError(`tokens has ${T} entries but the JSON says ${meta.tokens}`, `${source}: tokens`);
  if (trace.topkIds.length !== L * T * K) {
    throw traceError(
      `topk_ids has ${trace.topkIds.length} entries, expected ${L} layers × ${T} tokens × ${K}`,
      `${source}: topk_ids`,
    );
  }
  if (trace.topkProbs.length !== L * T * K) {
    throw traceError(
      `topk_probs has ${trace.topkProbs.length} entries, expected ${L} × ${T} × ${K}`,
      `${source}: topk_probs`,
    );
  }
  for (let i = 0; i < trace.topkIds.length; i++) {
    const id = trace.topkIds[i]!;
    if (id < 0 || id >= meta.num_experts) {
      const layer = Math.floor(i / (T * K));
      const token = Math.floor((i % (T * K)) / K);
      throw traceError(
        `expert id ${id} is outside 0..${meta.num_experts - 1}`,
        `${source}: topk_ids[${layer}][${token}]`,
      );
    }
  }
  if (trace.attentionIds && trace.attentionIds.length !== L * T) {
    throw traceError(
      `attention_ids has ${trace.attentionIds.length} entries, expected ${L} × ${T}`,
      `${source}: attention_ids`,
    );
  }
  return trace;
}

/** Builds a trace from safetensors bytes and parsed sidecar JSON. */
export function parseRoutingTrace(bytes: Uint8Array, metaJson: unknown, source = '<trace>'): RoutingTrace {
  const parsed = routingTraceMetaSchema.safeParse(metaJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw traceError(
      `trace JSON is malformed: ${issue.message}`,
      `${traceMetaPath(source)}: ${issue.path.join('.') || '(root)'}`,
    );
  }
  const meta = parsed.data;
  const file = parseSafetensors(bytes, { source, errorCode: 'TRACE_INVALID' });
  const L = meta.moe_layers.length;
  const T = meta.tokens;
  const K = meta.top_k;
  const tokens = file.int32('tokens', [T]);
  const topkIds = Int16Array.from(file.int32('topk_ids', [L, T, K]));
  const topkProbs = file.float32('topk_probs', [L, T, K]);
  const attentionIds = file.has('attention_ids') ? file.int32('attention_ids', [L, T]) : undefined;
  return validateRoutingTrace(
    {
      meta,
      tokens,
      topkIds,
      topkProbs,
      ...(attentionIds ? { attentionIds } : {}),
      numLayers: L,
      numTokens: T,
      topK: K,
    },
    source,
  );
}

/** Reads `<name>.safetensors` and its `<name>.json` sidecar. */
export async function readRoutingTrace(safetensorsPath: string): Promise<RoutingTrace> {
  const metaPath = traceMetaPath(safetensorsPath);
  let bytes: Uint8Array;
  let metaText: string;
  try {
    bytes = await readFile(safetensorsPath);
  } catch (error) {
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `cannot read trace: ${(error as Error).message}`,
      location: safetensorsPath,
      cause: error,
    });
  }
  try {
    metaText = await readFile(metaPath, 'utf8');
  } catch (error) {
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `cannot read the trace's JSON sidecar: ${(error as Error).message}`,
      location: metaPath,
      cause: error,
    });
  }
  let metaJson: unknown;
  try {
    metaJson = JSON.parse(metaText);
  } catch (error) {
    throw traceError(`trace JSON is not valid JSON: ${(error as Error).message}`, metaPath, error);
  }
  return parseRoutingTrace(bytes, metaJson, safetensorsPath);
}

/** Per-layer expert load (selection counts) of a trace. */
export function expertLoad(
  trace: Pick<RoutingTrace, 'topkIds' | 'numLayers' | 'numTokens' | 'topK' | 'meta'>,
): number[][] {
  const load: number[][] = [];
  const perLayer = trace.numTokens * trace.topK;
  for (let layer = 0; layer < trace.numLayers; layer++) {
    const counts = new Array<number>(trace.meta.num_experts).fill(0);
    for (let i = layer * perLayer; i < (layer + 1) * perLayer; i++) counts[trace.topkIds[i]!]! += 1;
    load.push(counts);
  }
  return load;
}

/** Serialises a trace to safetensors bytes plus its sidecar JSON (with expert_load filled in). */
export function serializeRoutingTrace(trace: RoutingTrace): { safetensors: Uint8Array; json: string } {
  validateRoutingTrace(trace);
  const wide = trace.meta.num_experts > 255;
  const L = trace.numLayers;
  const T = trace.numTokens;
  const K = trace.topK;
  const maxToken = trace.tokens.reduce((a, b) => Math.max(a, b), 0);
  const tensors: Record<string, TensorInput> = {
    tokens:
      maxToken < 256
        ? { dtype: 'U8', shape: [T], data: Uint8Array.from(trace.tokens) }
        : { dtype: 'I32', shape: [T], data: trace.tokens },
    topk_ids: wide
      ? { dtype: 'I16', shape: [L, T, K], data: trace.topkIds }
      : { dtype: 'U8', shape: [L, T, K], data: Uint8Array.from(trace.topkIds) },
    topk_probs: { dtype: 'F16', shape: [L, T, K], data: float32ToFloat16(trace.topkProbs) },
  };
  if (trace.attentionIds) tensors.attention_ids = { dtype: 'I32', shape: [L, T], data: trace.attentionIds };
  const meta = { ...trace.meta, expert_load: expertLoad(trace) };
  return { safetensors: serializeSafetensors(tensors), json: `${JSON.stringify(meta, null, 1)}\n` };
}

function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToFloat16Bits(values[i]!);
  return out;
}
