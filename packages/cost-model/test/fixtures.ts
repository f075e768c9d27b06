import {
  type DeploymentPlan,
  deploymentPlanSchema,
  SwitchyardError,
  type TransportMethod,
} from '@switchyard/core';
import type { ComputeProfile } from '../src/compute-profile.js';
import { type Traffic, trafficFromColumns } from '../src/traffic.js';

/** The Switchyard error `run` throws (anything else is rethrown; no throw fails the test). */
export function errorOf(run: () => unknown): SwitchyardError {
  try {
    run();
  } catch (error) {
    if (SwitchyardError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

/** A hand-made stream: [arrival s, prompt tokens, output tokens] per request, sorted by arrival. */
export function handTraffic(
  requests: ReadonlyArray<readonly [arrivalS: number, promptTokens: number, outputTokens: number]>,
  durationS: number,
  startEpochMs?: number,
): Traffic {
  return trafficFromColumns({
    name: 'hand',
    durationS,
    arrivalS: requests.map(([arrivalS]) => arrivalS),
    promptTokens: requests.map(([, promptTokens]) => promptTokens),
    outputTokens: requests.map(([, , outputTokens]) => outputTokens),
    parameters: { kind: 'hand' },
    startEpochMs,
  });
}

/** A compute profile with 0.1 ms/token, no fixed cost, no thread return: easy to hand-compute. */
export const flatComputeProfile: ComputeProfile = {
  kind: 'switchyard.compute-profile',
  version: 2,
  createdAt: '2026-11-28',
  subject: { model: 'hand' },
  machine: { description: 'hand', logicalCpus: 1 },
  curves: [
    {
      threads: 1,
      knots: [
        { tokens: 1, durationMs: 0.1 },
        { tokens: 1000, durationMs: 100 },
      ],
    },
  ],
  points: [],
  checks: [],
};

export const handTransport = {
  storageBandwidthBytesPerS: 100e6,
  functionBandwidthBytesPerS: 50e6,
  storageAccessMs: 20,
  warmStartMs: 10,
  nextLayerLoadMs: 0,
};

/** A one-function-per-expert plan; `functions[i]` = [memoryMB, replicas, predictedTokens] for expert i. */
export function makePlan(
  layers: Array<{ method: TransportMethod; beta: number; functions: Array<[number, number, number]> }>,
  options: { tokensPerBatch?: number; sloMs?: number; bytesPerExpert?: number } = {},
): DeploymentPlan {
  return deploymentPlanSchema.parse({
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: '2026-11-28T00:00:00Z',
    strategy: 'manual',
    model: {
      name: 'hand',
      fingerprint: 'x',
      architecture: 'mixtral',
      hiddenSize: 128,
      expertIntermediateSize: 256,
      numExperts: Math.max(...layers.map((l) => l.functions.length)),
      topK: 2,
      bytesPerExpert: options.bytesPerExpert ?? 1_000_000,
    },
    workload: { tokensPerBatch: options.tokensPerBatch ?? 1000, sloMs: options.sloMs ?? 1000 },
    priceTable: { version: 'x', date: '2026-11-28' },
    layers: layers.map((layer, layerIndex) => ({
      layer: layerIndex,
      method: layer.method,
      beta: layer.beta,
      functions: layer.functions.map(([memoryMB, replicas], expert) => ({
        name: `l${layerIndex}-e${expert}`,
        experts: [expert],
        memoryMB,
        replicas,
        functionNames: Array.from({ length: replicas }, (_, r) => `l${layerIndex}-e${expert}-r${r}`),
      })),
      experts: layer.functions.map(([, , tokens], expert) => ({
        expert,
        functionIndex: expert,
        predictedTokens: tokens,
        predictedTokensLow: tokens,
        predictedTokensHigh: tokens,
      })),
    })),
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
  });
}
