import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createRandom,
  type ExpertQuantization,
  encodeExpertMessage,
  expertProcessEnvironment,
  SwitchyardError,
} from '@switchyard/core';
import type { ComputeMemory } from '@switchyard/cost-model';
import { createExpertFunction, expertManifestFile } from '@switchyard/expert-function';
import { encodeEnvelope } from '@switchyard/expert-function/internal';
import { buildExpertGraph, loadCheckpoint } from '@switchyard/model';

const runFile = promisify(execFile);

/**
 * This process's own peak RSS in MB: `VmHWM` of /proc/self/status, which belongs to the address space
 * exec created. `process.resourceUsage().maxRSS` is not that on Linux: the kernel carries the largest
 * RSS across execve, and a child started with vfork (libuv) starts from its parent's address space,
 * so a child's maxRSS is at least its parent's peak. Falls back to maxRSS where /proc is missing.
 */
export function ownPeakRssMB(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** What one memory child reports: its peak RSS after one call over all its experts. */
export interface MemoryMeasurement {
  experts: number;
  tokens: number;
  peakRssMB: number;
  weightBytesPerExpert: number;
}

/**
 * Inside a child process started with the expert-process environment: the expert function's own
 * code (`createExpertFunction`) loads `experts` graphs of the checkpoint in the format from a manifest,
 * then answers one request of `tokens` tokens per expert; the process's peak RSS is what a Lambda
 * function of these experts needs at least.
 */
export async function measureFunctionMemory(
  dir: string,
  experts: number,
  tokens: number,
  quantization: ExpertQuantization | undefined,
  weightBytesPerExpert: number,
): Promise<MemoryMeasurement> {
  const checkpoint = await loadCheckpoint(dir);
  const { hiddenSize, moeLayers, numExperts } = checkpoint.config;
  const layer = moeLayers[0]!;
  const count = Math.min(experts, numExperts);
  const work = await mkdtemp(join(tmpdir(), 'switchyard-memory-'));
  try {
    const entries = [];
    for (let expert = 0; expert < count; expert++) {
      const file = `layer${layer}-expert${expert}.onnx`;
      await writeFile(join(work, file), buildExpertGraph({ checkpoint }, layer, expert, { quantization }));
      entries.push({ layer, expert, file });
    }
    await writeFile(
      join(work, expertManifestFile),
      JSON.stringify({ kind: 'switchyard.expert-manifest', version: 1, hiddenSize, experts: entries }),
    );
    const fn = createExpertFunction({ manifestPath: join(work, expertManifestFile), threads: 1 });
    await fn.ready;
    const random = createRandom(7);
    const activations = Float32Array.from({ length: count * tokens * hiddenSize }, () => random() * 2 - 1);
    const request = encodeExpertMessage({
      kind: 'request',
      dtype: 'f32',
      layer,
      sequence: 1,
      hiddenSize,
      expertIds: entries.map((entry) => entry.expert),
      tokenCounts: entries.map(() => tokens),
      activations,
    });
    await fn.handler(JSON.parse(Buffer.from(encodeEnvelope(request)).toString('utf8')));
    await fn.close();
    return {
      experts: count,
      tokens,
      peakRssMB: ownPeakRssMB(),
      weightBytesPerExpert,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs `measureFunctionMemory` in a fresh child process (this CLI, `--memory-child n`). */
async function inChild(argv: string[], experts: number): Promise<MemoryMeasurement> {
  const script = process.argv[1];
  if (!script)
    throw new SwitchyardError({ code: 'INTERNAL', message: 'cannot tell how this CLI was started' });
  try {
    const { stdout } = await runFile(
      process.execPath,
      [...process.execArgv, script, ...argv, '--memory-child', String(experts)],
      { env: { ...process.env, ...expertProcessEnvironment }, maxBuffer: 1 << 24 },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryMeasurement;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new SwitchyardError({
      code: 'INTERNAL',
      message: `memory measurement with ${experts} experts failed${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`,
      cause: error,
    });
  }
}

/**
 * The profile's memory block from two function processes, with one expert and with `experts`, each
 * expert answering `tokens` tokens: the difference per added expert, less the activations the cost
 * model counts for its tokens (3·I + 2·H float32 values per token), is what an expert keeps resident
 * (its weights as onnxruntime holds them, and its session's arena); the one-expert process less that
 * and its activations is the runtime.
 */
export async function profileFunctionMemory(
  argv: string[],
  options: { experts: number; tokens: number; hiddenSize: number; intermediateSize: number },
): Promise<ComputeMemory> {
  const one = await inChild(argv, 1);
  const many = await inChild(argv, options.experts);
  const mb = 1024 * 1024;
  const activationBytes = options.tokens * (3 * options.intermediateSize + 2 * options.hiddenSize) * 4;
  const resident = Math.max(
    1,
    ((many.peakRssMB - one.peakRssMB) * mb) / (many.experts - 1) - activationBytes,
  );
  return {
    tokens: options.tokens,
    peakRssOneExpertMB: Number(one.peakRssMB.toFixed(1)),
    peakRssMB: Number(many.peakRssMB.toFixed(1)),
    experts: many.experts,
    weightBytesPerExpert: one.weightBytesPerExpert,
    residentBytesPerExpert: Math.round(resident),
    runtimeOverheadMB: Number(Math.max(0, one.peakRssMB - (resident + activationBytes) / mb).toFixed(1)),
    measurement: `peak RSS (getrusage) of two processes running @switchyard/expert-function's handler over 1 and ${many.experts} expert graphs, one request of ${options.tokens} tokens per expert, 1 thread, ${Object.entries(
      expertProcessEnvironment,
    )
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`,
  };
}
