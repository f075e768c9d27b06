import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type DeploymentPlan,
  type ExpertQuantization,
  type Logger,
  type RoutingTrace,
  readRoutingTrace,
} from '@switchyard/core';
import {
  type Bill,
  billFromReports,
  type ComputeProfile,
  computeTimeAtThreadsMs,
  fitComputeProfile,
  type LambdaRates,
  linearSummary,
  loadComputeProfile,
  resolveRates,
} from '@switchyard/cost-model';
import { deployPlan, LambdaExecutor, undeployPlan } from '@switchyard/lambda-executor';
import { type LocalRuntime, startLocalRuntime } from '@switchyard/lambda-local';
import { buildExpertGraph, evaluateLikelihood, loadModel, type MoeModel } from '@switchyard/model';
import { forecastFromPrediction, planDeployment } from '@switchyard/optimizer';
import { type EvaluationResult, evaluatePredictor, fitPredictor } from '@switchyard/predictor';
import { createRemoteMoeStep } from '@switchyard/scatter-gather';
import type { Output } from '../output.js';
import { costPerMillionTokens, reportFromPlan } from '../report/from-plan.js';
import type { ReportData } from '../report/report-data.js';
import { measureExpertPoints } from './profile.js';
import { recordBilling } from './record-billing.js';

export interface DemoOptions {
  modelDir: string;
  tracesDir: string;
  /** Measured compute profile to plan with (re-checked live); without it the live measurement is used. */
  profilePath?: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  sloMs: number;
  tokensPerBatch: number;
  /** The format the deployed experts run in (float32 when absent). */
  quantization?: ExpertQuantization;
  /** Plan the model once per expert format and score each on held-out text (default true). */
  quantizedRows?: boolean;
}

/** One expert format planned for the demo's batch, with the accuracy it costs. */
export interface DemoQuantizedRow {
  format: 'none' | 'int8' | 'int4';
  bytesPerExpert: number;
  usdPerMillionTokens: number;
  latencyMs: number;
  memoryMBTotal: number;
  perTokenMsOneThread: number;
  bitsPerToken: number;
  bitsRelativeToFloat32: number;
}

export interface DemoStep {
  step: string;
  status: 'done' | 'missing';
  seconds: number;
  detail: string;
}

export interface DemoResult {
  text: { prompt: string; completion: string; generatedBy: string };
  steps: DemoStep[];
  profile?: ComputeProfile;
  predictor?: Pick<
    EvaluationResult,
    'hitAtK' | 'loadErr' | 'intervalCoverage' | 'intervalLevel' | 'tokens' | 'batchTokens'
  >;
  plan?: DeploymentPlan;
  /** float32 vs int8 vs int4: planned cost per million tokens beside bits per byte on held-out text. */
  quantizedRows?: DemoQuantizedRow[];
  /** The run's bill: the sum of the BillingReports the runtime returned for the generation. */
  bill?: Bill & { tokensProcessed: number; usdPerMillionTokens: number; priceTable: string };
  report: ReportData;
}

async function timed<T>(
  steps: DemoStep[],
  step: string,
  work: () => Promise<{ value: T; detail: string }>,
): Promise<T> {
  const started = performance.now();
  const { value, detail } = await work();
  steps.push({ step, status: 'done', seconds: (performance.now() - started) / 1000, detail });
  return value;
}

/**
 * The model planned once per expert format for the same forecast and SLO, each with a live profile of
 * that format's graph, beside the bits per byte each format scores on the first 2,048 held-out tokens.
 */
async function demoQuantizedRows(
  options: DemoOptions,
  heldout: RoutingTrace,
  forecast: Parameters<typeof planDeployment>[0]['forecast'],
  io: { output: Output; logger: Logger },
): Promise<DemoQuantizedRow[]> {
  const rows: DemoQuantizedRow[] = [];
  const tokens = heldout.tokens.subarray(0, Math.min(2048, heldout.numTokens));
  for (const format of ['none', 'int8', 'int4'] as const) {
    const quantization: ExpertQuantization | undefined =
      format === 'none' ? undefined : format === 'int4' ? { format, blockSize: 32 } : { format };
    const model = await loadModel(options.modelDir, { threads: 1, quantization, logger: io.logger });
    try {
      const points = await measureExpertPoints(model, {
        layer: model.summary.moeLayers[0]!,
        expert: 0,
        threadCounts: [1, 2],
        tokenCounts: [16, 64, 256],
        repetitions: 7,
      });
      const profile = fitComputeProfile(points, {
        subject: {
          model: model.summary.name,
          hiddenSize: model.summary.hiddenSize,
          intermediateSize: model.summary.expertIntermediateSize,
          experts: `layer ${model.summary.moeLayers[0]} expert 0, ${format}`,
          quantization,
        },
        machine: { description: 'this machine (in process)', logicalCpus: cpus().length },
      });
      const plan = await planDeployment({
        model: model.summary,
        forecast,
        costProfile: { compute: profile },
        workload: { tokensPerBatch: forecast.tokensPerBatch, sloMs: options.sloMs },
        strategy: 'ods',
        seed: options.seed,
        logger: io.logger,
      });
      const evaluation = await evaluateLikelihood(model, tokens);
      rows.push({
        format,
        bytesPerExpert: model.summary.bytesPerExpert,
        usdPerMillionTokens: costPerMillionTokens(plan.predicted, forecast.tokensPerBatch),
        latencyMs: plan.predicted.latencyMs,
        memoryMBTotal: plan.layers.reduce(
          (sum, layer) => sum + layer.functions.reduce((n, fn) => n + fn.memoryMB * fn.replicas, 0),
          0,
        ),
        perTokenMsOneThread: linearSummary(profile, 1).perTokenMs,
        bitsPerToken: evaluation.bitsPerToken,
        bitsRelativeToFloat32: 1,
      });
    } finally {
      await model.close();
    }
  }
  for (const row of rows) row.bitsRelativeToFloat32 = row.bitsPerToken / rows[0]!.bitsPerToken;
  return rows;
}

/** Runs the demo end to end with what the packages provide; every figure comes from a real run. */
export async function runDemo(
  options: DemoOptions,
  io: { output: Output; logger: Logger },
): Promise<DemoResult> {
  const steps: DemoStep[] = [];
  const model: MoeModel = await timed(steps, 'load model', async () => {
    const loaded = await loadModel(options.modelDir, {
      threads: 1,
      quantization: options.quantization,
      logger: io.logger,
    });
    const s = loaded.summary;
    return {
      value: loaded,
      detail: `${s.name}: ${s.numLayers} layers, ${s.numExperts} experts top-${s.topK}, hidden ${s.hiddenSize}, ${(s.parameters.total / 1e6).toFixed(2)} M parameters`,
    };
  });
  try {
    const traces = await timed(steps, 'read routing traces', async () => {
      const calibration = await readRoutingTrace(join(options.tracesDir, 'calibration.safetensors'));
      const heldout = await readRoutingTrace(join(options.tracesDir, 'heldout.safetensors'));
      return {
        value: { calibration, heldout } as { calibration: RoutingTrace; heldout: RoutingTrace },
        detail: `calibration ${calibration.numTokens.toLocaleString('en-US')} tokens, held-out ${heldout.numTokens.toLocaleString('en-US')} tokens`,
      };
    });

    const live = await timed(steps, 'profile expert compute', async () => {
      const threadCounts = [1, 2];
      const tokenCounts = [16, 64, 256];
      const bar = io.output.progress('profiling experts', threadCounts.length * tokenCounts.length);
      const points = await measureExpertPoints(model, {
        layer: 0,
        expert: 0,
        threadCounts,
        tokenCounts,
        repetitions: 15,
        onPoint: (done) => bar.tick(done),
      });
      bar.done();
      const fitted = fitComputeProfile(points, {
        subject: {
          model: model.summary.name,
          hiddenSize: model.summary.hiddenSize,
          intermediateSize: model.summary.expertIntermediateSize,
          experts: 'layer 0 expert 0',
        },
        machine: { description: 'this machine (in process)', logicalCpus: cpus().length },
      });
      const one = linearSummary(fitted, 1);
      return {
        value: { profile: fitted, points },
        detail: `median of 15 runs in process at 1 and 2 threads × 16/64/256 tokens: ≈ ${one.fixedMs.toFixed(3)} ms + ${(one.perTokenMs * 1000).toFixed(2)} µs/token at 1 thread`,
      };
    });
    let profile = live.profile;
    // The committed profile times float32 graphs; a quantized run plans with its live measurement.
    if (options.profilePath && existsSync(options.profilePath) && !options.quantization) {
      const path = options.profilePath;
      profile = await timed(steps, 'load measured profile', async () => {
        const measured = loadComputeProfile(path);
        // Re-check: how far the committed profile is from this machine's live points.
        const ratios = live.points.map(
          (point) => point.durationMs / computeTimeAtThreadsMs(measured, point.tokens, point.threads),
        );
        const worst = Math.max(...ratios.map((ratio) => Math.abs(Math.log(ratio))));
        return {
          value: measured,
          detail: `${path.split('/').slice(-2).join('/')}: live points within ×${Math.exp(worst).toFixed(2)} of it`,
        };
      });
    }

    const predictorResult = await timed(steps, 'fit predictor', async () => {
      const predictor = fitPredictor(traces.calibration, { logger: io.logger });
      const evaluation = evaluatePredictor(predictor, traces.heldout, { batchTokens: 1024 });
      return {
        value: { predictor, evaluation },
        detail: `fit on calibration; held-out hit@${traces.heldout.topK} ${evaluation.hitAtK.toFixed(3)}, load_err ${evaluation.loadErr.toFixed(3)}, ${Math.round(evaluation.intervalLevel * 100)} % interval coverage ${evaluation.intervalCoverage.toFixed(2)}`,
      };
    });

    const planning = await timed(steps, 'plan with the BO', async () => {
      const s = model.summary;
      const batchTokens = Math.min(options.tokensPerBatch, traces.heldout.numTokens);
      const forecast = forecastFromPrediction(
        predictorResult.predictor.predictLoad({ tokens: traces.heldout.tokens.subarray(0, batchTokens) }),
        { tokensPerBatch: batchTokens, moeLayers: s.moeLayers },
      );
      const plan = (sloMs: number, seed: number, onProgress?: (done: number, total: number) => void) =>
        planDeployment({
          model: s,
          forecast,
          costProfile: { compute: profile },
          workload: { tokensPerBatch: batchTokens, sloMs },
          strategy: 'bo',
          seed,
          logger: io.logger,
          onProgress: onProgress
            ? (p: { evaluations: number; maxEvaluations: number }) =>
                onProgress(p.evaluations, p.maxEvaluations)
            : undefined,
        });
      const bar = io.output.progress('planning (BO)', 40);
      const chosen = await plan(options.sloMs, options.seed, (done, total) => bar.tick(done, `of ${total}`));
      bar.done();
      // Other SLOs place the chosen plan on a cost–throughput frontier.
      const candidates: DeploymentPlan[] = [];
      const sweep = [0.1, 0.25, 0.5, 4].map((factor) => Math.round(options.sloMs * factor));
      const sweepBar = io.output.progress('planning other SLOs', sweep.length);
      for (const [index, sloMs] of sweep.entries()) {
        try {
          candidates.push(await plan(sloMs, options.seed));
        } catch (error) {
          io.logger.debug('no plan for this SLO', { sloMs, error: String(error) });
        }
        sweepBar.tick(index + 1);
      }
      sweepBar.done();
      const functions = chosen.layers.reduce((sum, layer) => sum + layer.functions.length, 0);
      return {
        value: { plan: chosen, candidates, forecast },
        detail: `${chosen.search?.evaluations ?? '?'} evaluations; ${functions} functions; predicted $${costPerMillionTokens(chosen.predicted, batchTokens).toPrecision(3)}/M tokens, ${Math.round(chosen.predicted.latencyMs)} ms per ${batchTokens}-token batch (SLO ${options.sloMs} ms)`,
      };
    });
    const quantizedRows =
      options.quantizedRows === false
        ? undefined
        : await timed(steps, 'quantized rows (float32, int8, int4)', async () => {
            const rows = await demoQuantizedRows(options, traces.heldout, planning.forecast, io);
            return {
              value: rows,
              detail: rows
                .map(
                  (row) =>
                    `${row.format === 'none' ? 'float32' : row.format} $${row.usdPerMillionTokens.toPrecision(3)}/M, ${row.bitsPerToken.toFixed(3)} bits/byte`,
                )
                .join('; '),
            };
          });
    const runtime: LocalRuntime = await timed(steps, 'start the local Lambda runtime', async () => {
      // Function processes here load the handler (from source under tsx) and onnxruntime: on a busy
      // machine that can exceed Lambda's 10 s INIT limit, which is not what this demo measures.
      const started = await startLocalRuntime({
        port: 0,
        s3Port: 0,
        initTimeoutMs: 60_000,
        logger: io.logger,
      });
      return { value: started, detail: `Lambda API ${started.endpoint} (INIT limit 60 s)` };
    });
    let generated: { completion: string; bill: NonNullable<DemoResult['bill']> };
    try {
      const plan = planning.plan;
      await timed(steps, 'deploy to the local runtime', async () => {
        const functions = plan.layers.reduce(
          (sum, layer) => sum + layer.functions.reduce((n, fn) => n + fn.replicas, 0),
          0,
        );
        const bar = io.output.progress('deploying', functions);
        const result = await deployPlan(plan, {
          target: 'local',
          endpoint: runtime.endpoint,
          graphs: (layer, expert) => buildExpertGraph(model, layer, expert),
          logger: io.logger,
        });
        bar.done();
        const sizes = [
          ...new Set(result.functions.map((fn) => fn.memoryMB).filter((m) => m !== undefined)),
        ].sort((a, b) => (a ?? 0) - (b ?? 0));
        return {
          value: result,
          detail: `${result.functions.length} functions created (memory ${sizes.join('/')} MB), one per expert group and replica`,
        };
      });
      generated = await timed(steps, 'generate through the deployed experts', async () => {
        const executor = recordBilling(
          new LambdaExecutor({
            endpoint: runtime.endpoint,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            logger: io.logger,
          }),
        );
        try {
          const moeStep = createRemoteMoeStep({ plan, executor, logger: io.logger });
          const promptTokens = [...Buffer.from(options.prompt, 'utf8')];
          const bar = io.output.progress('generating', options.maxNewTokens);
          let produced = 0;
          const countingStep: typeof moeStep = Object.assign(
            async (request: Parameters<typeof moeStep>[0]) => {
              const out = await moeStep(request);
              // One call per MoE layer per forward pass: the last layer marks a finished token.
              if (request.layer === model.summary.moeLayers.at(-1))
                bar.tick(Math.min(++produced, options.maxNewTokens));
              return out;
            },
            { summary: moeStep.summary },
          );
          const [result] = await model.generate([promptTokens], {
            maxNewTokens: options.maxNewTokens,
            temperature: options.temperature,
            seed: options.seed,
            moeStep: countingStep,
          });
          bar.done();
          const tokensProcessed = promptTokens.length + result!.tokens.length;
          const rates: LambdaRates = resolveRates({ region: plan.region, arch: plan.arch });
          const totals = billFromReports(executor.reports, rates);
          const bill = {
            ...totals,
            tokensProcessed,
            usdPerMillionTokens: (totals.totalUsd / tokensProcessed) * 1e6,
            priceTable: `${rates.tableVersion} (${rates.region}, ${rates.arch})`,
          };
          return {
            value: { completion: Buffer.from(result!.tokens).toString('utf8'), bill },
            detail: `${result!.tokens.length} tokens; ${totals.invocations.toLocaleString('en-US')} invocations, ${totals.coldStarts} cold starts`,
          };
        } finally {
          await executor.close?.();
        }
      });
      await undeployPlan(plan, { target: 'local', endpoint: runtime.endpoint, logger: io.logger }).catch(
        (error) => io.logger.warn('undeploy failed', { error: String(error) }),
      );
    } finally {
      await runtime.stop();
    }
    const completion = generated.completion;
    const bill = generated.bill;

    const s = model.summary;
    const fromPlan = reportFromPlan(planning.plan, {
      title: 'Switchyard demo',
      subtitle: `${s.name} on the embedded Lambda runtime`,
      traces: [
        { name: 'calibration', trace: traces.calibration },
        { name: 'held-out', trace: traces.heldout },
      ],
      candidates: planning.candidates,
    });
    const evaluation = predictorResult.evaluation;
    const report: ReportData = {
      ...fromPlan,
      highlights: [
        ...(fromPlan.highlights ?? []),
        {
          label: 'billed this run',
          value: `${bill.gbSeconds.toPrecision(3)} GB-s`,
          detail: `$${bill.totalUsd.toPrecision(3)} · ${bill.invocations.toLocaleString('en-US')} invocations (runtime REPORT lines)`,
        },
        {
          label: `predictor hit@${s.topK}`,
          value: evaluation.hitAtK.toFixed(3),
          detail: `load_err ${evaluation.loadErr.toFixed(3)} on held-out`,
        },
      ],
      text: {
        prompt: options.prompt,
        completion,
        generatedBy: `every routed expert ran in a deployed function on the local Lambda runtime (${bill.invocations.toLocaleString('en-US')} invocations)`,
      },
      notes: [
        ...(fromPlan.notes ?? []),
        `The run's bill is the sum of the ${bill.invocations.toLocaleString('en-US')} REPORT lines the local runtime returned while generating ${bill.tokensProcessed} tokens one at a time (${bill.gbSeconds.toPrecision(3)} GB-s, $${bill.totalUsd.toPrecision(3)} at price table ${bill.priceTable}); decoding one token per step is far from the ${planning.plan.workload.tokensPerBatch}-token batches the plan is sized for, so its $ per token is not comparable with the projected figures.`,
        ...steps
          .filter((step) => step.status === 'missing')
          .map((step) => `Missing: ${step.step} — ${step.detail}.`),
      ],
    };
    return {
      text: { prompt: options.prompt, completion, generatedBy: 'through the deployed expert functions' },
      bill,
      steps,
      profile,
      predictor: {
        hitAtK: evaluation.hitAtK,
        loadErr: evaluation.loadErr,
        intervalCoverage: evaluation.intervalCoverage,
        intervalLevel: evaluation.intervalLevel,
        tokens: evaluation.tokens,
        batchTokens: evaluation.batchTokens,
      },
      plan: planning.plan,
      quantizedRows,
      report,
    };
  } finally {
    await model.close();
  }
}
