import { OptimizerError } from './errors.js';
import type { PaperBenchmarkModelResult, PaperBenchmarkRow } from './paper-benchmark.js';

/**
 * Markdown table of a benchmark's models: per model the four compared rows, then the right-sized
 * CPU cluster as a sensitivity row (not a target).
 */
export function paperBenchmarkMarkdown(results: readonly PaperBenchmarkModelResult[]): string {
  if (results.length === 0) throw new OptimizerError({ code: 'INVALID_INPUT', message: 'no results' });
  const lines = [
    '| model | deployment | $/batch | $/M tokens | tokens/s | latency ms | SLO met | CPU utilisation | Switchyard saving |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const pct = (value: number) => `${(value * 100).toFixed(2)} %`;
  for (const result of results) {
    const { rows } = result;
    const entries: Array<[PaperBenchmarkRow, string]> = [
      [rows.switchyard, ''],
      [rows.paper, pct(result.savingVsPaper)],
      [rows.lambdaml, pct(result.savingVsLambdaml)],
      [rows.cpuCluster, pct(result.savingVsCpuCluster)],
      [
        { ...result.cpuSensitivity.rightSized, deployment: 'CPU cluster, right-sized (sensitivity)' },
        pct(result.cpuSensitivity.savingVsRightSized),
      ],
    ];
    for (const [row, saving] of entries)
      lines.push(
        `| ${result.model} | ${row.deployment} | ${row.costUsdPerBatch.toExponential(3)} | ${row.costUsdPerMillionTokens.toFixed(4)} | ${Math.round(row.throughputTokensPerS)} | ${Math.round(row.latencyMs)} | ${row.sloMet ? 'yes' : 'NO'} | ${row.utilization === undefined ? 'per use' : pct(row.utilization)} | ${saving} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}
