import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  type DeploymentPlan,
  type ExpertQuantization,
  type Logger,
  readRoutingTrace,
  SwitchyardError,
} from '@switchyard/core';
import { forecastFromPrediction, nominalComputeProfile, planDeployment } from '@switchyard/optimizer';
import { fitPredictor } from '@switchyard/predictor';
import { loadTokenizer } from '@switchyard/tokenizer';
import { resolveModel } from './commands/plan.js';
import type { CliEnv } from './env.js';

export interface BatchJobPlanOptions {
  inputPath: string;
  /** The checkpoint directory. */
  modelDir: string;
  env: CliEnv;
  fixturesDir: string;
  quantization: ExpertQuantization | undefined;
  /** The job's step budget: the plan is made for batches of this many tokens. */
  maxBatchTokens: number;
  /** Latency SLO of one step's MoE layers (a batch job has a loose one). */
  sloMs: number;
  /** Routing traces to fit the predictor on (default: the bundled traces of a bundled model). */
  predictorTraces: string[];
  seed: number;
  logger: Logger;
}

export interface BatchJobPlan {
  plan: DeploymentPlan;
  /** Prompt tokens the predictor saw. */
  promptTokens: number;
  predictorTraces: string[];
}

/** The prompt text of every line that has one (completions) or the rendered chat (chat completions). */
function promptTokenIds(
  text: string,
  tokenizer: Awaited<ReturnType<typeof loadTokenizer>>,
): { tokens: Int32Array; positions: Int32Array } {
  const tokens: number[] = [];
  const positions: number[] = [];
  const add = (ids: readonly number[]) => {
    ids.forEach((id, position) => {
      tokens.push(id);
      positions.push(position);
    });
  };
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let body: { prompt?: unknown; messages?: unknown } | undefined;
    try {
      body = (JSON.parse(raw) as { body?: typeof body }).body;
    } catch {
      continue; // the job answers it with an error line; it routes nothing
    }
    try {
      if (typeof body?.prompt === 'string') add(tokenizer.encode(body.prompt));
      else if (Array.isArray(body?.prompt)) {
        for (const prompt of body.prompt) if (typeof prompt === 'string') add(tokenizer.encode(prompt));
      } else if (Array.isArray(body?.messages)) {
        add(tokenizer.encodeChat(body.messages as never, { addGenerationPrompt: true }));
      }
    } catch {
      // a line the template or tokenizer refuses answers 400 and routes nothing
    }
  }
  return { tokens: Int32Array.from(tokens), positions: Int32Array.from(positions) };
}

/** The bundled calibration trace of a bundled checkpoint (fixtures/traces/<name>/calibration.safetensors). */
function bundledTraces(fixturesDir: string, modelDir: string): string[] {
  const path = join(fixturesDir, 'traces', basename(modelDir), 'calibration.safetensors');
  return existsSync(path) ? [path] : [];
}

/**
 * The plan a batch job deploys: the expert-popularity predictor reads every prompt of the job before
 * it runs (`predictLoad` over their tokens, each at its position), its forecast scaled to one step of
 * `maxBatchTokens`, and the planner sizes memory, replicas and transport for it under `sloMs`
 * (nominal FLOP-based compute profile, as `switchyard plan` without `--compute-profile`).
 */
export async function planForBatchJob(options: BatchJobPlanOptions): Promise<BatchJobPlan> {
  const traces =
    options.predictorTraces.length > 0
      ? options.predictorTraces
      : bundledTraces(options.fixturesDir, options.modelDir);
  if (traces.length === 0)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `no routing trace to fit the load predictor on for ${options.modelDir}: pass --predictor-trace <file> (a trace of this model, e.g. from \`switchyard trace\`) or a ready plan with --plan`,
      location: '--predictor-trace',
    });
  const predictor = fitPredictor(await Promise.all(traces.map((path) => readRoutingTrace(path))), {
    logger: options.logger,
  });
  const tokenizer = await loadTokenizer(options.modelDir, { logger: options.logger });
  const batch = promptTokenIds(readFileSync(options.inputPath, 'utf8'), tokenizer);
  if (batch.tokens.length === 0)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `${options.inputPath} has no prompt the model can read: nothing to plan the deployment for`,
      location: options.inputPath,
    });
  const { model, matrices } = await resolveModel(options.modelDir, options.env, options.quantization);
  const chunk = predictor.state.chunk;
  const prediction = predictor.predictLoad({
    tokens: batch.tokens,
    positions: batch.positions.map((position) => position % chunk),
  });
  const forecast = forecastFromPrediction(prediction, {
    tokensPerBatch: options.maxBatchTokens,
    moeLayers: model.moeLayers,
  });
  const plan = await planDeployment({
    model,
    forecast,
    costProfile: { compute: nominalComputeProfile({ ...model, matrices }) },
    workload: { tokensPerBatch: options.maxBatchTokens, sloMs: options.sloMs },
    seed: options.seed,
    logger: options.logger,
  });
  return { plan, promptTokens: batch.tokens.length, predictorTraces: traces };
}
