/**
 * Everything the HTML report can show. The demo and `switchyard report` both build one of these and
 * hand it to `renderReport`; every section is optional, and a missing one is shown as missing, not
 * invented.
 */
export interface ReportData {
  title: string;
  subtitle?: string;
  /** ISO timestamp. */
  generatedAt: string;
  model?: { name: string; layers: number; experts: number; topK: number };
  /** Headline figures shown as cards at the top. */
  highlights?: ReportHighlight[];
  /** Tokens routed to each expert, per MoE layer (heatmap). */
  popularity?: { source: string; layers: Array<{ layer: number; tokens: number[] }> };
  /** Cost of the chosen deployment against the baselines (bar chart). */
  costs?: { unit: string; bars: ReportCostBar[] };
  /**
   * Cost against the baselines over load (line charts, one per curve, with the break-even points
   * marked). When given, this is the report's cost section and the bars are not drawn.
   */
  costCurves?: { xLabel: string; yLabel: string; curves: ReportCostCurve[] };
  /** Best objective after each evaluation of the Bayesian optimisation (plan.search.bestCostHistory). */
  convergence?: { label: string; bestCost: number[]; unit: string };
  /** Cost against throughput of the plans considered (scatter with the Pareto frontier drawn). */
  frontier?: { points: ReportFrontierPoint[] };
  /** Memory and replicas per expert function of the chosen deployment. */
  deployment?: ReportDeploymentRow[];
  /** Generated text, when the report comes from a run. */
  text?: {
    prompt: string;
    completion: string /** How it was produced, e.g. "through the deployed expert functions". */;
    generatedBy?: string;
  };
  /** A batch job's view: its summary and the distribution of its per-line cost. */
  batch?: ReportBatch;
  /** Plain statements about what is missing or how figures were obtained. */
  notes?: string[];
  /** Sections that do not apply to this report, left out instead of shown as missing. */
  omit?: Array<'popularity' | 'convergence' | 'frontier'>;
}

export interface ReportHighlight {
  label: string;
  value: string;
  detail?: string;
}

export interface ReportCostBar {
  label: string;
  value: number;
  kind: 'switchyard' | 'baseline' | 'measured';
  detail?: string;
}

export interface ReportCostCurve {
  title: string;
  series: Array<{ label: string; kind: 'switchyard' | 'baseline'; points: Array<{ x: number; y: number }> }>;
  /** Where the Switchyard line crosses a baseline's (x on the curve's axis). */
  breakEven: Array<{ label: string; x: number; detail: string }>;
}

export interface ReportFrontierPoint {
  label: string;
  throughputTokensPerS: number;
  costUsdPerMillionTokens: number;
  kind: 'chosen' | 'candidate' | 'baseline';
}

export interface ReportDeploymentRow {
  layer: number;
  experts: string;
  memoryMB: number;
  replicas: number;
  predictedTokens?: number;
  method?: string;
}

/** A batch job (`switchyard run-batch`): what it answered, what it took and what each line cost. */
export interface ReportBatch {
  /** The job's output file. */
  output: string;
  target?: string;
  requests: number;
  succeeded: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  wallSeconds: number;
  tokensPerSecond: number;
  billedGbSeconds: number;
  costUsd: number;
  usdPerMillionTokens: number;
  invocations: number;
  runs: number;
  finished: boolean;
  /** Each answered line's attributed $ (lines written with `--cost`); empty without it. */
  lineCostsUsd: number[];
  /** What the same job would have cost elsewhere (the summary's `baselines`), when known. */
  baselines: Array<{ name: string; usd: number; usdPerMillionTokens: number; description?: string }>;
}
