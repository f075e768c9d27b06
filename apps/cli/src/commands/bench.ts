import { resolve } from 'node:path';
import { paperBenchShapes, runPaperBench } from '../bench/paper-bench.js';
import { addExamples, addJsonOption } from '../help.js';
import type { CommandRegistrar } from './index.js';

interface PaperFlags {
  out: string;
  profile?: boolean;
  validation: boolean;
  quick?: boolean;
  arrivalRate: string;
  json?: boolean;
}

export const registerBench: CommandRegistrar = (program, context) => {
  const bench = program.command('bench').description('benchmarks');
  const paper = bench
    .command('paper')
    .description(
      "the INFOCOM 2025 paper's headline comparison at paper scale: Switchyard vs the paper's method, LambdaML and a CPU cluster",
    )
    .option('--out <dir>', 'output directory', 'bench-results/paper')
    .option('--profile', 're-profile the 768×3072 expert on this machine (default: the committed profile)')
    .option('--no-validation', 'skip the measured run on the local Lambda runtime')
    .option('--quick', 'one shape (bert-moe-12x4), fewer BO evaluations')
    .option('--arrival-rate <n>', 'Poisson arrival rate, batches per second', '0.1');
  addJsonOption(paper);
  addExamples(paper, [
    { command: 'switchyard bench paper', description: 'all paper shapes plus the measured validation' },
    { command: 'switchyard bench paper --quick --no-validation --json', description: 'one shape, JSON' },
  ]);
  paper.action(async (flags: PaperFlags) => {
    const arrivalRatePerS = Number(flags.arrivalRate);
    const result = await runPaperBench({
      fixturesDir: context.fixturesDir,
      outDir: resolve(flags.out),
      shapes: flags.quick ? ['bert-moe-12x4'] : paperBenchShapes,
      ...(flags.profile ? { profile: true } : {}),
      validation: flags.validation,
      arrivalRatePerS: Number.isFinite(arrivalRatePerS) && arrivalRatePerS > 0 ? arrivalRatePerS : 0.1,
      maxEvaluations: flags.quick ? 20 : 40,
      logger: context.logger,
      onProgress: (message) => {
        if (!flags.json) context.output.line(message);
      },
    });
    const json = {
      models: result.models.map((m) => ({
        model: m.model,
        sloMs: m.sloMs,
        rows: m.rows,
        savingVsCpuCluster: m.savingVsCpuCluster,
        savingVsLambdaml: m.savingVsLambdaml,
        savingVsPaper: m.savingVsPaper,
        throughputLossVsLambdaml: m.throughputLossVsLambdaml,
        targetsMet: m.targetsMet,
      })),
      validation: result.validation
        ? {
            simulatedGbSeconds: result.validation.simulatedGbSeconds,
            measuredGbSeconds: result.validation.measuredGbSeconds,
            relativeError: result.validation.relativeError,
            invocations: result.validation.invocations,
          }
        : null,
      wallTimeS: result.wallTimeS,
    };
    context.output.result(json, () => {
      context.output.table(
        result.models.flatMap((m) =>
          Object.values(m.rows).map((row) => ({
            model: m.model,
            deployment: row.deployment,
            '$/M tokens': Number(row.costUsdPerMillionTokens.toPrecision(4)),
            'tokens/s': Math.round(row.throughputTokensPerS),
            'latency ms': Math.round(row.latencyMs),
            SLO: row.sloMet ? 'met' : 'MISSED',
          })),
        ),
        { title: 'Paper benchmark' },
      );
      if (result.validation)
        context.output.line(
          `validation: simulated ${result.validation.simulatedGbSeconds.toFixed(4)} GB-s, measured ${result.validation.measuredGbSeconds.toFixed(4)} GB-s (${(result.validation.relativeError * 100).toFixed(1)} %)`,
        );
      context.output.line(`wrote ${resolve(flags.out)}/paper.{json,md} in ${result.wallTimeS.toFixed(1)} s`);
    });
  });
};
