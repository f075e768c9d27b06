import { SwitchyardError } from '@switchyard/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsExecutor, createMemoryS3, makePlan, randomRouting, referenceMoe } from '../test/helpers.js';
import type { ScatterGatherEvent } from './events.js';
import { createFaultInjectingExecutor } from './fault-injection.js';
import { createRemoteMoeStep } from './remote-moe-step.js';
import { maxDirectTokens } from './transport.js';

const hiddenSize = 8;
const numExperts = 6;
const topK = 2;

function request(layer: number, numTokens: number, seed: number) {
  const routing = randomRouting(seed, numTokens, hiddenSize, numExperts, topK);
  return {
    routing,
    request: { layer, numTokens, hiddenSize, topK, ...routing },
    expected: referenceMoe(routing, numTokens, hiddenSize, numExperts, topK),
  };
}

/** Tokens folded in (winning attempts) must equal routed rows: none lost, none twice. */
function wonRows(events: ScatterGatherEvent[]): number {
  return events
    .filter((e) => e.type === 'invoke' && e.outcome === 'won')
    .reduce((n, e) => n + (e.type === 'invoke' ? e.tokens : 0), 0);
}

describe('createRemoteMoeStep', () => {
  it('is bit-identical to the in-process step for any transport, packing, replicas and β', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('direct' as const, 's3-pipelined' as const),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer(),
        async (method, perFunction, replicas, beta, numTokens, seed) => {
          const plan = makePlan({
            layers: [1],
            numExperts,
            hiddenSize,
            expertsPerFunction: perFunction,
            replicas,
            method,
            beta,
          });
          const events: ScatterGatherEvent[] = [];
          const store = new Map<string, Uint8Array>();
          const step = createRemoteMoeStep({
            plan,
            executor: createJsExecutor({ store }),
            s3Client: createMemoryS3(store) as never,
            s3: { bucket: 'bucket' },
            onEvent: (e) => events.push(e),
          });
          const { request: req, expected } = request(1, numTokens, seed);
          const actual = await step(req);
          expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
          expect(wonRows(events)).toBe(numTokens * topK);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('moves data through object storage for the s3 and s3-pipelined methods', async () => {
    for (const method of ['s3', 's3-pipelined'] as const) {
      const store = new Map<string, Uint8Array>();
      const plan = makePlan({ layers: [0], numExperts, hiddenSize, method, beta: 8, replicas: 2 });
      const step = createRemoteMoeStep({
        plan,
        executor: createJsExecutor({ store }),
        s3Client: createMemoryS3(store) as never,
        s3: { bucket: 'bucket' },
      });
      const { request: req, expected } = request(0, 50, 5);
      const actual = await step(req);
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      const summary = step.summary();
      const expectedBatches = method === 's3' ? undefined : Math.ceil(summary.rows / 8);
      if (expectedBatches) expect(summary.layers[0]!.miniBatches).toBeGreaterThanOrEqual(expectedBatches);
      else expect(summary.layers[0]!.miniBatches).toBeLessThanOrEqual(numExperts * 2);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(store.size).toBe(0); // objects cleaned up
    }
  });

  it('refuses an object-storage layer when no S3 client is configured', async () => {
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, method: 's3' });
    const step = createRemoteMoeStep({ plan, executor: createJsExecutor() });
    await expect(step(request(0, 4, 1).request)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('survives failures, timeouts, 429s and late answers with bit-identical results and no row lost or doubled', async () => {
    // Pipelined (cut at β = 6), so each layer call makes many invocations for the faults to hit.
    const plan = makePlan({
      layers: [0, 1, 2],
      numExperts,
      hiddenSize,
      expertsPerFunction: 2,
      replicas: 2,
      method: 's3-pipelined',
      beta: 6,
    });
    const events: ScatterGatherEvent[] = [];
    const store = new Map<string, Uint8Array>();
    const executor = createFaultInjectingExecutor(createJsExecutor({ store }), {
      seed: 9,
      failRate: 0.1,
      timeoutRate: 0.05,
      throttleRate: 0.1,
      lateRate: 0.1,
      lateMs: 20,
    });
    const step = createRemoteMoeStep({
      plan,
      executor,
      s3Client: createMemoryS3(store) as never,
      s3: { bucket: 'bucket' },
      retry: { maxRetries: 8, attemptTimeoutMs: 100 },
      hedge: { enabled: true, afterMs: 10 },
      onEvent: (e) => events.push(e),
    });
    for (const layer of [0, 1, 2]) {
      const { request: req, expected } = request(layer, 200, 100 + layer);
      const before = wonRows(events);
      const actual = await step(req);
      expect(Buffer.from(actual.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      expect(wonRows(events) - before).toBe(200 * topK);
    }
    const counts = executor.counts();
    expect(counts.failed + counts.timedOut + counts.throttled).toBeGreaterThan(10);
    expect(counts.late).toBeGreaterThan(0);
    const summary = step.summary();
    expect(summary.retries).toBeGreaterThan(0);
    expect(summary.hedges).toBeGreaterThan(0);
    expect(summary.rows).toBe(3 * 200 * topK);
  });

  it('hedges a straggler on another replica and takes the first answer once', async () => {
    const plan = makePlan({ layers: [0], numExperts: 1, hiddenSize, replicas: 2, beta: 100 });
    const events: ScatterGatherEvent[] = [];
    const executor = createJsExecutor({ delayMs: (name) => (name.endsWith('-r0') ? 2000 : 0) });
    const step = createRemoteMoeStep({
      plan,
      executor,
      hedge: { enabled: true, afterMs: 20 },
      onEvent: (e) => events.push(e),
    });
    const routing = {
      hiddenStates: new Float32Array(4 * hiddenSize).fill(1),
      topkIds: new Int32Array(4),
      topkWeights: new Float32Array(4).fill(0.5),
    };
    const actual = await step({ layer: 0, numTokens: 4, hiddenSize, topK: 1, ...routing });
    expect(actual[0]).toBe(Math.fround(0.5 * Math.fround(1 / 8)));
    // Two mini-batches (one per replica); only the one on the slow replica is hedged.
    expect(events.filter((e) => e.type === 'hedge')).toHaveLength(1);
    expect(wonRows(events)).toBe(4);
    expect(step.summary().hedges).toBe(1);
  });

  it('raises EXECUTOR_FAILED naming the expert when it stays unreachable after the retry budget', async () => {
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, replicas: 2 });
    const functions = new Set(
      plan.layers[0]!.functions.flatMap((f) => f.functionNames).filter((n) => !n.startsWith('l0-f3-')),
    );
    const step = createRemoteMoeStep({
      plan,
      executor: createJsExecutor({ functions }),
      retry: { maxRetries: 2 },
    });
    const { request: req } = request(0, 64, 3);
    const error = await step(req).catch((e: unknown) => e);
    expect(SwitchyardError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'EXECUTOR_FAILED', experts: [3], layer: 0 });
    expect((error as Error).message).toMatch(
      /expert 3 unreachable at function l0-f3 \(2 replicas\) after 3 attempts/,
    );
  });

  it('rejects with TIMEOUT at the layer deadline and with ABORTED on cancellation', async () => {
    const plan = makePlan({ layers: [0], numExperts, hiddenSize });
    const slow = createJsExecutor({ delayMs: () => 5000 });
    const { request: req } = request(0, 16, 4);
    const deadlineStep = createRemoteMoeStep({ plan, executor: slow, layerDeadlineMs: 30 });
    await expect(deadlineStep(req)).rejects.toMatchObject({ code: 'TIMEOUT' });
    const controller = new AbortController();
    const cancelled = createRemoteMoeStep({ plan, executor: slow })({ ...req, signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(cancelled).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('reports per-expert tokens, bytes and billed time', async () => {
    const store = new Map<string, Uint8Array>();
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, method: 's3-pipelined', beta: 4 });
    const step = createRemoteMoeStep({
      plan,
      executor: createJsExecutor({ store }),
      s3Client: createMemoryS3(store) as never,
      s3: { bucket: 'bucket' },
    });
    const { request: req, routing } = request(0, 40, 8);
    await step(req);
    const layer = step.summary().layers[0]!;
    for (const expert of layer.experts) {
      const routed = routing.topkIds.filter((id) => id === expert.expert).length;
      expect(expert.tokens).toBe(routed);
      expect(expert.miniBatches).toBe(Math.ceil(routed / 4));
      expect(expert.requestBytes).toBeGreaterThan(routed * hiddenSize * 4);
      expect(expert.billedDurationMs).toBeGreaterThanOrEqual(expert.miniBatches);
    }
    expect(layer.experts.reduce((n, e) => n + e.tokens, 0)).toBe(80);
  });

  it('cuts only the pipelined method at β: direct and s3 make one invocation per replica with tokens (paper methods 3 and 2)', async () => {
    for (const method of ['direct', 's3', 's3-pipelined'] as const) {
      const store = new Map<string, Uint8Array>();
      const executor = createJsExecutor({ store });
      const plan = makePlan({ layers: [0], numExperts, hiddenSize, method, beta: 3, replicas: 2 });
      const step = createRemoteMoeStep({
        plan,
        executor,
        s3Client: createMemoryS3(store) as never,
        s3: { bucket: 'bucket' },
      });
      const { request: req, routing } = request(0, 60, 12);
      await step(req);
      const layer = step.summary().layers[0]!;
      let replicasWithTokens = 0;
      let pipelinedBatches = 0;
      for (let expert = 0; expert < numExperts; expert++) {
        const routed = routing.topkIds.filter((id) => id === expert).length;
        const base = Math.floor(routed / 2);
        for (const tokens of [base, routed - base]) {
          if (tokens > 0) replicasWithTokens++;
          pipelinedBatches += Math.ceil(tokens / 3);
        }
      }
      const expected = method === 's3-pipelined' ? pipelinedBatches : replicasWithTokens;
      expect(layer.miniBatches, method).toBe(expected);
      expect(executor.calls, method).toBe(expected);
    }
  });

  it('cuts a direct payload only where a replica’s rows would exceed the payload limit', async () => {
    const plan = makePlan({ layers: [0], numExperts: 1, hiddenSize, beta: 1 });
    // A few rows of one segment fit once base64-encoded in the envelope, whatever β says.
    const cap = maxDirectTokens({
      hiddenSize,
      segments: 1,
      dtype: 'f32',
      limitBytes: 2048,
      envelopeOverheadBytes: 1024,
    });
    expect(cap).toBeGreaterThan(1);
    const executor = createJsExecutor();
    const step = createRemoteMoeStep({
      plan,
      executor,
      payloadLimitBytes: 2048,
      envelopeOverheadBytes: 1024,
    });
    const routing = {
      hiddenStates: new Float32Array(23 * hiddenSize).fill(0.5),
      topkIds: new Int32Array(23),
      topkWeights: new Float32Array(23).fill(1),
    };
    await step({ layer: 0, numTokens: 23, hiddenSize, topK: 1, ...routing });
    expect(executor.calls).toBe(Math.ceil(23 / cap));
  });

  it("writes into the caller's output buffer when given one, bit-identical, and refuses a wrong-sized or overlapping one", async () => {
    const plan = makePlan({ layers: [0], numExperts, hiddenSize, replicas: 2 });
    const step = createRemoteMoeStep({ plan, executor: createJsExecutor() });
    const { request: first, expected: firstExpected } = request(0, 37, 3);
    const { request: second, expected: secondExpected } = request(0, 37, 4);
    // Stale values everywhere: every one must be overwritten.
    const output = new Float32Array(37 * hiddenSize).fill(Number.NaN);
    const returned = await step({ ...first, output });
    expect(returned).toBe(output);
    expect(Buffer.from(output.buffer).equals(Buffer.from(firstExpected.buffer))).toBe(true);
    // The same buffer handed back for the next call holds that call's result only.
    expect(await step({ ...second, output })).toBe(output);
    expect(Buffer.from(output.buffer).equals(Buffer.from(secondExpected.buffer))).toBe(true);

    await expect(step({ ...first, output: new Float32Array(36 * hiddenSize) })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      location: 'MoeStepRequest.output',
      message: expect.stringMatching(/output holds 288 values, expected 37 × 8/),
    });
    const shared = new Float32Array(2 * 37 * hiddenSize);
    shared.set(first.hiddenStates);
    await expect(
      step({
        ...first,
        hiddenStates: shared.subarray(0, 37 * hiddenSize),
        output: shared.subarray(hiddenSize, hiddenSize + 37 * hiddenSize),
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/overlaps hiddenStates/),
    });
    // Adjacent (not overlapping) halves of one buffer are fine.
    const adjacent = await step({
      ...first,
      hiddenStates: shared.subarray(0, 37 * hiddenSize),
      output: shared.subarray(37 * hiddenSize),
    });
    expect(Buffer.from(adjacent.slice().buffer).equals(Buffer.from(firstExpected.buffer))).toBe(true);
  });
});
