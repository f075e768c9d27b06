import type { BreakEven } from '@switchyard/cost-model';
import { OptimizerError } from './errors.js';
import { type PaperBenchmarkModelResult, type PaperBenchmarkRow, paperRowKeys } from './paper-benchmark.js';

const pct = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : String(value));
const usd = (value: number) => value.toExponential(3);
const ms = (value: number) => Math.round(value).toLocaleString('en-US');

/** A break-even point as one cell: where Switchyard stops (or starts) being cheaper. */
export function breakEvenCell(point: BreakEven): string {
  if (point.kind === 'always') return 'always cheaper in the range';
  if (point.kind === 'never') return 'never cheaper in the range';
  const side = point.direction === 'serverless-cheaper-below' ? 'cheaper below' : 'cheaper above';
  return `${side} ${point.batchesPerS.toPrecision(3)} batches/s (utilisation ${pct(point.utilization)})${point.crossings > 1 ? `, ${point.crossings} crossings` : ''}`;
}

function unseenAttainment(row: PaperBenchmarkRow, unseen: readonly string[]): string {
  const entries = unseen.map((domain) => row.billed.byDomain[domain]).filter((entry) => entry !== undefined);
  if (entries.length === 0) return '–';
  const batches = entries.reduce((sum, entry) => sum + entry.batches, 0);
  return pct(entries.reduce((sum, entry) => sum + entry.sloAttainment * entry.batches, 0) / batches);
}

/**
 * Markdown of a benchmark's models (architecture/paper-benchmark.md): the rows at the main SLO,
 * planned and billed; the outcomes and each component's contribution; the SLO sweep; LambdaML's
 * sensitivity to the 2-thread speed-up; and the CPU side — the headline stream, the saving curves
 * and their break-even points.
 */
export function paperBenchmarkMarkdown(results: readonly PaperBenchmarkModelResult[]): string {
  if (results.length === 0) throw new OptimizerError({ code: 'INVALID_INPUT', message: 'no results' });
  const lines: string[] = [];
  const first = results[0]!;
  const unseen = first.routing.heldOutDomains.filter(
    (domain) => !first.routing.calibrationDomains.includes(domain),
  );
  lines.push(
    `## Rows at the main SLO (${first.sloFactor} × the fastest feasible plan), planned vs billed on ${first.routing.heldOutBatches} held-out batches`,
    '',
    `Planned: on the row's forecast. Billed: on held-out batches of ${first.routing.heldOutDomains.join(', ')} (the calibration saw ${first.routing.calibrationDomains.join(', ')}), with the run-time replica repair. SLO met: share of held-out batches within the SLO; the row counts as meeting it at ≥ 90 %.`,
    '',
    `| model | deployment | planned $/batch | billed $/batch | worst batch $ | planned latency ms | billed latency ms (mean / p90) | SLO met | SLO met, unseen domains (${unseen.join(', ') || 'none'}) | repairs (memory / payload) | functions | evaluations |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const result of results)
    for (const key of paperRowKeys) {
      const row = result.rows[key];
      lines.push(
        `| ${result.model} | ${row.deployment} | ${usd(row.planned.costUsdPerBatch)} | ${usd(row.costUsdPerBatch)} | ${usd(row.billed.worstCostUsd)} | ${ms(row.planned.latencyMs)} | ${ms(row.billed.meanLatencyMs)} / ${ms(row.billed.p90LatencyMs)} | ${pct(row.billed.sloAttainment)}${row.sloMet ? '' : ' (NO)'} | ${unseenAttainment(row, unseen)} | ${row.billed.memoryRepairs} / ${row.billed.payloadRepairs} | ${row.functions} | ${row.evaluations}${row.dimensions === undefined ? '' : ` (Q = ${row.dimensions})`} |`,
      );
    }
  lines.push(
    '',
    "## Outcomes at the main SLO and each component's contribution (billed; 1 − cost with ÷ cost without)",
    '',
    "| model | SLO ms | Switchyard vs LambdaML | vs paper (BO + ODS) | vs paper (BO + exact) | throughput loss vs LambdaML | BO over knobs | predictor (Switchyard) | predictor (fixed knobs) | exact solver in the paper's BO | paper's BO over ODS at fixed knobs |",
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    const c = r.contributions;
    lines.push(
      `| ${r.model} | ${ms(r.sloMs)} | ${pct(r.savingVsLambdaml)} | ${pct(r.savingVsPaper)} | ${pct(r.savingVsPaperExact)} | ${pct(r.throughputLossVsLambdaml)} | ${pct(c.bayesOptOverKnobs)} | ${pct(c.predictorInSwitchyard)} | ${pct(c.predictorAtFixedKnobs)} | ${pct(c.exactSolverInPaperBo)} | ${pct(c.paperBoOverOds)} |`,
    );
  }
  lines.push(
    '',
    'A contribution compares billed costs only: a cheaper row that meets the SLO on fewer batches is not a better row (see the SLO columns above).',
    '',
    '## SLO sweep (SLO = factor × the fastest feasible plan; every figure billed on the held-out batches)',
    '',
    '| model | factor | SLO ms | Switchyard $/batch (SLO met) | paper BO + ODS $/batch (SLO met) | exact, fixed knobs $/batch (SLO met) | LambdaML SLO met | Switchyard vs LambdaML | vs paper | throughput loss vs LambdaML: Switchyard / paper / fixed knobs |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of results)
    for (const point of r.sloSweep) {
      const { switchyard, paperOds, exactFixedKnobs } = point.rows;
      const loss = point.throughputLossVsLambdaml;
      lines.push(
        `| ${r.model} | ${point.factor} | ${ms(point.sloMs)} | ${usd(switchyard.costUsdPerBatch)} (${pct(switchyard.billed.sloAttainment)}) | ${usd(paperOds.costUsdPerBatch)} (${pct(paperOds.billed.sloAttainment)}) | ${usd(exactFixedKnobs.costUsdPerBatch)} (${pct(exactFixedKnobs.billed.sloAttainment)}) | ${pct(point.lambdaml.sloAttainment)} | ${pct(point.savingVsLambdaml)} | ${pct(point.savingVsPaper)} | ${pct(loss.switchyard)} / ${pct(loss.paperOds)} / ${pct(loss.exactFixedKnobs)} |`,
      );
    }
  lines.push(
    '',
    '## LambdaML and the 2-thread speed-up (3,008 MB = 1.70 vCPUs)',
    '',
    '| model | measured speed-up | LambdaML $/batch | Switchyard $/batch | saving | assumed speed-up | LambdaML $/batch | Switchyard $/batch | saving |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    const { measured, assumed } = r.lambdamlSensitivity;
    lines.push(
      `| ${r.model} | ${measured.twoThreadSpeedup.toFixed(2)}× | ${usd(measured.lambdaml.costUsdPerBatch)} | ${usd(measured.switchyard.costUsdPerBatch)} | ${pct(measured.saving)} | ${assumed.twoThreadSpeedup.toFixed(2)}× | ${usd(assumed.lambdaml.costUsdPerBatch)} | ${usd(assumed.switchyard.costUsdPerBatch)} | ${pct(assumed.saving)} |`,
    );
  }
  const withCpu = results.filter((r) => r.cpu !== null);
  if (withCpu.length > 0) {
    const cpu0 = withCpu[0]!.cpu!;
    lines.push(
      '',
      `## CPU side: the headline stream (${cpu0.headline.scenario} at ${cpu0.headline.rateScale}× its rate)`,
      '',
      `CPU instances: ${cpu0.cpuPricing}. Serverless batches go out full or after ${cpu0.maxBatchWaitS} s. Saving = 1 − Switchyard's bill ÷ the baseline's for the same stream (negative: the CPU baseline is cheaper).`,
      '',
      '| model | CPU engine (tokens/vCPU-s; × the slower engine) | batches/s | Switchyard $ | static (peak-sized) $, utilisation | saving | autoscaled $, utilisation | saving | right-sized pool $ | saving |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of withCpu) {
      const c = r.cpu!;
      const h = c.headline;
      lines.push(
        `| ${r.model} | ${c.cpuEngine.engine} (${c.cpuEngine.tokensPerVcpuSecond.toFixed(0)}; ${c.engineSpeedRatio.toFixed(2)}×) | ${h.traffic.batchesPerS.toFixed(3)} | ${h.serverless.usd.toFixed(2)} | ${h.cpu.static.usd.toFixed(2)}, ${pct(h.cpu.static.utilization)} | ${pct(h.saving.static)} | ${h.cpu.autoscaled.usd.toFixed(2)}, ${pct(h.cpu.autoscaled.utilization)} | ${pct(h.saving.autoscaled)} | ${h.cpu.rightSized.usd.toFixed(2)} | ${pct(h.saving.rightSized)} |`,
      );
    }
    lines.push(
      '',
      'CPU engines measured per model (every CPU row above and below uses the faster):',
      '',
      ...withCpu.flatMap((r) =>
        r.cpu!.engines.map(
          (engine) =>
            `* ${r.model}: ${engine.engine}${engine.engine === r.cpu!.cpuEngine.engine ? ' (used)' : ''}, ${engine.tokensPerVcpuSecond.toFixed(0)} tokens/vCPU-s — ${engine.source}`,
        ),
      ),
    );
    lines.push(
      '',
      '## Break-even per traffic scenario (along a sweep of rate scales)',
      '',
      '| model | scenario | vs static (peak-sized) | vs autoscaled | vs right-sized pool |',
      '|---|---|---|---|---|',
    );
    for (const r of withCpu)
      for (const curve of r.cpu!.curves)
        lines.push(
          `| ${r.model} | ${curve.scenario} | ${breakEvenCell(curve.breakEven.static)} | ${breakEvenCell(curve.breakEven.autoscaled)} | ${breakEvenCell(curve.breakEven.rightSized)} |`,
        );
    lines.push(
      '',
      "## Saving curves (saving vs static / autoscaled / right-sized at each rate scale; the static cluster's utilisation)",
      '',
    );
    for (const r of withCpu)
      for (const curve of r.cpu!.curves) {
        lines.push(`${r.model}, ${curve.scenario}: ${curve.description}`, '');
        lines.push(
          '| rate scale | batches/s | Switchyard $ | static $ (utilisation) | autoscaled $ | right-sized $ | saving vs static / autoscaled / right-sized |',
          '|---|---|---|---|---|---|---|',
        );
        for (const point of curve.points)
          lines.push(
            `| ${point.rateScale} | ${point.traffic.batchesPerS.toPrecision(3)} | ${point.serverlessUsd.toFixed(2)} | ${point.cpu.static.usd.toFixed(2)} (${pct(point.cpu.static.utilization)}) | ${point.cpu.autoscaled.usd.toFixed(2)} | ${point.cpu.rightSized.usd.toFixed(2)} | ${pct(point.saving.static)} / ${pct(point.saving.autoscaled)} / ${pct(point.saving.rightSized)} |`,
          );
        lines.push('');
      }
  }
  return `${lines.join('\n')}\n`;
}
