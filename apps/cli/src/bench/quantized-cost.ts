/**
 * $/M tokens for float32 vs int8 vs int4 on every paper shape and on the real-size layers, with the
 * accuracy each format costs beside it (issue #18's "Cost"). The quantized rows of `bench paper`
 * (quantized-rows.ts) run alone here, at each shape's SLO taken from a `bench paper` result (its
 * float32 benchmark fixes the SLO as a factor of the fastest feasible plan), so they do not need the
 * whole float32 benchmark again; the real-size rows come from real-size.ts's result (billed on the
 * embedded runtime's REPORT lines).
 *
 *   node --conditions=@switchyard/source --import tsx apps/cli/src/bench/quantized-cost.ts \
 *     [--paper bench-results/paper/paper.json] [--real-size bench-results/real-size.json]
 *     [--eval-none f.json --eval-int8 f.json --eval-int4 f.json]   (`switchyard eval --json` over the
 *        held-out split; formats without one are evaluated here)
 *     [--quick] [--out bench-results/quantized-cost.json]   (and the .md beside it)
 *     [--rows-from bench-results/quantized-cost.json]   (reuse that run's paper-shape rows; only the
 *        real-size table is rebuilt, e.g. after a new real-size run)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { type ExpertQuantizationFormat, parseJson } from '@switchyard/core';
import { type QuantizedBenchResult, quantizedRowsMarkdown, runQuantizedRows } from './quantized-rows.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const root = resolve(import.meta.dirname, '../../../..');
const quick = args.includes('--quick');
const paperFile = resolve(option('--paper') ?? join(root, 'bench-results/paper/paper.json'));
const realSizeFile = resolve(option('--real-size') ?? join(root, 'bench-results/real-size.json'));
const out = resolve(option('--out') ?? join(root, 'bench-results/quantized-cost.json')).replace(
  /\.json$/,
  '',
);

interface PaperResult {
  command: string;
  quick: boolean;
  models: Array<{ model: string; sloMs: number }>;
}
interface RealSizeRow {
  shape: string;
  model?: string;
  layers?: number;
  format: ExpertQuantizationFormat;
  target: string;
  usdPer1000Tokens?: number | null;
  gbSecondsPer1000Tokens?: number | null;
  prefillTokensPerS?: number;
  decodeMsPerToken?: number;
  prefillTokens?: number;
  decodeTokens?: number;
  error?: string;
}

const load1mAtStart = loadavg()[0]!;
const paper = parseJson(readFileSync(paperFile, 'utf8'), paperFile) as PaperResult;
const bitsPerByte: Partial<Record<ExpertQuantizationFormat, { bitsPerToken: number; tokens: number }>> = {};
for (const format of ['none', 'int8', 'int4'] as const) {
  const file = option(`--eval-${format}`);
  if (file) bitsPerByte[format] = parseJson(readFileSync(file, 'utf8'), file) as never;
}
const shapes = (quick ? paper.models.slice(0, 1) : paper.models).map((m) => ({
  shape: m.model.replace(/^paper:/, ''),
  sloMs: m.sloMs,
}));
const rowsFrom = option('--rows-from');
const previous = rowsFrom
  ? (parseJson(readFileSync(rowsFrom, 'utf8'), rowsFrom) as {
      quantized: QuantizedBenchResult;
      load1mAtStart: number;
      createdAt: string;
    })
  : undefined;
const quantized =
  previous?.quantized ??
  (await runQuantizedRows({
    fixturesDir: join(root, 'fixtures'),
    shapes,
    tokensPerBatch: 10_240,
    maxEvaluations: quick ? 12 : 40,
    quick,
    bitsPerByte,
    onProgress: (message) => process.stdout.write(`${message}\n`),
  }));

/**
 * The accuracy beside the real-size rows: this run's `switchyard eval` files when all three are given
 * (also with --rows-from, whose paper rows keep the accuracy they were planned with), else the paper
 * rows' own.
 */
const evaluated = (['none', 'int8', 'int4'] as const).every((format) => bitsPerByte[format] !== undefined);
const realSizeAccuracy: Partial<
  Record<ExpertQuantizationFormat, { bitsPerToken: number; relativeToFloat32: number }>
> = evaluated
  ? Object.fromEntries(
      (['none', 'int8', 'int4'] as const).map((format) => [
        format,
        {
          bitsPerToken: bitsPerByte[format]!.bitsPerToken,
          relativeToFloat32: bitsPerByte[format]!.bitsPerToken / bitsPerByte.none!.bitsPerToken,
        },
      ]),
    )
  : quantized.accuracy;

// Real-size layers: billed $ per M tokens on the embedded runtime, relative to the same shape's float32.
const realSize = parseJson(readFileSync(realSizeFile, 'utf8'), realSizeFile) as {
  createdAt: string;
  quick: boolean;
  loadAverage1m: number;
  rows: RealSizeRow[];
};
const realRows = realSize.rows
  .filter((row) => row.target === 'local')
  .map((row) => {
    // Only a float32 row of the same token counts is comparable (rows may come from different runs).
    const float32 = realSize.rows.find(
      (other) =>
        other.shape === row.shape &&
        other.target === 'local' &&
        other.format === 'none' &&
        other.prefillTokens === row.prefillTokens &&
        other.decodeTokens === row.decodeTokens,
    );
    const usdPerMillion = row.usdPer1000Tokens == null ? null : row.usdPer1000Tokens * 1000;
    const float32UsdPerMillion = float32?.usdPer1000Tokens == null ? null : float32.usdPer1000Tokens * 1000;
    return {
      shape: row.shape,
      model: row.model ?? row.shape,
      layers: row.layers ?? null,
      tokens: row.prefillTokens === undefined ? null : `${row.prefillTokens} + ${row.decodeTokens}`,
      format: row.format,
      usdPerMillionTokens: usdPerMillion,
      gbSecondsPer1000Tokens: row.gbSecondsPer1000Tokens ?? null,
      relativeToFloat32:
        usdPerMillion !== null && float32UsdPerMillion !== null ? usdPerMillion / float32UsdPerMillion : null,
      prefillTokensPerS: row.prefillTokensPerS ?? null,
      decodeMsPerToken: row.decodeMsPerToken ?? null,
      bitsPerByte: realSizeAccuracy[row.format]?.bitsPerToken ?? null,
      bitsPerByteRelativeToFloat32: realSizeAccuracy[row.format]?.relativeToFloat32 ?? null,
      error: row.error ?? null,
    };
  });

/** A child's error line without the command that failed: what the error says. */
const failure = (error: string) =>
  (error.includes('Error: ') ? error.slice(error.indexOf('Error: ') + 7) : error)
    .replace(/^(stopped: .*? over --max-total-gb [\d.]+) .*$/s, '$1')
    .replace(/\s*\[Symbol\(switchyard\.error\)\].*$/s, '')
    .replace(/\s*Node\.js v[\d.]+\s*$/, '')
    .slice(0, 300);
const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)} %`);
const markdown = [
  '# Quantized experts: $/M tokens beside the accuracy they cost',
  '',
  ...(previous
    ? [
        `Paper-shape rows from the run of ${previous.createdAt} (1-min load ${previous.load1mAtStart.toFixed(1)} at its start); the real-size table rebuilt below.`,
        '',
      ]
    : []),
  `Written by \`apps/cli/src/bench/quantized-cost.ts\` at ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} logical CPUs); 1-min load ${load1mAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end${quick ? ' (--quick: not figures)' : ''}.`,
  `SLO per paper shape from ${paperFile.replace(`${root}/`, '')} (\`${paper.command}\`${paper.quick ? ', a QUICK run' : ''}); bits per byte ${Object.keys(bitsPerByte).length > 0 ? 'from `switchyard eval --json` over the held-out last 10 % of tinyshakespeare' : 'evaluated here'}.`,
  ...quantizedRowsMarkdown(quantized),
  '',
  '## Real-size layers (billed on the embedded runtime)',
  '',
  `From ${realSizeFile.replace(`${root}/`, '')} (${realSize.createdAt}, 1-min load ${realSize.loadAverage1m.toFixed(1)}${realSize.quick ? ', QUICK' : ''}; its .md beside it has every column and the in-process rows): synthetic layers with random weights, so their accuracy cannot be measured; the bits-per-byte columns are the bundled model's cost of the same format (shakespeare-mixtral-8x2 over the held-out last 10 % of tinyshakespeare${evaluated ? ', from the `switchyard eval --json` files given to this run' : ''}).`,
  '',
  '| model | layers | prefill + decode tokens | format | $/M tokens | vs float32 | GB-s / 1,000 tokens | prefill tokens/s | decode ms/token | bits/byte (bundled model) | vs float32 |',
  '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...realRows.map(
    (row) =>
      `| ${row.model} | ${row.layers ?? '—'} | ${row.tokens ?? '—'} | ${row.format === 'none' ? 'float32' : row.format} | ${row.usdPerMillionTokens === null ? (row.error ? `failed: ${failure(row.error)}` : '—') : row.usdPerMillionTokens.toFixed(3)} | ${percent(row.relativeToFloat32)} | ${row.gbSecondsPer1000Tokens?.toFixed(1) ?? '—'} | ${row.prefillTokensPerS?.toFixed(1) ?? '—'} | ${row.decodeMsPerToken?.toFixed(0) ?? '—'} | ${row.bitsPerByte?.toFixed(6) ?? '—'} | ${row.bitsPerByteRelativeToFloat32 === null ? '—' : `${row.bitsPerByteRelativeToFloat32 >= 1 ? '+' : ''}${((row.bitsPerByteRelativeToFloat32 - 1) * 100).toFixed(3)} %`} |`,
  ),
  '',
].join('\n');
writeFileSync(
  `${out}.json`,
  `${JSON.stringify(
    {
      createdAt: previous?.createdAt ?? new Date().toISOString(),
      quick,
      load1mAtStart: previous?.load1mAtStart ?? load1mAtStart,
      load1mAtEnd: loadavg()[0],
      paperSlosFrom: { file: paperFile.replace(`${root}/`, ''), command: paper.command, quick: paper.quick },
      quantized,
      realSize: { file: realSizeFile.replace(`${root}/`, ''), createdAt: realSize.createdAt, rows: realRows },
    },
    null,
    2,
  )}\n`,
);
writeFileSync(`${out}.md`, markdown);
process.stdout.write(`${markdown}\nwrote ${out}.json and ${out}.md\n`);
