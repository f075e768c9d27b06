import { SwitchyardError } from '@switchyard/core';
import {
  defaultPriceTable,
  lambdaCost,
  lambdaCostOptionsSchema,
  loadPriceTable,
} from '@switchyard/cost-model';
import { addExamples, addJsonOption } from '../help.js';
import type { CommandRegistrar } from './index.js';

interface CostFlags {
  memory: string;
  durationMs: string;
  invocations: string;
  arch: string;
  region: string;
  freeTier: boolean;
  priceTable?: string;
  json?: boolean;
}

/** Library field → the flag a user typed, so errors name what they can fix. */
const flagFor: Record<string, string> = {
  memoryMB: '--memory',
  durationMs: '--duration-ms',
  invocations: '--invocations',
  arch: '--arch',
  region: '--region',
};

function numberFlag(value: string): number {
  return value.trim() === '' ? Number.NaN : Number(value);
}

export const registerCost: CommandRegistrar = (program, context) => {
  const command = program
    .command('cost')
    .description(
      'price AWS Lambda invocations from the dated price table (duration tiers, requests, free tier)',
    )
    .requiredOption('--memory <MB>', 'function memory, 128–10240 MB in 1 MB steps')
    .requiredOption('--duration-ms <ms>', 'run time of one invocation (billed rounded up to 1 ms)')
    .requiredOption('--invocations <n>', 'invocations in the month')
    .option('--arch <arch>', 'x86_64 or arm64', 'x86_64')
    .option('--region <region>', 'AWS region in the price table', 'us-east-1')
    .option('--no-free-tier', 'do not subtract the monthly free tier (1 M requests, 400,000 GB-s)')
    .option('--price-table <file>', 'JSON price-table override merged over the built-in table');
  addJsonOption(command);
  addExamples(command, [
    {
      command: 'switchyard cost --memory 512 --duration-ms 1000 --invocations 3000000 --no-free-tier',
      description: "AWS's pricing example: 1.5 M GB-s, $25.00 compute + $0.60 requests",
    },
    'switchyard cost --memory 2048 --duration-ms 120 --invocations 1000000 --arch arm64 --json',
  ]);
  command.action((flags: CostFlags) => {
    const options = lambdaCostOptionsSchema.parse({
      memoryMB: numberFlag(flags.memory),
      durationMs: numberFlag(flags.durationMs),
      invocations: numberFlag(flags.invocations),
      arch: flags.arch,
      region: flags.region,
      freeTier: flags.freeTier,
      priceTablePath: flags.priceTable,
    });
    const table = options.priceTablePath ? loadPriceTable(options.priceTablePath) : defaultPriceTable;
    let result: ReturnType<typeof lambdaCost>;
    try {
      result = lambdaCost(options, table);
    } catch (error) {
      const field = SwitchyardError.isInstance(error) ? error.location : undefined;
      const flag = field ? flagFor[field] : undefined;
      if (!SwitchyardError.isInstance(error) || !flag || !field) throw error;
      throw new SwitchyardError({
        code: error.code,
        message: `${flag}: ${error.message.replace(`${field}: `, '').replace(/ \(at [^)]*\)$/, '')}`,
        cause: error,
      });
    }
    const summary = {
      memoryMB: options.memoryMB,
      durationMs: options.durationMs,
      billedDurationMs: result.billedDurationMs,
      invocations: options.invocations,
      arch: result.arch,
      region: result.region,
      freeTier: result.freeTierApplied,
      gbSeconds: result.gbSeconds,
      computeUsd: result.computeUsd,
      requestUsd: result.requestUsd,
      storageUsd: result.storageUsd,
      totalUsd: result.totalUsd,
      priceTableDate: result.priceTableDate,
      priceTableVersion: result.priceTableVersion,
    };
    context.output.result(summary, () => {
      const usd = (value: number): string => `$${value.toFixed(value !== 0 && value < 0.01 ? 6 : 2)}`;
      context.output.table(
        [
          {
            item: 'gbSeconds',
            value: result.gbSeconds.toLocaleString('en-US', { maximumFractionDigits: 3 }),
          },
          { item: 'computeUsd', value: usd(result.computeUsd) },
          { item: 'requestUsd', value: usd(result.requestUsd) },
          { item: 'totalUsd', value: usd(result.totalUsd) },
        ],
        {
          title: `${options.invocations.toLocaleString('en-US')} × ${options.durationMs} ms (billed ${result.billedDurationMs} ms) at ${options.memoryMB} MB, ${result.arch}, ${result.region}, free tier ${result.freeTierApplied ? 'applied' : 'not applied'}`,
        },
      );
      context.output.line(`price table ${result.priceTableVersion}, dated ${result.priceTableDate}`);
    });
  });
};
