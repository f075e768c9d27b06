import type { BreakEven } from '@switchyard/cost-model';
import type { ReportCostCurve, ReportData } from '../report/report-data.js';
import type { PaperBenchResult } from './paper-bench.js';

const baselines = [
  ['static', 'static, peak-sized'],
  ['autoscaled', 'autoscaled'],
  ['rightSized', 'right-sized pool'],
] as const;

function breakEvenMark(label: string, point: BreakEven): ReportCostCurve['breakEven'] {
  if (point.kind !== 'crossing') return [];
  return [
    {
      label: `vs ${label}`,
      x: point.batchesPerS,
      detail: `Switchyard cheaper ${point.direction === 'serverless-cheaper-below' ? 'below' : 'above'} ${point.batchesPerS.toPrecision(3)} batches/s, where the cluster is ${(point.utilization * 100).toFixed(1)} % busy`,
    },
  ];
}

/**
 * The benchmark as an HTML report (bench-results/paper/paper.html): the headline figures as cards and,
 * as the cost section, per shape the headline scenario's cost curve — Switchyard and each CPU baseline
 * in $ per hour over the stream's rate — with the break-even points marked.
 */
export function paperReportData(result: PaperBenchResult): ReportData {
  const withCpu = result.models.filter((model) => model.cpu !== null);
  const curves: ReportCostCurve[] = withCpu.map((model) => {
    const cpu = model.cpu!;
    const curve = cpu.curves.find((c) => c.scenario === cpu.headline.scenario) ?? cpu.curves[0]!;
    const perHour = (usd: number, durationS: number) => (usd / durationS) * 3600;
    return {
      title: `${model.model.replace(/^paper:/, '')}: ${curve.description} (CPU engine ${cpu.cpuEngine.engine})`,
      series: [
        {
          label: 'Switchyard',
          kind: 'switchyard' as const,
          points: curve.points.map((p) => ({
            x: p.traffic.batchesPerS,
            y: perHour(p.serverlessUsd, p.traffic.durationS),
          })),
        },
        ...baselines.map(([key, label]) => ({
          label,
          kind: 'baseline' as const,
          points: curve.points.map((p) => ({
            x: p.traffic.batchesPerS,
            y: perHour(p.cpu[key].usd, p.traffic.durationS),
          })),
        })),
      ],
      breakEven: baselines.flatMap(([key, label]) => breakEvenMark(label, curve.breakEven[key])),
    };
  });
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const h = result.headline;
  const range = (values: number[]) =>
    values.length === 0 ? '–' : `${pct(Math.min(...values))} … ${pct(Math.max(...values))}`;
  return {
    title: `Paper benchmark${result.quick ? ' (quick run)' : ''}`,
    subtitle: `${result.models.length} shape(s), billed on held-out routing; ${result.traffic.base} as the headline workload`,
    generatedAt: result.createdAt,
    highlights: [
      {
        label: 'vs sized-to-load CPU',
        value: range(h.map((x) => x.sizedToLoad.saving)),
        detail: `cheaper on ${h.filter((x) => x.sizedToLoad.saving > 0).length} of ${h.length} shapes (paper: ≥ 75.67 %)`,
      },
      {
        label: 'vs right-sized pool',
        value: range(h.map((x) => x.savingVsRightSized)),
        detail: 'busy vCPU-seconds only: the lower bound',
      },
      { label: 'vs LambdaML', value: range(h.map((x) => x.savingVsLambdaml)), detail: 'paper: ≥ 43.41 %' },
      {
        label: 'SLO met, held-out',
        value: range(h.map((x) => x.sloAttainment)),
        detail: `unseen domains ${range(h.map((x) => x.sloAttainmentUnseen).filter(Number.isFinite))}`,
      },
    ],
    costCurves: { xLabel: 'batches/s', yLabel: '$ per hour', curves },
    notes: [...result.assumptions, `Re-run: ${result.command}`],
    omit: ['popularity', 'convergence', 'frontier'],
  };
}
