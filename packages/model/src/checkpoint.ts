import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ExpertQuantization,
  type ModelSummary,
  parseSafetensorsHeader,
  type SafetensorsEntry,
  type SafetensorsHeader,
  SwitchyardError,
  safetensorsHeaderLength,
  toFloat32Array,
} from '@switchyard/core';
import { type ModelConfig, parseModelConfig } from './config.js';
import { ModelError, modelLoadError } from './errors.js';
import { expertWeightBytes, resolveQuantization } from './expert-quantization.js';
import {
  checkFp8Pair,
  checkMxfp4Pair,
  checkMxfp4Shape,
  dequantizeFp8,
  dequantizeMxfp4,
  fp8BlockSize,
  fp8ScaleSuffix,
  fp8WeightDtypes,
  mxfp4BlocksSuffix,
  mxfp4ScalesSuffix,
  plainWeightDtypes,
} from './quantized-checkpoint.js';

/** A Hugging Face checkpoint directory: parsed config and its (possibly sharded) weights. */
export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  rawConfig: Record<string, unknown>;
  /** The validated header of each weight file (tensor bytes are read from disk when asked for). */
  files: SafetensorsHeader[];
  /** The storage dtype of the weights (the most common one). */
  dtype: string;
  fingerprint: string;
  has(name: string): boolean;
  /**
   * The tensor as float32, checking its shape; MODEL_LOAD_FAILED naming file and tensor otherwise.
   * FP8 (with block scales) and MXFP4 (blocks + scales) weights are dequantized here.
   */
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

function weightReadError(path: string, error: unknown): ModelError {
  return new ModelError({
    code: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'MODEL_LOAD_FAILED',
    message: `cannot read weights: ${(error as Error).message}`,
    location: path,
    cause: error,
  });
}

/** Reads exactly `length` bytes at `position` (a short read means the file shrank since it was opened). */
function readRange(fd: number, target: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < target.byteLength) {
    const read = readSync(fd, target, done, target.byteLength - done, position + done);
    if (read === 0)
      throw modelLoadError(
        `file ended at byte ${position + done}, expected ${target.byteLength - done} more; was it changed while loaded?`,
        path,
      );
    done += read;
  }
}

/**
 * Opens a weight file for `read`, closing it afterwards; a failure that is not already a
 * SwitchyardError becomes NOT_FOUND / MODEL_LOAD_FAILED naming the file.
 */
function withWeightFile<T>(path: string, read: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw weightReadError(path, error);
  }
  try {
    return read(fd);
  } catch (error) {
    if (SwitchyardError.isInstance(error)) throw error;
    throw weightReadError(path, error);
  } finally {
    closeSync(fd);
  }
}

/** Reads and validates only the header of a safetensors file: the tensors stay on disk until asked for. */
function readHeader(path: string): { header: SafetensorsHeader; bytes: Uint8Array } {
  return withWeightFile(path, (fd) => {
    const fileLength = fstatSync(fd).size;
    const prefix = new Uint8Array(8);
    if (fileLength >= 8) readRange(fd, prefix, 0, path);
    const headerLength = safetensorsHeaderLength(prefix, fileLength, { source: path });
    const bytes = new Uint8Array(8 + headerLength);
    bytes.set(prefix);
    readRange(fd, bytes.subarray(8), 8, path);
    return { header: parseSafetensorsHeader(bytes, fileLength, { source: path }), bytes };
  });
}

/** The raw bytes of one tensor, read from disk on demand. */
function readTensorBytes(path: string, tensor: SafetensorsEntry): Uint8Array {
  return withWeightFile(path, (fd) => {
    const bytes = new Uint8Array(tensor.end - tensor.begin);
    readRange(fd, bytes, tensor.begin, path);
    return bytes;
  });
}

/**
 * One tensor as float32, read from disk on demand. Only that tensor's bytes are in memory while it is
 * converted, so loading never holds a whole weight file (a BF16 checkpoint's file is half its float32
 * size); F32 tensors are read straight into the Float32Array's buffer.
 */
function readFloat32(path: string, tensor: SafetensorsEntry): Float32Array {
  if (tensor.dtype !== 'F32') return toFloat32Array(tensor.dtype, readTensorBytes(path, tensor));
  return withWeightFile(path, (fd) => {
    const out = new Float32Array((tensor.end - tensor.begin) / 4);
    readRange(fd, new Uint8Array(out.buffer), tensor.begin, path);
    return out;
  });
}

/**
 * Checks every quantized weight's companion tensors from the headers alone, so a damaged file fails at
 * load naming the tensor rather than when an expert is first used: each FP8 weight has a block-scale
 * tensor of the right shape, each MXFP4 `_blocks` its `_scales`, and an E8M0 tensor is some weight's scale.
 */
function checkQuantizedTensors(
  files: readonly SafetensorsHeader[],
  owner: ReadonlyMap<string, SafetensorsHeader>,
  fp8Block: readonly [number, number],
): void {
  const located = (name: string) => {
    const file = owner.get(name);
    const entry = file?.entries.get(name);
    return file && entry ? { ...entry, source: file.source } : undefined;
  };
  for (const file of files)
    for (const entry of file.entries.values()) {
      const tensor = { ...entry, source: file.source };
      if (fp8WeightDtypes.includes(entry.dtype))
        checkFp8Pair(tensor, located(`${entry.name}${fp8ScaleSuffix}`), fp8Block);
      else if (entry.name.endsWith(mxfp4BlocksSuffix)) {
        const base = entry.name.slice(0, -mxfp4BlocksSuffix.length);
        checkMxfp4Pair(base, tensor, located(`${base}${mxfp4ScalesSuffix}`));
      } else if (entry.dtype === 'F8_E8M0' && !entry.name.endsWith(fp8ScaleSuffix))
        throw modelLoadError(
          `has dtype F8_E8M0, which only block scales (${fp8ScaleSuffix}) use; weights must be ${[...plainWeightDtypes, ...fp8WeightDtypes].join(', ')}`,
          `${file.source}: tensor ${entry.name}`,
        );
    }
}

/** Reads config.json and the safetensors weights of a checkpoint directory. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const configPath = join(dir, 'config.json');
  const configText = await readText(configPath);
  const rawConfig = parseJsonFile(configText, configPath) as Record<string, unknown>;
  const config = parseModelConfig(rawConfig, configPath);
  const hash = createHash('sha256').update(configText);
  const files: SafetensorsHeader[] = [];
  for (const name of await weightFiles(dir)) {
    const path = join(dir, name);
    const header = readHeader(path);
    hash.update(header.bytes);
    files.push(header.header);
  }
  const owner = new Map<string, SafetensorsHeader>();
  const dtypeCounts = new Map<string, number>();
  for (const file of files) {
    for (const entry of file.entries.values()) {
      owner.set(entry.name, file);
      dtypeCounts.set(entry.dtype, (dtypeCounts.get(entry.dtype) ?? 0) + 1);
    }
  }
  const dtype = [...dtypeCounts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  const fp8Block = fp8BlockSize(rawConfig, configPath);
  /** Whether `name` is the scale tensor of a weight the checkpoint holds (`X_scale_inv` of `X`). */
  const isScaleOf = (name: string, suffix: string): boolean => {
    if (!name.endsWith(suffix)) return false;
    const base = name.slice(0, -suffix.length);
    return owner.has(base) || owner.has(`${base}${mxfp4BlocksSuffix}`);
  };
  checkQuantizedTensors(files, owner, fp8Block);
  return {
    dir,
    config,
    rawConfig,
    files,
    dtype,
    fingerprint: `sha256:${hash.digest('hex')}`,
    has: (name) => owner.has(name) || owner.has(`${name}${mxfp4BlocksSuffix}`),
    float32(name, shape) {
      const located = (tensorName: string): (SafetensorsEntry & { source: string }) | undefined => {
        const file = owner.get(tensorName);
        const entry = file?.entries.get(tensorName);
        return file && entry ? { ...entry, source: file.source } : undefined;
      };
      const read = (tensor: SafetensorsEntry & { source: string }, decode: () => Float32Array) => {
        try {
          return decode();
        } catch (error) {
          if (SwitchyardError.isInstance(error)) throw error;
          throw modelLoadError((error as Error).message, `${tensor.source}: tensor ${tensor.name}`, error);
        }
      };
      const tensor = located(name);
      if (!tensor) {
        const blocks = located(`${name}${mxfp4BlocksSuffix}`);
        if (!blocks)
          throw modelLoadError(
            `tensor is missing from the checkpoint (${config.architecture} needs it)`,
            `${files.map((f) => f.source).join(', ')}: tensor ${name}`,
          );
        const scales = located(`${name}${mxfp4ScalesSuffix}`);
        checkMxfp4Pair(name, blocks, scales);
        checkMxfp4Shape(blocks, shape);
        return read(blocks, () =>
          dequantizeMxfp4(
            blocks,
            readTensorBytes(blocks.source, blocks),
            readTensorBytes(scales!.source, scales!),
          ),
        );
      }
      const isFp8 = fp8WeightDtypes.includes(tensor.dtype);
      if (!isFp8 && !plainWeightDtypes.includes(tensor.dtype))
        throw modelLoadError(
          `has dtype ${tensor.dtype}; weights must be ${[...plainWeightDtypes, ...fp8WeightDtypes].join(', ')} ` +
            `(FP8 with a ${fp8ScaleSuffix} block-scale tensor) or MXFP4 (${mxfp4BlocksSuffix} + ${mxfp4ScalesSuffix})`,
          `${tensor.source}: tensor ${name}`,
        );
      if (shape.length !== tensor.shape.length || shape.some((d, i) => d !== tensor.shape[i]))
        throw modelLoadError(
          `has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`,
          `${tensor.source}: tensor ${name}`,
        );
      if (!isFp8) return read(tensor, () => readFloat32(tensor.source, tensor));
      const scale = located(`${name}${fp8ScaleSuffix}`);
      checkFp8Pair(tensor, scale, fp8Block);
      return read(tensor, () =>
        dequantizeFp8(
          tensor,
          readTensorBytes(tensor.source, tensor),
          scale!,
          readTensorBytes(scale!.source, scale!),
          fp8Block,
        ),
      );
    },
    parameterCount() {
      let total = 0;
      for (const file of files)
        for (const entry of file.entries.values()) {
          // Scales are not parameters; an MXFP4 byte holds two of them.
          if (isScaleOf(entry.name, fp8ScaleSuffix) || isScaleOf(entry.name, mxfp4ScalesSuffix)) continue;
          const count = entry.shape.reduce((a, b) => a * b, 1);
          total += entry.name.endsWith(mxfp4BlocksSuffix) && entry.dtype === 'U8' ? 2 * count : count;
        }
      return total;
    },
  };
}

/**
 * The core `ModelSummary` of a checkpoint; with a quantization, `bytesPerExpert` is the bytes of an
 * expert's quantized weights (codes and scales) and `quantization` says which format.
 */
export function summarizeCheckpoint(
  checkpoint: Checkpoint,
  name: string,
  quantization?: ExpertQuantization,
): ModelSummary {
  const c = checkpoint.config;
  const perExpert =
    3 * c.hiddenSize * c.expertIntermediateSize +
    (c.expertKind === 'gpt-oss' ? 2 * c.expertIntermediateSize + c.hiddenSize : 0);
  const experts = perExpert * c.numExperts * c.moeLayers.length;
  const total = checkpoint.parameterCount();
  const resolved = resolveQuantization(quantization);
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
    bytesPerExpert: expertWeightBytes(c, resolved),
    quantization: resolved.format === 'none' ? undefined : resolved,
    fingerprint: checkpoint.fingerprint,
  };
}
