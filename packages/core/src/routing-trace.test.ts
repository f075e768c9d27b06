import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from './errors.js';
import {
  expertLoad,
  parseRoutingTrace,
  type RoutingTrace,
  readRoutingTrace,
  serializeRoutingTrace,
} from './routing-trace.js';

const traces = resolve(import.meta.dirname, '../../../fixtures/traces/shakespeare-mixtral-8x2');

describe('routing traces', () => {
  it('reads the calibration fixture and reproduces its recorded expert load', async () => {
    const trace = await readRoutingTrace(`${traces}/calibration.safetensors`);
    expect(trace.numLayers).toBe(4);
    expect(trace.numTokens).toBe(65536);
    expect(trace.topK).toBe(2);
    expect(expertLoad(trace)).toEqual(trace.meta.expert_load);
    expect(trace.topkProbs[0]).toBeGreaterThan(0);
    expect(trace.topkProbs[0]).toBeLessThanOrEqual(1);
  });

  it('round-trips through serializeRoutingTrace', () => {
    const trace: RoutingTrace = {
      meta: { model: 'm', tokens: 3, chunk: 2, moe_layers: [0, 2], num_experts: 300, top_k: 1 },
      tokens: Int32Array.from([1, 2, 1000]),
      topkIds: Int16Array.from([0, 299, 5, 1, 2, 3]),
      topkProbs: Float32Array.from([0.5, 0.25, 1, 0.125, 0.75, 0.5]),
      attentionIds: Int32Array.from([1, 1, 2, 2, 1, 1]),
      numLayers: 2,
      numTokens: 3,
      topK: 1,
    };
    const { safetensors, json } = serializeRoutingTrace(trace);
    const back = parseRoutingTrace(safetensors, JSON.parse(json));
    expect(back.tokens).toEqual(trace.tokens);
    expect(back.topkIds).toEqual(trace.topkIds);
    expect(back.topkProbs).toEqual(trace.topkProbs);
    expect(back.attentionIds).toEqual(trace.attentionIds);
    expect(back.meta.expert_load?.[0]?.[299]).toBe(1);
  });

  it('names the field for malformed traces', () => {
    const good = serializeRoutingTrace({
      meta: { model: 'm', tokens: 2, chunk: 2, moe_layers: [0], num_experts: 4, top_k: 1 },
      tokens: Int32Array.from([1, 2]),
      topkIds: Int16Array.from([0, 3]),
      topkProbs: Float32Array.from([0.5, 0.5]),
      numLayers: 1,
      numTokens: 2,
      topK: 1,
    });
    const meta = JSON.parse(good.json);
    const attempt = (metaJson: unknown): string => {
      try {
        parseRoutingTrace(good.safetensors, metaJson, 't.safetensors');
      } catch (error) {
        expect(SwitchyardError.isInstance(error) && error.code === 'TRACE_INVALID').toBe(true);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(attempt({ ...meta, num_experts: 3 })).toMatch(/expert id 3 is outside 0\.\.2.*topk_ids\[0\]\[1\]/);
    expect(attempt({ ...meta, tokens: 5 })).toMatch(/shape \[2\], expected \[5\].*tensor tokens/);
    expect(attempt({ ...meta, top_k: 'two' })).toMatch(/t\.json: top_k/);
  });
});
