import { readFile, writeFile } from 'node:fs/promises';
import { parseJson, parseWithSchema } from '@switchyard/core';
import { z } from 'zod';
import { predictorError } from './errors.js';
import { type LevelKind, levelKinds } from './features.js';
import { LayerModel } from './layer-model.js';
import { predictorStrategies, type SerializeOptions, serializeOptionsSchema } from './options.js';
import { Predictor, type PredictorState } from './predictor.js';

export const predictorFormat = 'switchyard-predictor';
export const predictorFileVersion = 2;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

const levelSchema = z.object({
  kind: z.enum(levelKinds),
  concentration: z.number().nonnegative(),
  rows: z.number().int().nonnegative(),
  /** Float64 little-endian context keys. */
  keys: base64,
  /** Int32 parent row at the previous level (−1 at level 0). */
  parents: base64,
  /** Float32 counts, rows × E. */
  counts: base64,
});

/** The predictor file (JSON), version 2 (version 1 stored a relative spread τ instead of φ). */
export const predictorFileSchema = z.object({
  format: z.literal(predictorFormat),
  version: z.literal(predictorFileVersion),
  strategy: z.enum(predictorStrategies),
  modelName: z.string(),
  numExperts: z.number().int().positive(),
  topK: z.number().int().positive(),
  moeLayers: z.array(z.number().int().nonnegative()).min(1),
  chunk: z.number().int().positive(),
  contextTokens: z.number().int().nonnegative(),
  usePreviousLayer: z.boolean(),
  hasAttention: z.boolean(),
  intervalLevel: z.number().gt(0).lt(1),
  batchTokens: z.number().int().positive(),
  halfLifeTokens: z.number().positive().nullable(),
  driftThreshold: z.number().positive(),
  /** Per layer over-dispersion φ (variance factor on the model's predictive variance). */
  overdispersion: z.array(z.number().nonnegative()),
  drift: z.object({
    baselineLogLikelihood: z.number().nullable(),
    baselineStandardDeviation: z.number().nullable(),
  }),
  calibrationTokens: z.number().int().nonnegative(),
  layers: z.array(
    z.object({
      base: z.array(z.number().nonnegative()),
      auxiliaryConcentration: z.number().nullable(),
      levels: z.array(levelSchema).min(1),
    }),
  ),
  pruned: z.object({ rows: z.number().int().nonnegative(), selections: z.number().nonnegative() }),
});
export type PredictorFile = z.infer<typeof predictorFileSchema>;

/** What bounding the size removed. */
export interface PruneReport {
  maxRows: number;
  keptRows: number;
  prunedRows: number;
  /** Selections (count mass) in pruned rows; their contexts back off to the parent, which keeps them. */
  prunedSelections: number;
  perLevel: { layer: number; level: number; kind: LevelKind; keptRows: number; prunedRows: number }[];
}

function toBase64(array: Float64Array | Float32Array | Int32Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function fromBase64<T extends Float64Array | Float32Array | Int32Array>(
  text: string,
  ctor: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  expected: number,
  where: string,
): T {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== expected * ctor.BYTES_PER_ELEMENT)
    throw predictorError(`holds ${bytes.byteLength} bytes, expected ${expected} values`, where);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new ctor(copy);
}

/**
 * Information score of every row: N_r · KL(p_row ‖ p_parent) — how much the row's own counts move the
 * prediction, times how often it is used. A row is kept if it or any descendant is among the best.
 */
function rowScores(model: LayerModel): Float64Array[] {
  const E = model.numExperts;
  const own = new Float64Array(E);
  const parent = new Float64Array(E);
  const scores = model.levels.map((level) => new Float64Array(level.rows));
  for (let c = 1; c < model.numLevels; c++) {
    const level = model.levels[c]!;
    for (let r = 0; r < level.rows; r++) {
      model.probabilities(c, r, own);
      model.probabilities(c - 1, level.parents[r]!, parent);
      let kl = 0;
      for (let e = 0; e < E; e++)
        if (own[e]! > 0) kl += own[e]! * Math.log(own[e]! / Math.max(parent[e]!, 1e-300));
      scores[c]![r] = level.totals[r]! * kl;
    }
  }
  // Propagate upwards so a parent is at least as important as its best child; levels 0 and 1 always stay.
  for (let c = model.numLevels - 1; c >= 2; c--) {
    const level = model.levels[c]!;
    for (let r = 0; r < level.rows; r++) {
      const p = level.parents[r]!;
      if (scores[c]![r]! > scores[c - 1]![p]!) scores[c - 1]![p] = scores[c]![r]!;
    }
  }
  for (let c = 0; c < Math.min(2, model.numLevels); c++) scores[c]!.fill(Number.POSITIVE_INFINITY);
  return scores;
}

/** Serialises a predictor to its versioned JSON file, keeping at most `maxRows` rows. */
export function serializePredictor(
  predictor: Predictor,
  options: SerializeOptions = {},
): { file: PredictorFile; pruned: PruneReport } {
  const { maxRows } = parseWithSchema(serializeOptionsSchema, options, 'serializePredictor options');
  const state = predictor.state;
  const E = state.numExperts;
  for (const model of state.layers) model.normaliseScale();
  const scores = state.layers.map(rowScores);
  const all: number[] = [];
  for (const layerScores of scores)
    for (const levelScores of layerScores) for (const s of levelScores) all.push(s);
  let threshold = Number.NEGATIVE_INFINITY;
  if (all.length > maxRows) {
    all.sort((a, b) => b - a);
    threshold = all[maxRows - 1]!;
  }
  const report: PruneReport = { maxRows, keptRows: 0, prunedRows: 0, prunedSelections: 0, perLevel: [] };
  const layers = state.layers.map((model, layer) => {
    let previousMap: Int32Array | undefined;
    const levels = model.levels.map((level, c) => {
      const levelScores = scores[layer]![c]!;
      const map = new Int32Array(level.rows).fill(-1);
      const keep: number[] = [];
      for (let r = 0; r < level.rows; r++) {
        const parentKept = c === 0 || previousMap![level.parents[r]!]! !== -1;
        if (
          parentKept &&
          levelScores[r]! >= threshold &&
          (levelScores[r]! > threshold || report.keptRows < maxRows)
        ) {
          map[r] = keep.length;
          keep.push(r);
        } else report.prunedSelections += level.totals[r]!;
      }
      report.keptRows += keep.length;
      report.prunedRows += level.rows - keep.length;
      report.perLevel.push({
        layer,
        level: c,
        kind: state.ladders[layer]![c]!,
        keptRows: keep.length,
        prunedRows: level.rows - keep.length,
      });
      const keys = new Float64Array(keep.length);
      const parents = new Int32Array(keep.length);
      const counts = new Float32Array(keep.length * E);
      const keyOfRow = rowKeys(level.table, level.rows);
      keep.forEach((r, i) => {
        keys[i] = keyOfRow[r]!;
        parents[i] = c === 0 ? -1 : previousMap![level.parents[r]!]!;
        for (let e = 0; e < E; e++) counts[i * E + e] = level.counts[r * E + e]!;
      });
      previousMap = map;
      return {
        kind: state.ladders[layer]![c]!,
        concentration: model.concentrations[c]!,
        rows: keep.length,
        keys: toBase64(keys),
        parents: toBase64(parents),
        counts: toBase64(counts),
      };
    });
    return {
      base: Array.from(model.base),
      auxiliaryConcentration: Number.isNaN(model.auxiliaryConcentration)
        ? null
        : model.auxiliaryConcentration,
      levels,
    };
  });
  const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);
  const file: PredictorFile = {
    format: predictorFormat,
    version: predictorFileVersion,
    strategy: state.strategy,
    modelName: state.modelName,
    numExperts: E,
    topK: state.topK,
    moeLayers: state.moeLayers,
    chunk: state.chunk,
    contextTokens: state.contextTokens,
    usePreviousLayer: state.usePreviousLayer,
    hasAttention: state.hasAttention,
    intervalLevel: state.intervalLevel,
    batchTokens: state.batchTokens,
    halfLifeTokens: state.halfLifeTokens,
    driftThreshold: state.driftThreshold,
    overdispersion: state.overdispersion,
    drift: {
      baselineLogLikelihood: finite(state.drift.baselineLogLikelihood),
      baselineStandardDeviation: finite(state.drift.baselineStandardDeviation),
    },
    calibrationTokens: state.calibrationTokens,
    layers,
    pruned: { rows: report.prunedRows, selections: report.prunedSelections },
  };
  return { file, pruned: report };
}

/** Every row's key, recovered from a level's key table. */
function rowKeys(table: LayerModel['levels'][number]['table'], rows: number): Float64Array {
  const out = new Float64Array(rows);
  table.forEach((key, row) => {
    out[row] = key;
  });
  return out;
}

/** Rebuilds a predictor from its JSON file (parsed object); PREDICTOR_INVALID on any inconsistency. */
export function deserializePredictor(value: unknown, where = '<predictor>'): Predictor {
  if (
    typeof value !== 'object' ||
    value === null ||
    (value as { format?: unknown }).format !== predictorFormat
  )
    throw predictorError(`not a predictor file (format must be "${predictorFormat}")`, where);
  const version = (value as { version?: unknown }).version;
  if (version === 1)
    throw predictorError(
      'predictor file version 1 is no longer read: version 2 replaced its interval spread τ by the over-dispersion φ of the hierarchical load variance; refit it with `switchyard predict fit`',
      `${where}: version`,
    );
  if (version !== predictorFileVersion)
    throw predictorError(
      `unsupported predictor file version ${JSON.stringify(version)}; this build reads version ${predictorFileVersion} (refit with \`switchyard predict fit\`)`,
      `${where}: version`,
    );
  const file = parseWithSchema(predictorFileSchema, value, where, 'PREDICTOR_INVALID');
  const E = file.numExperts;
  if (file.topK > E) throw predictorError(`topK ${file.topK} exceeds numExperts ${E}`, `${where}: topK`);
  if (file.layers.length !== file.moeLayers.length || file.overdispersion.length !== file.layers.length)
    throw predictorError('layers, moeLayers and overdispersion differ in length', `${where}: layers`);
  const layers = file.layers.map((layerFile, layer) => {
    const at = `${where}: layers[${layer}]`;
    if (layerFile.base.length !== E)
      throw predictorError(`base has ${layerFile.base.length} entries, expected ${E}`, at);
    const model = new LayerModel(
      E,
      file.topK,
      layerFile.levels.length,
      Float64Array.from(layerFile.base),
      layerFile.levels.map((level) => level.rows),
    );
    model.auxiliaryConcentration = layerFile.auxiliaryConcentration ?? Number.NaN;
    layerFile.levels.forEach((levelFile, c) => {
      const levelAt = `${at}.levels[${c}]`;
      const keys = fromBase64(levelFile.keys, Float64Array, levelFile.rows, `${levelAt}.keys`);
      const parents = fromBase64(levelFile.parents, Int32Array, levelFile.rows, `${levelAt}.parents`);
      const counts = fromBase64(levelFile.counts, Float32Array, levelFile.rows * E, `${levelAt}.counts`);
      const level = model.levels[c]!;
      const parentRows = c === 0 ? 1 : layerFile.levels[c - 1]!.rows;
      for (let r = 0; r < levelFile.rows; r++) {
        const parent = parents[r]!;
        if (c === 0 ? parent !== -1 : parent < 0 || parent >= parentRows)
          throw predictorError(
            `row ${r} has parent ${parent}, outside the previous level`,
            `${levelAt}.parents`,
          );
        const row = level.rowFor(keys[r]!, parent);
        if (row !== r) throw predictorError(`key of row ${r} repeats row ${row}`, `${levelAt}.keys`);
        let total = 0;
        for (let e = 0; e < E; e++) {
          const count = counts[r * E + e]!;
          if (!(count >= 0))
            throw predictorError(`count ${count} is not a non-negative number`, `${levelAt}.counts`);
          level.counts[r * E + e] = count;
          total += count;
        }
        level.totals[r] = total;
      }
      model.concentrations[c] = levelFile.concentration;
    });
    return model;
  });
  const state: PredictorState = {
    strategy: file.strategy,
    modelName: file.modelName,
    numExperts: E,
    topK: file.topK,
    moeLayers: file.moeLayers,
    chunk: file.chunk,
    contextTokens: file.contextTokens,
    usePreviousLayer: file.usePreviousLayer,
    hasAttention: file.hasAttention,
    intervalLevel: file.intervalLevel,
    batchTokens: file.batchTokens,
    halfLifeTokens: file.halfLifeTokens,
    driftThreshold: file.driftThreshold,
    overdispersion: file.overdispersion,
    ladders: file.layers.map((layerFile) => layerFile.levels.map((level) => level.kind)),
    layers,
    drift: {
      baselineLogLikelihood: file.drift.baselineLogLikelihood ?? Number.NaN,
      baselineStandardDeviation: file.drift.baselineStandardDeviation ?? Number.NaN,
    },
    calibrationTokens: file.calibrationTokens,
  };
  return new Predictor(state);
}

/** Writes a predictor file; returns what was pruned. */
export async function writePredictorFile(
  path: string,
  predictor: Predictor,
  options: SerializeOptions = {},
): Promise<PruneReport> {
  const { file, pruned } = serializePredictor(predictor, options);
  await writeFile(path, `${JSON.stringify(file)}\n`);
  return pruned;
}

/** Reads a predictor file written by `writePredictorFile` / `switchyard predict fit`. */
export async function readPredictorFile(path: string): Promise<Predictor> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw predictorError(`cannot read predictor file: ${(error as Error).message}`, path, 'NOT_FOUND', error);
  }
  return deserializePredictor(parseJson(text, path, 'PREDICTOR_INVALID'), path);
}
