import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DeploymentPlan,
  type ExpertQuantization,
  parseJson,
  parseWithSchema,
  readRoutingTrace,
  SwitchyardError,
  weightMatrixBytes,
} from '@switchyard/core';
import { loadComputeProfile } from '@switchyard/cost-model';
import { loadCheckpoint, summarizeCheckpoint } from '@switchyard/model';
import {
  forecastFromPopularity,
  forecastFromPrediction,
  forecastFromTrace,
  type LoadForecast,
  loadForecastSchema,
  nominalComputeProfile,
  type PlannerModel,
  type PlannerStrategy,
  paperShape,
  planDeployment,
  plannerModelFromSummary,
  plannerStrategies,
  popularityFromCounts,
  SloInfeasibleError,
} from '@switchyard/optimizer';
import { readPredictorFile } from '@switchyard/predictor';
import { InvalidArgumentError } from 'commander';
import type { CliEnv } from '../env.js';
import { addExamples, addJsonOption } from '../help.js';
import {
  parseIntegerOption,
  parsePositiveIntegerOption,
  parsePositiveNumberOption,
  readJsonFile,
  requireFile,
  writeTextFile,
} from '../io.js';
import { modelReferenceOf, resolveModelArgument } from '../model-argument.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import type { CommandRegistrar } from './index.js';

interface PlanFlags extends QuantizeFlags {
  model: string;
  traces?: string;
  predictor?: string;
  tokensPerBatch: number;
  sloMs: number;
  strategy: PlannerStrategy;
  seed: number;
  maxEvaluations: number;
  computeProfile?: string;
  out: string;
  json?: boolean;
}

function parseStrategy(value: string): PlannerStrategy {
  if (!(plannerStrategies as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${plannerStrategies.join(', ')}, got "${value}"`);
  return value as PlannerStrategy;
}

/** Expert popularity from the bundled switch-base-128 counts (real skew) for a model without traces. */
function bundledPopularity(fixturesDir: string, model: PlannerModel): number[][] {
  const file = join(fixturesDir, 'data', 'real-routing', 'switch-base-128-expert-counts.json');
  if (!existsSync(file))
    throw new SwitchyardError({
      code: 'NOT_FOUND',
      message: `no routing trace given and the bundled popularity file is missing: ${file}; pass --traces <file>`,
    });
  const json = parseJson(readFileSync(file, 'utf8'), file) as {
    expert_usage_by_layer: Record<string, Record<string, number>>;
  };
  const layers = Object.values(json.expert_usage_by_layer).map((layer) => Object.values(layer));
  if (model.numExperts > (layers[0]?.length ?? 0))
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `the bundled popularity covers at most ${layers[0]?.length ?? 0} experts, the model has ${model.numExperts}; pass --traces <file>`,
      location: '--model',
    });
  return popularityFromCounts(layers, {
    numLayers: model.moeLayers.length,
    numExperts: model.numExperts,
    seed: 0,
  });
}

/** The planner's view of a checkpoint (or paper:<shape>) and its expert matrices per FFN. */
export async function resolveModel(
  spec: string,
  env: CliEnv,
  quantization: ExpertQuantization | undefined,
): Promise<{ model: PlannerModel; matrices: number }> {
  if (spec.startsWith('paper:')) {
    const model = paperShape(spec.slice('paper:'.length));
    if (!quantization) return { model, matrices: 2 };
    // A paper expert is W₁ H×F + b₁ + W₂ F×H + b₂: the matrices in the format, the biases float32.
    const H = model.hiddenSize;
    const F = model.expertIntermediateSize;
    const bytesPerExpert =
      weightMatrixBytes(H, F, quantization) + weightMatrixBytes(F, H, quantization) + 4 * (F + H);
    return { model: { ...model, bytesPerExpert, quantization }, matrices: 2 };
  }
  const { directory: dir, name } = resolveModelArgument(spec, undefined, env);
  requireFile(join(dir, 'config.json'), 'config.json of the model');
  const summary = summarizeCheckpoint(await loadCheckpoint(dir), name, quantization);
  // Hugging Face MoE experts are gated (gate, up, down): three matrices.
  return { model: plannerModelFromSummary(summary), matrices: 3 };
}

function summarise(plan: DeploymentPlan, out: string) {
  const lambdaml = plan.baselines.lambdaml;
  const cpuCluster = plan.baselines.cpuCluster;
  const saving = (baseline?: { costUsdPerBatch: number }) =>
    baseline && baseline.costUsdPerBatch > 0
      ? 1 - plan.predicted.costUsdPerBatch / baseline.costUsdPerBatch
      : null;
  return {
    strategy: plan.strategy,
    model: plan.model.name,
    tokensPerBatch: plan.workload.tokensPerBatch,
    sloMs: plan.workload.sloMs,
    costUsdPerBatch: plan.predicted.costUsdPerBatch,
    costUsdPerMillionTokens: plan.predicted.costUsdPerMillionTokens ?? null,
    latencyMs: plan.predicted.latencyMs,
    sloMet: plan.predicted.sloMet,
    priceTable: { version: plan.priceTable.version, date: plan.priceTable.date },
    baselines: {
      lambdaml: lambdaml
        ? { costUsdPerBatch: lambdaml.costUsdPerBatch, latencyMs: lambdaml.latencyMs }
        : null,
      cpuCluster: cpuCluster
        ? { costUsdPerBatch: cpuCluster.costUsdPerBatch, latencyMs: cpuCluster.latencyMs }
        : null,
    },
    savingVsLambdaml: saving(lambdaml),
    savingVsCpuCluster: saving(cpuCluster),
    evaluations: plan.search?.evaluations ?? 0,
    elapsedMs: plan.search?.elapsedMs ?? 0,
    out,
  };
}

export const registerPlan: CommandRegistrar = (program, context) => {
  const command = program
    .command('plan')
    .description(
      'plan memory, replicas, transport and β for every expert function at the lowest billed cost under an SLO',
    )
    .argument('[model]', 'checkpoint directory, hub id (org/name) or paper:<shape>, e.g. paper:bert-moe-12x4')
    .option('--model <model>', 'the same as the positional model argument')
    .option('--traces <file>', 'routing trace (.safetensors with .json sidecar) for per-layer expert load')
    .option(
      '--predictor <file>',
      'load forecast JSON (per layer: mean, low, high tokens per expert for one batch)',
    )
    .requiredOption('--tokens-per-batch <n>', 'tokens per batch', parsePositiveIntegerOption)
    .requiredOption('--slo-ms <ms>', 'latency SLO of the MoE layers per batch', parsePositiveNumberOption)
    .option(
      '--strategy <name>',
      `one of ${plannerStrategies.join(', ')}`,
      parseStrategy,
      'bo' as PlannerStrategy,
    )
    .option('--seed <n>', 'random seed', parseIntegerOption, 0)
    .option('--max-evaluations <n>', 'evaluation budget of the knob search', parsePositiveIntegerOption, 40)
    .option(
      '--compute-profile <file>',
      'measured compute profile JSON (default: a nominal FLOP-based profile)',
    )
    .requiredOption('--out <file>', 'where to write plan.json (core deployment-plan schema v1)');
  addQuantizeOptions(command);
  addJsonOption(command);
  addExamples(command, [
    {
      command:
        'switchyard plan --model paper:bert-moe-12x4 --tokens-per-batch 10240 --slo-ms 20000 --out plan.json',
      description: "plan the paper's BERT-MoE 12×4 with real popularity skew",
    },
    {
      command:
        'switchyard plan --model fixtures/checkpoints/shakespeare-mixtral-8x2 --traces fixtures/traces/shakespeare-mixtral-8x2/calibration.safetensors --tokens-per-batch 1024 --slo-ms 3000 --strategy ods --out plan.json --json',
      description: 'plan a checkpoint from its routing trace with the ODS baseline, JSON summary',
    },
  ]);
  command.action(async (positional: string | undefined, flags: PlanFlags) => {
    flags.model = modelReferenceOf(positional, flags.model) ?? '';
    if (flags.model === '')
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message:
          'no model given: pass a checkpoint directory, a hub id or paper:<shape> as the first argument',
        location: 'model',
      });
    // A measured profile says which format it timed; the plan's format must be that one.
    const measured = flags.computeProfile
      ? loadComputeProfile(requireFile(flags.computeProfile, 'compute profile'))
      : undefined;
    const quantization = quantizationFromFlags(
      flags,
      measured ? { quantization: measured.subject.quantization, source: flags.computeProfile! } : undefined,
    );
    const { model, matrices } = await resolveModel(flags.model, context.env, quantization);
    const trace = flags.traces
      ? await readRoutingTrace(requireFile(flags.traces, 'routing trace'))
      : undefined;
    if (trace && (trace.meta.num_experts !== model.numExperts || trace.numLayers !== model.moeLayers.length))
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `the trace has ${trace.numLayers} layers × ${trace.meta.num_experts} experts, the model ${model.moeLayers.length} × ${model.numExperts}`,
        location: flags.traces,
      });
    let forecast: LoadForecast;
    if (flags.predictor) {
      const raw = readJsonFile(flags.predictor, 'predictor or load forecast') as Record<string, unknown>;
      if (raw && typeof raw === 'object' && 'tokensPerBatch' in raw && 'layers' in raw) {
        forecast = parseWithSchema(loadForecastSchema, raw, flags.predictor);
      } else {
        if (!trace)
          throw new SwitchyardError({
            code: 'INVALID_INPUT',
            message:
              'a predictor predicts the load of given tokens: pass --traces <file> with the batch text as well',
            location: '--predictor',
          });
        const predictor = await readPredictorFile(requireFile(flags.predictor, 'predictor'));
        // Token features only (as when planning ahead): the batch's first tokens, scaled up if the trace is shorter.
        const batch = trace.tokens.subarray(0, Math.min(trace.tokens.length, flags.tokensPerBatch));
        forecast = forecastFromPrediction(predictor.predictLoad({ tokens: batch }), {
          tokensPerBatch: flags.tokensPerBatch,
          moeLayers: model.moeLayers,
        });
      }
    } else if (trace) {
      forecast = forecastFromTrace(trace, { tokensPerBatch: flags.tokensPerBatch });
    } else {
      forecast = forecastFromPopularity(bundledPopularity(context.fixturesDir, model), {
        tokensPerBatch: flags.tokensPerBatch,
        topK: model.topK,
        layers: model.moeLayers,
      });
    }
    const compute = measured ?? nominalComputeProfile({ ...model, matrices });
    const searching = flags.strategy === 'bo' || flags.strategy === 'random';
    const progress =
      searching && !flags.json ? context.output.progress('planning', flags.maxEvaluations) : undefined;
    const plan = await planDeployment({
      model,
      forecast,
      costProfile: { compute },
      workload: { tokensPerBatch: flags.tokensPerBatch, sloMs: flags.sloMs },
      strategy: flags.strategy,
      seed: flags.seed,
      maxEvaluations: flags.maxEvaluations,
      logger: context.logger,
      onProgress: (update) =>
        progress?.tick(
          update.evaluations,
          update.bestCostUsd === undefined ? '' : `best $${update.bestCostUsd.toExponential(3)}`,
        ),
    }).catch((error: unknown) => {
      // The library says "raise the SLO"; the CLI names the flag that does it.
      if (!SloInfeasibleError.isInstance(error)) throw error;
      throw new SloInfeasibleError({
        sloMs: error.sloMs,
        bestAchievableLatencyMs: error.bestAchievableLatencyMs,
        message: `no deployment meets the ${error.sloMs} ms SLO; the best achievable latency is ${error.bestAchievableLatencyMs.toFixed(1)} ms — raise --slo-ms to at least that or lower --tokens-per-batch`,
        cause: error,
      });
    });
    progress?.done();
    const out = await writeTextFile(flags.out, `${JSON.stringify(plan, null, 2)}\n`);
    const summary = summarise(plan, out);
    context.output.result(summary, () => {
      const usd = (value: number) => `$${value.toExponential(4)}`;
      const pct = (value: number | null) => (value === null ? '' : `${(value * 100).toFixed(1)} %`);
      context.output.table(
        [
          {
            deployment: `${plan.strategy} (this plan)`,
            costUsdPerBatch: usd(summary.costUsdPerBatch),
            latencyMs: Math.round(summary.latencyMs),
            sloMet: summary.sloMet ? 'yes' : 'NO',
            saving: '',
          },
          ...(summary.baselines.lambdaml
            ? [
                {
                  deployment: 'LambdaML (3008 MB, no replicas)',
                  costUsdPerBatch: usd(summary.baselines.lambdaml.costUsdPerBatch),
                  latencyMs: Math.round(summary.baselines.lambdaml.latencyMs),
                  sloMet: summary.baselines.lambdaml.latencyMs <= flags.sloMs ? 'yes' : 'NO',
                  saving: pct(summary.savingVsLambdaml),
                },
              ]
            : []),
          ...(summary.baselines.cpuCluster
            ? [
                {
                  deployment: 'CPU cluster (m6a.32xlarge)',
                  costUsdPerBatch: usd(summary.baselines.cpuCluster.costUsdPerBatch),
                  latencyMs: Math.round(summary.baselines.cpuCluster.latencyMs),
                  sloMet: summary.baselines.cpuCluster.latencyMs <= flags.sloMs ? 'yes' : 'NO',
                  saving: pct(summary.savingVsCpuCluster),
                },
              ]
            : []),
        ],
        {
          title: `${plan.model.name}: ${plan.workload.tokensPerBatch} tokens/batch, SLO ${plan.workload.sloMs} ms, ${summary.evaluations} evaluations in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
        },
      );
      context.output.line(
        `prices: table ${plan.priceTable.version}, dated ${plan.priceTable.date} (${plan.region}, ${plan.arch})`,
      );
      if (!flags.computeProfile)
        context.output.line(
          `compute: nominal FLOP-based profile${quantization ? ' at float32 speed' : ''} (pass --compute-profile for measured figures)`,
        );
      if (quantization)
        context.output.line(
          `experts: ${quantization.format}${quantization.format === 'int4' ? ` (block ${quantization.blockSize})` : ''}, ${plan.model.bytesPerExpert} bytes each`,
        );
      context.output.line(`wrote ${out}`);
    });
  });
};
