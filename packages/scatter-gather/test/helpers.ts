import {
  createRandom,
  type DeploymentPlan,
  type DeploymentPlanInput,
  decodeExpertMessage,
  decodeS3Reference,
  delay,
  deploymentPlanSchema,
  type Executor,
  encodeExpertMessage,
  encodeS3Reference,
  isS3Reference,
  SwitchyardError,
} from '@switchyard/core';

/** A row-independent stand-in expert: y = x·(e+1)/8 + e/16 in float32. */
export function jsExpert(expert: number, row: Float32Array, out: Float32Array): void {
  const scale = Math.fround((expert + 1) / 8);
  const shift = Math.fround(expert / 16);
  for (let h = 0; h < row.length; h++) out[h] = Math.fround(Math.fround(row[h]! * scale) + shift);
}

export function runJsExpert(expert: number, rows: Float32Array, hiddenSize: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let r = 0; r < rows.length / hiddenSize; r++) {
    jsExpert(
      expert,
      rows.subarray(r * hiddenSize, (r + 1) * hiddenSize),
      out.subarray(r * hiddenSize, (r + 1) * hiddenSize),
    );
  }
  return out;
}

export interface PlanShape {
  layers: number[];
  numExperts: number;
  hiddenSize: number;
  /** Experts per function (packing), default 1. */
  expertsPerFunction?: number;
  replicas?: number | ((functionIndex: number) => number);
  method?: 'direct' | 's3' | 's3-pipelined';
  beta?: number;
}

export function makePlan(shape: PlanShape): DeploymentPlan {
  const perFunction = shape.expertsPerFunction ?? 1;
  const input: DeploymentPlanInput = {
    kind: 'switchyard.deployment-plan',
    version: 1,
    createdAt: '2026-11-28T00:00:00Z',
    strategy: 'manual',
    model: {
      name: 'test',
      fingerprint: 'test',
      architecture: 'mixtral',
      hiddenSize: shape.hiddenSize,
      expertIntermediateSize: shape.hiddenSize * 2,
      numExperts: shape.numExperts,
      topK: 2,
      bytesPerExpert: 0,
    },
    workload: { tokensPerBatch: 64, sloMs: 1000 },
    priceTable: { version: 'test', date: '2026-11-01' },
    layers: shape.layers.map((layer) => {
      const functions = [];
      for (let first = 0, index = 0; first < shape.numExperts; first += perFunction, index++) {
        const replicas = typeof shape.replicas === 'function' ? shape.replicas(index) : (shape.replicas ?? 1);
        const name = `l${layer}-f${index}`;
        functions.push({
          name,
          experts: Array.from(
            { length: Math.min(perFunction, shape.numExperts - first) },
            (_, i) => first + i,
          ),
          memoryMB: 1024,
          replicas,
          functionNames: Array.from({ length: replicas }, (_, r) => `${name}-r${r}`),
        });
      }
      return {
        layer,
        method: shape.method ?? 'direct',
        beta: shape.beta ?? 16,
        functions,
        experts: Array.from({ length: shape.numExperts }, (_, expert) => ({
          expert,
          functionIndex: Math.floor(expert / perFunction),
          predictedTokens: 1,
          predictedTokensLow: 0,
          predictedTokensHigh: 2,
        })),
      };
    }),
    predicted: { costUsdPerBatch: 0, latencyMs: 0, computeUsd: 0, requestUsd: 0, sloMet: true },
  };
  return deploymentPlanSchema.parse(input);
}

/** Answers one wire request with the JS expert. */
export function answer(payload: Uint8Array): Uint8Array {
  const request = decodeExpertMessage(payload);
  const out = new Float32Array(request.activations.length);
  let offset = 0;
  request.expertIds.forEach((expert, i) => {
    const length = request.tokenCounts[i]! * request.hiddenSize;
    out.set(
      runJsExpert(expert, request.activations.subarray(offset, offset + length), request.hiddenSize),
      offset,
    );
    offset += length;
  });
  return encodeExpertMessage({ ...request, kind: 'response', activations: out });
}

export interface JsExecutorOptions {
  /** Delay per invocation in ms (by function name and call number); default 0. */
  delayMs?: (functionName: string, call: number) => number;
  /** Object store for S3 references. */
  store?: Map<string, Uint8Array>;
  /** Function names that exist; others reject NOT_FOUND. */
  functions?: Set<string>;
  /** Tokens each function was asked to compute (wins and losses). */
  tokensByFunction?: Map<string, number>;
}

/** An in-process executor that runs the JS expert, optionally via an in-memory object store. */
export function createJsExecutor(options: JsExecutorOptions = {}): Executor & { calls: number } {
  const executor = {
    calls: 0,
    async invoke(request: Parameters<Executor['invoke']>[0]) {
      const call = executor.calls++;
      if (options.functions && !options.functions.has(request.functionName)) {
        throw new SwitchyardError({ code: 'NOT_FOUND', message: `no function ${request.functionName}` });
      }
      const started = performance.now();
      const delayMs = options.delayMs?.(request.functionName, call) ?? 0;
      if (delayMs > 0) await delay(delayMs, request.signal);
      let payload: Uint8Array;
      if (isS3Reference(request.payload)) {
        const reference = decodeS3Reference(request.payload);
        const input = options.store?.get(`${reference.bucket}/${reference.inputKey}`);
        if (!input) throw new SwitchyardError({ code: 'FUNCTION_ERROR', message: 'input object missing' });
        const output = answer(input);
        options.store!.set(`${reference.bucket}/${reference.outputKey}`, output);
        payload = encodeS3Reference({
          bucket: reference.bucket,
          outputKey: reference.outputKey,
          bytes: output.length,
        });
      } else {
        const request_ = decodeExpertMessage(request.payload);
        options.tokensByFunction?.set(
          request.functionName,
          (options.tokensByFunction.get(request.functionName) ?? 0) +
            request_.tokenCounts.reduce((a, b) => a + b, 0),
        );
        payload = answer(request.payload);
      }
      const durationMs = performance.now() - started;
      return {
        payload,
        latencyMs: durationMs,
        billing: {
          requestId: `r${call}`,
          durationMs,
          billedDurationMs: Math.max(1, Math.ceil(durationMs)),
          memorySizeMB: 1024,
          maxMemoryUsedMB: 100,
        },
      };
    },
  };
  return executor;
}

/** Minimal in-memory stand-in for S3Client.send (Put/Get/DeleteObject, CreateBucket). */
export function createMemoryS3(store: Map<string, Uint8Array>) {
  return {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const input = command.input as {
        Bucket: string;
        Key?: string;
        Body?: Uint8Array;
        Delete?: { Objects: { Key: string }[] };
      };
      switch (command.constructor.name) {
        case 'PutObjectCommand':
          store.set(`${input.Bucket}/${input.Key}`, input.Body!);
          return {};
        case 'GetObjectCommand': {
          const body = store.get(`${input.Bucket}/${input.Key}`);
          if (!body) throw new Error('NoSuchKey');
          return { Body: { transformToByteArray: async () => body } };
        }
        case 'DeleteObjectCommand':
          store.delete(`${input.Bucket}/${input.Key}`);
          return {};
        case 'CreateBucketCommand':
          return {};
        default:
          throw new Error(`unsupported ${command.constructor.name}`);
      }
    },
  };
}

export interface Routing {
  hiddenStates: Float32Array;
  topkIds: Int32Array;
  topkWeights: Float32Array;
}

/** Random hidden states and distinct top-k routing with skewed popularity. */
export function randomRouting(
  seed: number,
  numTokens: number,
  hiddenSize: number,
  numExperts: number,
  topK: number,
): Routing {
  const random = createRandom(seed);
  const hiddenStates = new Float32Array(numTokens * hiddenSize).map(() => random() * 2 - 1);
  const topkIds = new Int32Array(numTokens * topK);
  const topkWeights = new Float32Array(numTokens * topK);
  for (let t = 0; t < numTokens; t++) {
    const chosen = new Set<number>();
    for (let k = 0; k < topK; k++) {
      let expert: number;
      do expert = Math.floor(random() ** 2 * numExperts);
      while (chosen.has(expert));
      chosen.add(expert);
      topkIds[t * topK + k] = expert;
      topkWeights[t * topK + k] = random();
    }
  }
  return { hiddenStates, topkIds, topkWeights };
}

/** The in-process computation: every expert once over all its tokens, then combine. */
export function referenceMoe(
  routing: Routing,
  numTokens: number,
  hiddenSize: number,
  numExperts: number,
  topK: number,
): Float32Array {
  const result = new Float32Array(numTokens * hiddenSize);
  const out = new Float32Array(hiddenSize);
  for (let t = 0; t < numTokens; t++) {
    for (let k = 0; k < topK; k++) {
      const expert = routing.topkIds[t * topK + k]!;
      jsExpert(expert, routing.hiddenStates.subarray(t * hiddenSize, (t + 1) * hiddenSize), out);
      const weight = routing.topkWeights[t * topK + k]!;
      for (let h = 0; h < hiddenSize; h++) {
        result[t * hiddenSize + h] = Math.fround(result[t * hiddenSize + h]! + Math.fround(weight * out[h]!));
      }
    }
  }
  void numExperts;
  return result;
}
