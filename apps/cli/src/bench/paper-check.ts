import { throughputLoss } from '@switchyard/optimizer';
import type { PaperBenchResult } from './paper-bench.js';
import { paperHeadlines } from './paper-headline.js';

/**
 * Every figure of a paper-benchmark result that is derived from its rows, recomputed from the rows:
 * a row's cost and latency are its held-out bill, savings and contributions are ratios of billed costs,
 * throughput losses are ratios of billed latencies, each SLO is its factor × the fastest feasible plan,
 * and the headline is what `paperHeadlines` makes of the models. Returns one line per figure that
 * disagrees (empty when the result is consistent). `runPaperBench` refuses to write an inconsistent
 * result, and a test holds the committed bench-results/paper/paper.json to it, so a figure edited by
 * hand (or a derived figure computed some other way) is caught.
 */
export function paperBenchInconsistencies(result: PaperBenchResult): string[] {
  const problems: string[] = [];
  const same = (where: string, actual: unknown, expected: number | boolean) => {
    const ok =
      typeof expected === 'boolean'
        ? actual === expected
        : typeof actual === 'number' &&
          (actual === expected || Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)));
    if (!ok) problems.push(`${where} is ${String(actual)}, its rows give ${String(expected)}`);
  };
  const saving = (ours: { costUsdPerBatch: number }, other: { costUsdPerBatch: number }) =>
    1 - ours.costUsdPerBatch / other.costUsdPerBatch;
  for (const m of result.models) {
    const at = (field: string) => `${m.model}: ${field}`;
    for (const [key, row] of Object.entries(m.rows)) {
      same(at(`rows.${key}.costUsdPerBatch`), row.costUsdPerBatch, row.billed.meanCostUsd);
      same(
        at(`rows.${key}.costUsdPerMillionTokens`),
        row.costUsdPerMillionTokens,
        (row.billed.meanCostUsd / m.tokensPerBatch) * 1e6,
      );
      same(at(`rows.${key}.latencyMs`), row.latencyMs, row.billed.meanLatencyMs);
      same(at(`rows.${key}.sloMet`), row.sloMet, row.billed.sloAttainment >= 0.9);
    }
    const { rows } = m;
    same(at('savingVsLambdaml'), m.savingVsLambdaml, saving(rows.switchyard, rows.lambdaml));
    same(at('savingVsPaper'), m.savingVsPaper, saving(rows.switchyard, rows.paperOds));
    same(at('savingVsPaperExact'), m.savingVsPaperExact, saving(rows.switchyard, rows.paperExact));
    same(
      at('throughputLossVsLambdaml'),
      m.throughputLossVsLambdaml,
      throughputLoss(rows.lambdaml.latencyMs, rows.switchyard.latencyMs),
    );
    const contributions: Record<keyof typeof m.contributions, number> = {
      bayesOptOverKnobs: saving(rows.switchyard, rows.exactFixedKnobs),
      predictorInSwitchyard: saving(rows.switchyard, rows.switchyardNoPredictor),
      predictorAtFixedKnobs: saving(rows.exactFixedKnobs, rows.exactFixedKnobsNoPredictor),
      exactSolverInPaperBo: saving(rows.paperExact, rows.paperOds),
      paperBoOverOds: saving(rows.paperOds, rows.odsFixedKnobs),
    };
    for (const [key, value] of Object.entries(contributions))
      same(at(`contributions.${key}`), m.contributions[key as keyof typeof contributions], value);
    same(at('sloMs'), m.sloMs, Math.ceil(m.sloFactor * m.fastestFeasibleLatencyMs));
    for (const point of m.sloSweep) {
      const where = (field: string) => at(`sloSweep[${point.factor}].${field}`);
      same(where('sloMs'), point.sloMs, Math.ceil(point.factor * m.fastestFeasibleLatencyMs));
      same(where('savingVsLambdaml'), point.savingVsLambdaml, saving(point.rows.switchyard, rows.lambdaml));
      same(where('savingVsPaper'), point.savingVsPaper, saving(point.rows.switchyard, point.rows.paperOds));
      for (const key of ['switchyard', 'paperOds', 'exactFixedKnobs'] as const)
        same(
          where(`throughputLossVsLambdaml.${key}`),
          point.throughputLossVsLambdaml[key],
          throughputLoss(rows.lambdaml.latencyMs, point.rows[key].latencyMs),
        );
    }
    const { measured, assumed } = m.lambdamlSensitivity;
    same(at('lambdamlSensitivity.measured.saving'), measured.saving, m.savingVsLambdaml);
    same(
      at('lambdamlSensitivity.assumed.saving'),
      assumed.saving,
      saving(assumed.switchyard, assumed.lambdaml),
    );
    same(
      at('targetsMet.vsLambdaml'),
      m.targetsMet.vsLambdaml,
      m.savingVsLambdaml >= result.targets.savingVsLambdaml && rows.switchyard.sloMet,
    );
    same(
      at('targetsMet.throughputLoss'),
      m.targetsMet.throughputLoss,
      m.throughputLossVsLambdaml <= result.targets.maxThroughputLoss,
    );
  }
  const headlines = paperHeadlines(result.models);
  if (JSON.stringify(headlines) !== JSON.stringify(result.headline))
    problems.push('headline is not what the models give (paperHeadlines)');
  return problems;
}
