import { resolve } from 'node:path';
import { SwitchyardError } from '@switchyard/core';
import { paperBenchShapes, runPaperBench } from '../bench/paper-bench.js';
import { addExamples, addJsonOption } from '../help.js';
import type { CommandRegistrar } from './index.js';

interface PaperFlags {
  out: string;
  profile?: boolean;
  validation: boolean;
  quick?: boolean;
  arrivalRate: string;
  cpuInstance?: string;
  cpuUsdPerHour?: string;
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
    .option('--arrival-rate <n>', 'Poisson arrival rate, batches per second', '0.1')
    .option('--cpu-instance <type>', 'CPU cluster instance class from the price table', 'm6a.32xlarge')
    .option('--cpu-usd-per-hour <n>', "override the CPU instance's on-demand $/hour (e.g. a reserved rate)");
  addJsonOption(paper);
  addExamples(paper, [
    { command: 'switchyard bench paper', description: 'all paper shapes plus the measured validation' },
    { command: 'switchyard bench paper --quick --no-validation --json', description: 'one shape, JSON' },
  ]);
  paper.action(async (flags: PaperFlags) => {
    const arrivalRatePerS = Number(flags.arrivalRate);
    const cpuUsdPerHour = flags.cpuUsdPerHour === undefined ? undefined : Number(flags.cpuUsdPerHour);
    if (cpuUsdPerHour !== undefined && !(cpuUsdPerHour >= 0))
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `--cpu-usd-per-hour must be a non-negative number, got ${flags.cpuUsdPerHour}`,
      });
    const result = await runPaperBench({
      fixturesDir: context.fixturesDir,
      outDir: resolve(flags.out),
      shapes: flags.quick ? ['bert-moe-12x4'] : paperBenchShapes,
      profile: flags.profile,
      validation: flags.validation,
      arrivalRatePerS: Number.isFinite(arrivalRatePerS) && arrivalRatePerS > 0 ? arrivalRatePerS : 0.1,
      maxEvaluations: flags.quick ? 20 : 40,
      cpuInstanceType: flags.cpuInstance,
      cpuUsdPerHour,
      logger: context.logger,
      onProgress: (message) => {
        if (!flags.json) context.output.line(message);
      },
    });
    const json = {
      models: result.models.map((m) => ({
        model: m.model,
        sloMs: m.sloMs,
        arrivalRatePerS: m.arrivalRatePerS,
        rows: m.rows,
        cpuSensitivity: m.cpuSensitivity,
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
            memoryMB: result.validation.memoryMB,
            invocations: result.validation.invocations,
            runs: result.validation.runs.map(({ reports: _reports, ...run }) => run),
            invocationOverhead: {
              fixedMs: result.validation.invocationOverhead.fixedMs,
              perByteMs: result.validation.invocationOverhead.perByteMs,
            },
          }
        : null,
      wallTimeS: result.wallTimeS,
    };
    context.output.result(json, () => {
      context.output.table(
        result.models.flatMap((m) =>
          [...Object.values(m.rows), m.cpuSensitivity.rightSized].map((row) => ({
            model: m.model,
            deployment: row.deployment,
            '$/M tokens': Number(row.costUsdPerMillionTokens.toPrecision(4)),
            'tokens/s': Math.round(row.throughputTokensPerS),
            'latency ms': Math.round(row.latencyMs),
            SLO: row.sloMet ? 'met' : 'MISSED',
            'CPU util': row.utilization === undefined ? '' : `${(row.utilization * 100).toFixed(1)} %`,
          })),
        ),
        { title: 'Paper benchmark' },
      );
      if (result.validation)
        context.output.line(
          result.validation.runs
            .map(
              (run) =>
                `validation ${run.memoryMB} MB: simulated ${run.simulatedGbSeconds.toFixed(4)} GB-s, measured ${run.measuredGbSeconds.toFixed(4)} GB-s (${(run.relativeError * 100).toFixed(1)} %, load ${run.loadAverage1m.toFixed(2)})`,
            )
            .join('\n'),
        );
      context.output.line(`wrote ${resolve(flags.out)}/paper.{json,md} in ${result.wallTimeS.toFixed(1)} s`);
    });
  });
};
