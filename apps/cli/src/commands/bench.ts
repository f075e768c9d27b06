import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SwitchyardError } from '@switchyard/core';
import { paperBenchShapes, runPaperBench } from '../bench/paper-bench.js';
import { paperHeadlineMarkdown, replaceReadmeHeadline } from '../bench/paper-headline.js';
import { runPaperValidation, type ValidationResult, validationFileStem } from '../bench/paper-validation.js';
import { addExamples, addJsonOption } from '../help.js';
import { requireFile } from '../io.js';
import { addQuantizeOptions, type QuantizeFlags, quantizationFromFlags } from '../quantize-option.js';
import type { CommandRegistrar } from './index.js';

interface PaperFlags extends QuantizeFlags {
  out: string;
  profile?: boolean;
  validation: boolean;
  quantized: boolean;
  quick?: boolean;
  shapes?: string;
  cpuInstance: string;
  cpuVcpus: string;
  cpuUsdPerHour?: string;
  maxBatchWait: string;
  cpuEngines: string;
  readme?: string;
  json?: boolean;
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value))
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `${flag} must be a positive number, got ${text}`,
    });
  return value;
}

function validationSummaryLine(v: ValidationResult): string {
  const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
  return `validation: ${v.batches} batches at ${v.runs.map((run) => run.memoryMB).join(', ')} MB, error with the rows' transport terms median ${pct(v.medianRelativeError)}, worst ${pct(v.worstRelativeError)} (${v.batchesWithinTarget} within ±${pct(v.target)}); handler only median ${pct(v.medianRelativeErrorLocalTransport)}, worst ${pct(v.worstRelativeErrorLocalTransport)}`;
}

export const registerBench: CommandRegistrar = (program, context) => {
  const bench = program.command('bench').description('benchmarks');
  const paper = bench
    .command('paper')
    .description(
      "the INFOCOM 2025 paper's comparison at paper scale, billed on held-out routing: Switchyard vs the paper's method, LambdaML, ablations and three CPU baselines over traffic (architecture/paper-benchmark.md)",
    )
    .option('--out <dir>', 'output directory', 'bench-results/paper')
    .option('--profile', 're-profile the 768×3072 expert on this machine (default: the committed profile)')
    .option('--no-validation', 'skip the measured run on the local Lambda runtime')
    .option('--no-quantized', 'skip the quantized rows (float32 vs int8 vs int4 per shape)')
    .option('--quick', 'fewer BO evaluations, batches, SLO factors and traffic (marked QUICK in the files)')
    .option('--shapes <list>', `comma-separated shapes (default all: ${paperBenchShapes.join(', ')})`)
    .option('--cpu-instance <type>', "the CPU baselines' instance type from the price table", 'm6a.32xlarge')
    .option('--cpu-vcpus <n>', 'vCPUs per CPU instance (a size of that family, priced per vCPU)', '16')
    .option('--cpu-usd-per-hour <n>', "override the CPU instance's $/hour (e.g. a reserved rate)")
    .option(
      '--max-batch-wait <s>',
      'longest a serverless batch waits to fill before it goes out partial',
      '10',
    )
    .option(
      '--cpu-engines <file>',
      'CPU-engine results (llama.cpp beside the in-process engine); skipped when missing',
      'bench-results/cpu-engines.json',
    )
    .option('--readme <file>', 'rewrite the paper-headline block of this README with the new figures');
  // --quantize picks the quantized rows' format beside float32: int8, int4 (--quantize-block), or
  // none for float32 alone (no quantized rows); without it both int8 and int4 (block 32) are added.
  addQuantizeOptions(paper);
  addJsonOption(paper);
  addExamples(paper, [
    {
      command: 'switchyard bench paper --readme README.md',
      description: 'all shapes, the validation, and README "Results" rewritten from the figures',
    },
    {
      command: 'switchyard bench paper --quick --no-validation --shapes bert-moe-12x4 --json',
      description: 'one shape, quick, JSON',
    },
    {
      command: 'switchyard bench paper --no-validation --quantize int4 --quantize-block 128',
      description: 'quantized rows for float32 and int4 (block 128) only; --quantize none drops them',
    },
  ]);
  paper.action(async (flags: PaperFlags) => {
    const shapes = flags.shapes?.split(',').map((shape) => shape.trim());
    const unknown = shapes?.filter((shape) => !(paperBenchShapes as readonly string[]).includes(shape));
    if (unknown && unknown.length > 0)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `--shapes: unknown ${unknown.join(', ')}; known: ${paperBenchShapes.join(', ')}`,
      });
    if (flags.quantize !== undefined && !flags.quantized)
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `--quantize ${flags.quantize} chooses the quantized rows' format, which --no-quantized drops; pass one of them`,
        location: '--quantize',
      });
    const quantization = quantizationFromFlags(flags);
    const quantized = flags.quantized && flags.quantize !== 'none';
    const cpuVcpus = positive(flags.cpuVcpus, '--cpu-vcpus');
    if (!Number.isInteger(cpuVcpus))
      throw new SwitchyardError({
        code: 'INVALID_INPUT',
        message: `--cpu-vcpus must be a whole number, got ${flags.cpuVcpus}`,
      });
    // Bad input fails before the run (tens of minutes), not after it: the README must exist and carry
    // the headline markers, and a CPU-engine file named on the command line must exist (the default
    // one is skipped, and said so, when it has not been measured yet).
    const readmePath = flags.readme === undefined ? undefined : requireFile(flags.readme, '--readme file');
    if (readmePath) replaceReadmeHeadline(readFileSync(readmePath, 'utf8'), '', readmePath);
    const cpuEnginesFile =
      paper.getOptionValueSource('cpuEngines') === 'cli'
        ? requireFile(flags.cpuEngines, '--cpu-engines file')
        : resolve(flags.cpuEngines);
    const args = [
      'switchyard bench paper',
      ...(flags.quick ? ['--quick'] : []),
      ...(flags.validation ? [] : ['--no-validation']),
      ...(flags.quantized ? [] : ['--no-quantized']),
      ...(flags.quantize ? [`--quantize ${flags.quantize}`] : []),
      ...(flags.quantizeBlock ? [`--quantize-block ${flags.quantizeBlock}`] : []),
      ...(flags.shapes ? [`--shapes ${flags.shapes}`] : []),
      ...(flags.readme ? [`--readme ${flags.readme}`] : []),
    ];
    const result = await runPaperBench({
      fixturesDir: context.fixturesDir,
      outDir: resolve(flags.out),
      ...(shapes ? { shapes } : {}),
      profile: flags.profile,
      validation: flags.validation,
      quick: flags.quick ?? false,
      quantized,
      quantization,
      cpuInstanceType: flags.cpuInstance,
      cpuVcpusPerInstance: cpuVcpus,
      cpuUsdPerHour:
        flags.cpuUsdPerHour === undefined ? undefined : positive(flags.cpuUsdPerHour, '--cpu-usd-per-hour'),
      maxBatchWaitS: positive(flags.maxBatchWait, '--max-batch-wait'),
      cpuEnginesFile,
      command: args.join(' '),
      logger: context.logger,
      onProgress: (message) => {
        if (!flags.json) context.output.line(message);
      },
    });
    if (readmePath)
      writeFileSync(
        readmePath,
        replaceReadmeHeadline(readFileSync(readmePath, 'utf8'), paperHeadlineMarkdown(result), readmePath),
      );
    context.output.result(result, () => {
      context.output.table(
        result.headline.map((h) => ({
          shape: h.model,
          'vs sized-to-load CPU': `${(h.sizedToLoad.saving * 100).toFixed(1)} %`,
          'vs right-sized': `${(h.savingVsRightSized * 100).toFixed(1)} %`,
          'vs LambdaML': `${(h.savingVsLambdaml * 100).toFixed(1)} %`,
          'vs paper': `${(h.savingVsPaper * 100).toFixed(1)} %`,
          'SLO met': `${(h.sloAttainment * 100).toFixed(0)} %`,
          'CPU engine': h.cpuEngine,
        })),
        { title: 'Paper benchmark (billed on held-out batches; details in paper.md)' },
      );
      if (result.quantized)
        context.output.table(
          result.quantized.shapes.flatMap((shape) =>
            shape.rows.map((row) => ({
              model: shape.shape,
              experts: row.format === 'none' ? 'float32' : row.format,
              'bytes/expert': row.bytesPerExpert,
              '$/M tokens': Number(row.costUsdPerMillionTokens.toPrecision(4)),
              'vs float32': `${(row.costRelativeToFloat32 * 100).toFixed(1)} %`,
              'latency ms': Math.round(row.latencyMs),
              SLO: row.sloMet ? 'met' : 'MISSED',
              'bits/byte': row.accuracy ? Number(row.accuracy.bitsPerToken.toFixed(4)) : '',
              'bits vs float32': row.accuracy
                ? `${((row.accuracy.relativeToFloat32 - 1) * 100).toFixed(2)} %`
                : '',
            })),
          ),
          { title: 'Quantized experts (Switchyard BO per format; bits per byte of the bundled model)' },
        );
      if (result.validation) context.output.line(validationSummaryLine(result.validation));
      context.output.line(
        `wrote ${resolve(flags.out)}/paper.{json,md,html} and ${resolve(flags.out)}/headline.md in ${result.wallTimeS.toFixed(1)} s${flags.readme ? `; rewrote the headline in ${flags.readme}` : ''}`,
      );
    });
  });

  const validation = bench
    .command('validation')
    .description(
      'calibrate the simulator\'s invocation overhead on its own plans and token counts, then validate it on the embedded Lambda runtime at 256, 1,024, 1,769 and 3,008 MB on other plans and token counts (architecture/paper-benchmark.md, "Validation")',
    )
    .option('--out <dir>', 'output directory', 'bench-results/paper')
    .option('--quick', 'one calibration round, 256 and 1,769 MB, one batch each (marked QUICK)')
    .option('--calibration <file>', 'validate with this calibration file instead of calibrating again')
    .option(
      '--cpu-emulation <mode>',
      "how functions get their memory's vCPU share: scale (stretch durations by the rule), cgroup (a kernel CPU quota per function process; root, cgroup v1), off; a mode other than scale writes validation-<mode>*",
      'scale',
    );
  addJsonOption(validation);
  addExamples(validation, [
    {
      command: 'switchyard bench validation',
      description: 'calibrate, validate, write validation-calibration.json, validation.{json,md}',
    },
    {
      command: 'switchyard bench validation --cpu-emulation cgroup',
      description:
        "the same with each function process held to its vCPU share by the kernel instead of the runtime's stretch: validation-cgroup*",
    },
  ]);
  validation.action(
    async (flags: {
      out: string;
      quick?: boolean;
      calibration?: string;
      cpuEmulation: string;
      json?: boolean;
    }) => {
      const calibrationFile = flags.calibration
        ? requireFile(flags.calibration, '--calibration file')
        : undefined;
      const cpuEmulation = flags.cpuEmulation;
      if (cpuEmulation !== 'scale' && cpuEmulation !== 'cgroup' && cpuEmulation !== 'off')
        throw new SwitchyardError({
          code: 'INVALID_INPUT',
          message: `--cpu-emulation must be scale, cgroup or off, got ${cpuEmulation}`,
          location: '--cpu-emulation',
        });
      const stem = validationFileStem(cpuEmulation);
      const result = await runPaperValidation({
        fixturesDir: context.fixturesDir,
        outDir: resolve(flags.out),
        quick: flags.quick,
        calibrationFile,
        cpuEmulation,
        logger: context.logger,
        command: [
          'switchyard bench validation',
          ...(flags.quick ? ['--quick'] : []),
          ...(cpuEmulation === 'scale' ? [] : [`--cpu-emulation ${cpuEmulation}`]),
          ...(flags.calibration ? [`--calibration ${flags.calibration}`] : []),
        ].join(' '),
        onProgress: (message) => {
          if (!flags.json) context.output.line(message);
        },
      });
      context.output.result(result, () => {
        context.output.line(validationSummaryLine(result));
        context.output.line(`wrote ${resolve(flags.out)}/${stem}.{json,md}`);
      });
    },
  );
};
