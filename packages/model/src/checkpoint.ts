import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelSummary, parseSafetensors, type SafetensorsFile, SwitchyardError } from '@switchyard/core';
import { type ModelConfig, parseModelConfig } from './config.js';
import { ModelError, modelLoadError } from './errors.js';

/** A Hugging Face checkpoint directory: parsed config and its (possibly sharded) weights. */
export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  rawConfig: Record<string, unknown>;
  files: SafetensorsFile[];
  /** The storage dtype of the weights (the most common one). */
  dtype: string;
  fingerprint: string;
  has(name: string): boolean;
  /** The tensor as float32, checking its shape; MODEL_LOAD_FAILED naming file and tensor otherwise. */
  float32(name: string, shape: readonly number[]): Float32Array;
  /** Total parameter count over every tensor. */
  parameterCount(): number;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelError({
      code: missing ? 'NOT_FOUND' : 'MODEL_LOAD_FAILED',
      message: missing ? 'file is missing' : `cannot read: ${(error as Error).message}`,
      location: path,
      cause: error,
    });
  }
}

function parseJsonFile(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelError({
      code: 'INVALID_CONFIG',
      message: `not valid JSON: ${(error as Error).message}`,
      location: path,
      cause: error,
    });
  }
}

async function weightFiles(dir: string): Promise<string[]> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new ModelError({
      code: 'NOT_FOUND',
      message: `model directory cannot be read: ${(error as Error).message}`,
      location: dir,
      cause: error,
    });
  }
  if (entries.includes('model.safetensors.index.json')) {
    const index = parseJsonFile(await readText(indexPath), indexPath) as { weight_map?: unknown };
    const map = index?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new ModelError({
        code: 'MODEL_LOAD_FAILED',
        message: 'weight_map is missing or not an object',
        location: `${indexPath}: weight_map`,
      });
    const files = [...new Set(Object.values(map as Record<string, unknown>))];
    for (const file of files) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\'))
        throw new ModelError({
          code: 'MODEL_LOAD_FAILED',
          message: `weight_map names an invalid file ${JSON.stringify(file)}`,
          location: `${indexPath}: weight_map`,
        });
    }
    return (files as string[]).sort();
  }
  const shards = entries
    .filter((name) => name.endsWith('.safetensors') && name !== 'reference.safetensors')
    .sort();
  if (shards.length === 0)
    throw new ModelError({
      code: 'NOT_FOUND',
      message: 'no *.safetensors weights (and no model.safetensors.index.json) found',
      location: dir,
    });
  return entries.includes('model.safetensors') ? ['model.safetensors'] : shards;
}

/** Reads config.json and the safetensors weights of a checkpoint directory. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const configPath = join(dir, 'config.json');
  const configText = await readText(configPath);
  const rawConfig = parseJsonFile(configText, configPath) as Record<string, unknown>;
  const config = parseModelConfig(rawConfig, configPath);
  const hash = createHash('sha256').update(configText);
  const files: SafetensorsFile[] = [];
  for (const name of await weightFiles(dir)) {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new ModelError({
        code: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'MODEL_LOAD_FAILED',
        message: `cannot read weights: ${(error as Error).message}`,
        location: path,
        cause: error,
      });
    }
    const file = parseSafetensors(bytes, { source: path });
    if (bytes.byteLength >= 8) {
      const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
      hash.update(bytes.subarray(0, 8 + headerLength));
    }
    files.push(file);
  }
  const owner = new Map<string, SafetensorsFile>();
  const dtypeCounts = new Map<string, number>();
  for (const file of files) {
    for (const name of file.names()) {
      owner.set(name, file);
      const dtype = file.get(name).dtype;
      dtypeCounts.set(dtype, (dtypeCounts.get(dtype) ?? 0) + 1);
    }
  }
  const dtype = [...dtypeCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  return {
    dir,
    config,
    rawConfig,
    files,
    dtype,
    fingerprint: `sha256:${hash.digest('hex')}`,
    has: (name) => owner.has(name),
    float32(name, shape) {
      const file = owner.get(name);
      if (!file)
        throw modelLoadError(
          `tensor is missing from the checkpoint (${config.architecture} needs it)`,
          `${files.map((f) => f.source).join(', ')}: tensor ${name}`,
        );
      const tensor = file.get(name);
      if (!['F32', 'BF16', 'F16'].includes(tensor.dtype))
        throw modelLoadError(
          `has dtype ${tensor.dtype}; weights must be F32, BF16 or F16`,
          `${file.source}: tensor ${name}`,
        );
      try {
        return file.float32(name, shape);
      } catch (error) {
        if (SwitchyardError.isInstance(error)) throw error;
        throw modelLoadError((error as Error).message, `${file.source}: tensor ${name}`, error);
      }
    },
    parameterCount() {
      let total = 0;
      for (const file of files)
        for (const name of file.names()) total += file.get(name).shape.reduce((a, b) => a * b, 1);
      return total;
    },
  };
}

/** The core `ModelSummary` of a checkpoint. */
export function summarizeCheckpoint(checkpoint: Checkpoint, name: string): ModelSummary {
  const c = checkpoint.config;
  const perExpert =
    3 * c.hiddenSize * c.expertIntermediateSize +
    (c.expertKind === 'gpt-oss' ? 2 * c.expertIntermediateSize + c.hiddenSize : 0);
  const experts = perExpert * c.numExperts * c.moeLayers.length;
  const total = checkpoint.parameterCount();
  return {
    name,
    architecture: c.architecture,
    numLayers: c.numLayers,
    hiddenSize: c.hiddenSize,
    vocabSize: c.vocabSize,
    numAttentionHeads: c.numAttentionHeads,
    numKeyValueHeads: c.numKeyValueHeads,
    moeLayers: c.moeLayers,
    numExperts: c.numExperts,
    topK: c.topK,
    expertIntermediateSize: c.expertIntermediateSize,
    numSharedExperts: c.sharedExpertIntermediateSize > 0 ? 1 : 0,
    dtype: checkpoint.dtype,
    parameters: { total, perExpert, experts, dense: Math.max(0, total - experts) },
    bytesPerExpert: perExpert * 4,
    fingerprint: checkpoint.fingerprint,
  };
}
