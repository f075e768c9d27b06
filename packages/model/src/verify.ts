import { readFile } from 'node:fs/promises';
import { parseSafetensors } from '@switchyard/core';
import { ModelError } from './errors.js';
import type { MoeModel } from './model.js';
import { route, routerScores } from './routing.js';

export interface VerifyTolerances {
  logits: number;
  hiddenStates: number;
  moeOutput: number;
}

export const defaultVerifyTolerances: VerifyTolerances = {
  logits: 1e-3,
  hiddenStates: 1e-3,
  moeOutput: 1e-4,
};

export interface VerifyReport {
  pass: boolean;
  maxAbsDiffLogits: number;
  /** Largest difference over every `hidden_states.j` present. */
  maxAbsDiffHiddenStates: number;
  maxAbsDiffMoeInput: number;
  maxAbsDiffMoeOutput: number;
  maxAbsDiffRouterLogits: number;
  /** Share of top-k expert ids equal to those the reference router logits select (1 = identical). */
  routingAgreement: number;
  generationMatch: boolean;
  numSequences: number;
  sequenceLength: number;
  newTokens: number;
  /** Per compared tensor: max abs difference. */
  tensors: Record<string, number>;
  failures: string[];
}

function maxAbsDiff(a: Float32Array, b: Float32Array, what: string): number {
  if (a.length !== b.length)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `has ${b.length} values, the model produced ${a.length}`,
      location: what,
    });
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= max)) max = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return max;
}

/**
 * Compares the model against a transformers reference file (architecture/formats.md): logits, every hidden
 * state and MoE block input/output present, router logits, top-k routing ids and the greedy continuation.
 */
export async function verifyModel(
  model: MoeModel,
  referencePath: string,
  tolerances: VerifyTolerances = defaultVerifyTolerances,
): Promise<VerifyReport> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(referencePath);
  } catch (error) {
    throw new ModelError({
      code: 'NOT_FOUND',
      message: `cannot read reference: ${(error as Error).message}`,
      location: referencePath,
      cause: error,
    });
  }
  const reference = parseSafetensors(bytes, { source: referencePath, errorCode: 'INVALID_INPUT' });
  const inputIds = reference.get('input_ids');
  if (inputIds.shape.length !== 2)
    throw new ModelError({
      code: 'INVALID_INPUT',
      message: `input_ids has shape [${inputIds.shape}], expected [B, S]`,
      location: `${referencePath}: input_ids`,
    });
  const [B, S] = inputIds.shape as [number, number];
  const ids = reference.int32('input_ids');
  const config = model.config;
  const H = config.hiddenSize;
  const V = config.vocabSize;
  const E = config.numExperts;
  const hidden = new Map<number, Float32Array>();
  const moe = new Map<
    number,
    { input: Float32Array; output: Float32Array; logits: Float32Array; ids: Int32Array }
  >();
  const sequences = Array.from({ length: B }, () => model.createSequence());
  const prompts = Array.from({ length: B }, (_, b) => Array.from(ids.subarray(b * S, (b + 1) * S)));
  const { logits } = await model.forward(
    sequences.map((sequence, b) => ({ sequence, tokens: prompts[b]! })),
    {
      logits: 'all',
      observer: {
        hiddenState: (layer, values) => hidden.set(layer, values.slice()),
        moeLayer: (event) =>
          moe.set(event.layer, {
            input: event.moeInput,
            output: event.moeOutput,
            logits: event.routerLogits,
            ids: event.routing.topkIds,
          }),
      },
    },
  );
  for (const sequence of sequences) model.releaseSequence(sequence);
  const tensors: Record<string, number> = {};
  const failures: string[] = [];
  const allLogits = new Float32Array(B * S * V);
  for (const [b, rows] of logits.entries()) allLogits.set(rows, b * S * V);
  tensors.logits = maxAbsDiff(allLogits, reference.float32('logits', [B, S, V]), `${referencePath}: logits`);
  let maxHidden = 0;
  for (const [layer, values] of hidden) {
    const name = `hidden_states.${layer}`;
    if (!reference.has(name)) continue;
    tensors[name] = maxAbsDiff(values, reference.float32(name, [B, S, H]), `${referencePath}: ${name}`);
    maxHidden = Math.max(maxHidden, tensors[name]!);
  }
  let maxMoeInput = 0;
  let maxMoeOutput = 0;
  let maxRouter = 0;
  let agree = 0;
  let total = 0;
  for (const [layer, values] of moe) {
    const prefix = `layers.${layer}`;
    if (reference.has(`${prefix}.moe_input`)) {
      tensors[`${prefix}.moe_input`] = maxAbsDiff(
        values.input,
        reference.float32(`${prefix}.moe_input`, [B * S, H]),
        `${referencePath}: ${prefix}.moe_input`,
      );
      maxMoeInput = Math.max(maxMoeInput, tensors[`${prefix}.moe_input`]!);
    }
    if (reference.has(`${prefix}.moe_output`)) {
      tensors[`${prefix}.moe_output`] = maxAbsDiff(
        values.output,
        reference.float32(`${prefix}.moe_output`, [B * S, H]),
        `${referencePath}: ${prefix}.moe_output`,
      );
      maxMoeOutput = Math.max(maxMoeOutput, tensors[`${prefix}.moe_output`]!);
    }
    if (reference.has(`${prefix}.router_logits`)) {
      const referenceLogits = reference.float32(`${prefix}.router_logits`, [B * S, E]);
      tensors[`${prefix}.router_logits`] = maxAbsDiff(
        values.logits,
        referenceLogits,
        `${referencePath}: ${prefix}.router_logits`,
      );
      maxRouter = Math.max(maxRouter, tensors[`${prefix}.router_logits`]!);
      const referenceIds = route(
        config,
        referenceLogits,
        routerScores(config, referenceLogits, B * S),
        B * S,
        model.correctionBias(layer),
      ).topkIds;
      for (let i = 0; i < referenceIds.length; i++) if (referenceIds[i] === values.ids[i]) agree++;
      total += referenceIds.length;
    }
  }
  const routingAgreement = total === 0 ? 1 : agree / total;
  let generationMatch = true;
  let newTokens = 0;
  if (reference.has('generated')) {
    const generated = reference.get('generated');
    newTokens = generated.shape[1]! - S;
    const expected = reference.int32('generated', [B, S + newTokens]);
    const results = await model.generate(prompts, { maxNewTokens: newTokens, greedy: true });
    results.forEach((result, b) => {
      for (let j = 0; j < newTokens; j++)
        if (result.tokens[j] !== expected[b * (S + newTokens) + S + j]) generationMatch = false;
    });
  }
  if (tensors.logits! > tolerances.logits)
    failures.push(`logits differ by ${tensors.logits} > ${tolerances.logits}`);
  if (maxHidden > tolerances.hiddenStates)
    failures.push(`hidden states differ by ${maxHidden} > ${tolerances.hiddenStates}`);
  if (maxMoeOutput > tolerances.moeOutput)
    failures.push(`MoE outputs differ by ${maxMoeOutput} > ${tolerances.moeOutput}`);
  if (routingAgreement < 1)
    failures.push(`routing ids agree on ${(routingAgreement * 100).toFixed(3)} %, not all`);
  if (!generationMatch) failures.push('greedy continuation differs');
  return {
    pass: failures.length === 0,
    maxAbsDiffLogits: tensors.logits!,
    maxAbsDiffHiddenStates: maxHidden,
    maxAbsDiffMoeInput: maxMoeInput,
    maxAbsDiffMoeOutput: maxMoeOutput,
    maxAbsDiffRouterLogits: maxRouter,
    routingAgreement,
    generationMatch,
    numSequences: B,
    sequenceLength: S,
    newTokens,
    tensors,
    failures,
  };
}
