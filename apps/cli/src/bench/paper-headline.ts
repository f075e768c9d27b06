import { SwitchyardError } from '@switchyard/core';
import type { BreakEven } from '@switchyard/cost-model';
import { type PaperBenchmarkModelResult, paperTargets } from '@switchyard/optimizer';

/** The figures README "Results" quotes for one shape, all read from the benchmark's result. */
export interface PaperHeadline {
  model: string;
  sloFactor: number;
  sloMs: number;
  /** The CPU engine the CPU rows ran on, and how much faster it is than the other one measured. */
  cpuEngine: string;
  engineSpeedRatio: number;
  /** Against the static cluster sized for the headline stream's busiest minute (the sized-to-load cluster). */
  sizedToLoad: {
    cluster: string;
    saving: number;
    utilization: number;
    switchyardUsd: number;
    clusterUsd: number;
  };
  savingVsAutoscaled: number;
  savingVsRightSized: number;
  /** Break-even against the sized-to-load cluster along the headline scenario's rate sweep. */
  breakEven: BreakEven;
  savingVsLambdaml: number;
  /** The same with an assumed 1.8× two-thread speed-up instead of the measured profile. */
  savingVsLambdamlAssumedSpeedup: number;
  savingVsPaper: number;
  throughputLossVsLambdaml: number;
  /** Share of held-out batches within the SLO: all, and those of domains the calibration never saw. */
  sloAttainment: number;
  sloAttainmentUnseen: number;
}

export function paperHeadlines(models: readonly PaperBenchmarkModelResult[]): PaperHeadline[] {
  return models.map((m) => {
    const row = m.rows.switchyard;
    const unseen = m.routing.heldOutDomains.filter(
      (domain) => !m.routing.calibrationDomains.includes(domain),
    );
    let unseenBatches = 0;
    let unseenMet = 0;
    for (const domain of unseen) {
      const entry = row.billed.byDomain[domain];
      if (!entry) continue;
      unseenBatches += entry.batches;
      unseenMet += entry.sloAttainment * entry.batches;
    }
    const cpu = m.cpu;
    if (!cpu)
      throw new SwitchyardError({
        code: 'INTERNAL',
        message: `${m.model}: the benchmark ran without traffic, so there is no CPU side to quote`,
      });
    const headlineCurve = cpu.curves.find((curve) => curve.scenario === cpu.headline.scenario);
    return {
      model: m.model,
      sloFactor: m.sloFactor,
      sloMs: m.sloMs,
      cpuEngine: cpu.cpuEngine.engine,
      engineSpeedRatio: cpu.engineSpeedRatio,
      sizedToLoad: {
        cluster: cpu.headline.cpu.static.description,
        saving: cpu.headline.saving.static,
        utilization: cpu.headline.cpu.static.utilization,
        switchyardUsd: cpu.headline.serverless.usd,
        clusterUsd: cpu.headline.cpu.static.usd,
      },
      savingVsAutoscaled: cpu.headline.saving.autoscaled,
      savingVsRightSized: cpu.headline.saving.rightSized,
      breakEven: headlineCurve ? headlineCurve.breakEven.static : { kind: 'never' },
      savingVsLambdaml: m.savingVsLambdaml,
      savingVsLambdamlAssumedSpeedup: m.lambdamlSensitivity.assumed.saving,
      savingVsPaper: m.savingVsPaper,
      throughputLossVsLambdaml: m.throughputLossVsLambdaml,
      sloAttainment: row.billed.sloAttainment,
      sloAttainmentUnseen: unseenBatches > 0 ? unseenMet / unseenBatches : Number.NaN,
    };
  });
}

const pct = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : '–');
const range = (values: number[]) => {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? pct(low) : `${pct(low)} to ${pct(high)}`;
};

function breakEvenText(point: BreakEven): string {
  if (point.kind === 'always') return 'cheaper at every rate swept';
  if (point.kind === 'never') return 'dearer at every rate swept';
  const where = point.direction === 'serverless-cheaper-below' ? 'below' : 'above';
  return `cheaper ${where} ${pct(point.utilization)} utilisation (${point.batchesPerS.toPrecision(2)} batches/s)`;
}

/**
 * The headline as markdown, written from the result's figures only: a table per shape with the
 * paper's claims beside it, then where Switchyard loses. README "Results" carries the same text
 * between `<!-- paper-headline:start -->` and `<!-- paper-headline:end -->` (`--readme` rewrites it).
 */
export function paperHeadlineMarkdown(result: {
  createdAt: string;
  quick: boolean;
  command: string;
  headline: readonly PaperHeadline[];
  machine: { cpu: string; logicalCpus: number; loadAverage1m: number };
}): string {
  const h = result.headline;
  if (h.length === 0) return 'No shapes were run.\n';
  const first = h[0]!;
  const winsSized = h.filter((x) => x.sizedToLoad.saving > 0);
  const lines = [
    `Paper benchmark, \`${result.command}\`, ${result.createdAt.slice(0, 16).replace('T', ' ')} UTC on ${result.machine.cpu} (${result.machine.logicalCpus} logical CPUs, 1-min load ${result.machine.loadAverage1m.toFixed(1)} at the end)${result.quick ? ', a QUICK run (not for quoting)' : ''}: [bench-results/paper/paper.md](bench-results/paper/paper.md), JSON beside it, definitions in [architecture/paper-benchmark.md](architecture/paper-benchmark.md).`,
    '',
    `Sized to load — a static cluster of the faster CPU engine sized for the busiest minute of the Azure LLM trace (${first.sizedToLoad.cluster.replace(/ \(.*$/, '')}) — Switchyard's serverless bill is lower on ${winsSized.length} of ${h.length} shapes at the trace's own rate (saving ${range(h.map((x) => x.sizedToLoad.saving))}; the paper claims ≥ ${pct(paperTargets.savingVsCpuCluster)} against its CPU cluster). Against LambdaML it saves ${range(h.map((x) => x.savingVsLambdaml))} (paper: ≥ ${pct(paperTargets.savingVsLambdaml)}); with an assumed 1.8× two-thread speed-up instead of the measured profile, ${range(h.map((x) => x.savingVsLambdamlAssumedSpeedup))}. Every figure is billed on held-out batches, at an SLO of ${first.sloFactor}× the fastest feasible plan.`,
    '',
    '| shape | vs sized-to-load cluster (its utilisation) | break-even along the trace replayed at other rates | vs autoscaled | vs right-sized pool (lower bound) | vs LambdaML (1.8× curve) | vs paper (BO + ODS) | throughput loss vs LambdaML | SLO met (unseen domains) | CPU engine |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...h.map(
      (x) =>
        `| ${x.model.replace(/^paper:/, '')} | ${pct(x.sizedToLoad.saving)} (${pct(x.sizedToLoad.utilization)}) | ${breakEvenText(x.breakEven)} | ${pct(x.savingVsAutoscaled)} | ${pct(x.savingVsRightSized)} | ${pct(x.savingVsLambdaml)} (${pct(x.savingVsLambdamlAssumedSpeedup)}) | ${pct(x.savingVsPaper)} | ${pct(x.throughputLossVsLambdaml)} | ${pct(x.sloAttainment)} (${pct(x.sloAttainmentUnseen)}) | ${x.cpuEngine} (${x.engineSpeedRatio.toFixed(2)}×) |`,
    ),
    '',
    'Where Switchyard loses:',
    '',
  ];
  const losses: string[] = [];
  const dearer = h.filter((x) => x.sizedToLoad.saving <= 0);
  if (dearer.length > 0)
    losses.push(
      `the sized-to-load cluster is cheaper at the trace's rate on ${dearer.map((x) => x.model.replace(/^paper:/, '')).join(', ')}`,
    );
  const rightSized = h.filter((x) => x.savingVsRightSized <= 0);
  if (rightSized.length > 0)
    losses.push(
      `a right-sized CPU pool (billed per busy vCPU-second) is cheaper on ${rightSized.length} of ${h.length} shapes`,
    );
  const paper = h.filter((x) => x.savingVsPaper <= 0);
  if (paper.length > 0)
    losses.push(
      `the paper's method bills less on ${paper.map((x) => x.model.replace(/^paper:/, '')).join(', ')} (compare SLO attainment in paper.md)`,
    );
  const lambdaml = h.filter((x) => x.savingVsLambdaml <= 0 || x.savingVsLambdamlAssumedSpeedup <= 0);
  if (lambdaml.length > 0)
    losses.push(
      `LambdaML is cheaper on ${lambdaml.length} shape(s) under the measured or the assumed speed-up`,
    );
  const slo = h.filter((x) => x.sloAttainment < 0.9);
  if (slo.length > 0)
    losses.push(
      `the SLO is met on fewer than 90 % of held-out batches on ${slo.length} of ${h.length} shapes (batches of domains the calibration never saw: ${range(h.map((x) => x.sloAttainmentUnseen))})`,
    );
  lines.push(...(losses.length > 0 ? losses.map((loss) => `* ${loss};`) : ['* nowhere in these rows.']));
  return `${lines.join('\n')}\n`;
}

const startMarker = '<!-- paper-headline:start -->';
const endMarker = '<!-- paper-headline:end -->';

/** README text with the block between the headline markers replaced; INVALID_INPUT without them. */
export function replaceReadmeHeadline(readme: string, headline: string, where = 'README.md'): string {
  const start = readme.indexOf(startMarker);
  const end = readme.indexOf(endMarker);
  if (start < 0 || end < start)
    throw new SwitchyardError({
      code: 'INVALID_INPUT',
      message: `${where} has no ${startMarker} … ${endMarker} block to replace`,
      location: where,
    });
  return `${readme.slice(0, start + startMarker.length)}\n${headline.trim()}\n${readme.slice(end)}`;
}
