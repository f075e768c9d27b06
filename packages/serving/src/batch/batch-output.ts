import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { type Logger, noopLogger } from '@switchyard/core';
import { ServingError } from '../errors.js';
import { type BatchOutputLine, outputKey } from './batch-line.js';

/** What an existing output holds: its lines by key, after any torn last line was cut off. */
export interface ExistingOutput {
  lines: Map<string, BatchOutputLine>;
  /** Bytes cut off the end: a line a kill tore in half (0 when the file ended cleanly). */
  repairedBytes: number;
}

/**
 * Reads an output file a previous run left, so the job can skip what it already answered. A last line
 * without its newline, or one that does not parse, is what a kill mid-write leaves: it is cut off (its
 * request runs again). A bad line anywhere else means the file is not this job's output: refused, so no
 * result is lost by overwriting it.
 */
export function readExistingOutput(
  path: string,
  { logger = noopLogger }: { logger?: Logger } = {},
): ExistingOutput {
  const lines = new Map<string, BatchOutputLine>();
  if (!existsSync(path)) return { lines, repairedBytes: 0 };
  const buffer = readFileSync(path);
  let start = 0;
  let lineNumber = 0;
  let keep = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(10, start);
    const end = newline < 0 ? buffer.length : newline;
    lineNumber += 1;
    const text = buffer.subarray(start, end).toString('utf8');
    const isLast = newline < 0 || newline === buffer.length - 1;
    let parsed: BatchOutputLine | undefined;
    try {
      parsed = JSON.parse(text) as BatchOutputLine;
      if (typeof parsed !== 'object' || parsed === null || !('custom_id' in parsed)) parsed = undefined;
    } catch {
      parsed = undefined;
    }
    if (newline < 0 || parsed === undefined) {
      if (!isLast) {
        throw new ServingError({
          code: 'INVALID_INPUT',
          message: `${path} line ${lineNumber} is not a batch output line; refusing to append to a file that is not this job's output`,
          location: `${path}:${lineNumber}`,
        });
      }
      break;
    }
    lines.set(outputKey(parsed), parsed);
    start = end + 1;
    keep = start;
  }
  const repairedBytes = buffer.length - keep;
  if (repairedBytes > 0) {
    truncateSync(path, keep);
    logger.warn('cut a torn last line off the batch output', { path, bytes: repairedBytes });
  }
  return { lines, repairedBytes };
}

/** Appends output lines, each in one write (a kill leaves whole lines and at most one torn last line). */
export class OutputAppender {
  private readonly fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  append(line: BatchOutputLine): void {
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written);
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
