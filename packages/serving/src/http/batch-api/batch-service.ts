import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, type Logger, noopLogger } from '@switchyard/core';
import type { BatchOutputLine } from '../../batch/batch-line.js';
import { runBatchJob } from '../../batch/run-batch.js';
import type { Engine } from '../../engine.js';
import { HttpError } from '../../errors.js';
import type { StatusProviders } from '../../status.js';
import type { LineDispatcher } from '../line-dispatch.js';
import type { BatchStore, StoredBatch, StoredFile } from './batch-store.js';

const nowS = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}-${randomUUID().replaceAll('-', '')}`;

export interface BatchServiceDependencies {
  store: BatchStore;
  dispatcher: LineDispatcher;
  engine: Engine;
  status: StatusProviders;
  logger?: Logger;
  /**
   * Lines of all batches in flight at once. Kept small so batch lines never hold most of the engine's
   * sequence slots: interactive requests join the next step beside them.
   */
  concurrency: number;
}

/**
 * Runs the Batch API's batches: each is a `runBatchJob` over its input file with its output under
 * `<dataDir>/batches/<id>/`, so a batch interrupted by a restart resumes where its output ends.
 */
export class BatchService {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly deps: BatchServiceDependencies) {
    this.logger = deps.logger ?? noopLogger;
  }

  get store(): BatchStore {
    return this.deps.store;
  }

  /** Starts every batch a previous server left in progress; finishes cancellations it left half done. */
  resume(): void {
    for (const batch of this.store.batchesIn(['validating', 'in_progress', 'finalizing'])) {
      this.logger.warn('resuming a batch after a restart', { batch: batch.id });
      this.start(batch);
    }
    for (const batch of this.store.batchesIn(['cancelling'])) this.finalize(batch.id, 'cancelled');
  }

  addFile(purpose: string, filename: string, content: Buffer): StoredFile {
    const id = newId('file');
    const path = join(this.store.filesDir, `${id}.jsonl`);
    writeFileSync(path, content);
    const file = { id, purpose, filename, bytes: content.byteLength, createdAt: nowS(), path };
    this.store.addFile(file);
    return file;
  }

  createBatch(request: {
    inputFileId: string;
    endpoint: string;
    completionWindow: string;
    metadata: Record<string, string> | null;
  }): StoredBatch {
    const file = this.store.getFile(request.inputFileId);
    if (!file) {
      throw new HttpError({
        code: 'NOT_FOUND',
        message: `No file with id '${request.inputFileId}'.`,
        param: 'input_file_id',
      });
    }
    if (file.purpose !== 'batch') {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: `File '${file.id}' has purpose '${file.purpose}'; a batch reads a file uploaded with purpose 'batch'.`,
        param: 'input_file_id',
      });
    }
    if (!this.deps.dispatcher.urls.includes(request.endpoint)) {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: `endpoint must be ${this.deps.dispatcher.urls.join(' or ')}, got '${request.endpoint}'.`,
        param: 'endpoint',
      });
    }
    const batch: StoredBatch = {
      id: newId('batch'),
      inputFileId: file.id,
      endpoint: request.endpoint,
      completionWindow: request.completionWindow,
      status: 'validating',
      outputFileId: null,
      errorFileId: null,
      createdAt: nowS(),
      inProgressAt: null,
      completedAt: null,
      failedAt: null,
      cancellingAt: null,
      cancelledAt: null,
      total: 0,
      completed: 0,
      failed: 0,
      metadata: request.metadata,
      error: null,
    };
    this.store.addBatch(batch);
    this.start(batch);
    return this.store.getBatch(batch.id)!;
  }

  cancel(id: string): StoredBatch {
    const batch = this.store.getBatch(id);
    if (!batch) throw new HttpError({ code: 'NOT_FOUND', message: `No batch with id '${id}'.` });
    if (['completed', 'failed', 'cancelled'].includes(batch.status)) {
      throw new HttpError({
        code: 'INVALID_INPUT',
        message: `Batch '${id}' is ${batch.status} and cannot be cancelled.`,
        apiCode: 'invalid_state',
      });
    }
    this.store.updateBatch(id, { status: 'cancelling', cancellingAt: nowS() });
    const run = this.running.get(id);
    if (run) run.controller.abort();
    else this.finalize(id, 'cancelled');
    return this.store.getBatch(id)!;
  }

  /** Stops submitting batch lines, waits for those in flight; batches stay in progress for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const run of this.running.values()) run.controller.abort();
    await Promise.all([...this.running.values()].map((run) => run.done));
    this.store.close();
  }

  private outputPath(id: string): string {
    const dir = join(this.store.jobsDir, id);
    mkdirSync(dir, { recursive: true });
    return join(dir, 'output.jsonl');
  }

  private start(batch: StoredBatch): void {
    const file = this.store.getFile(batch.inputFileId);
    if (!file) {
      this.store.updateBatch(batch.id, {
        status: 'failed',
        failedAt: nowS(),
        error: 'the input file is gone',
      });
      return;
    }
    this.store.updateBatch(batch.id, { status: 'in_progress', inProgressAt: batch.inProgressAt ?? nowS() });
    const controller = new AbortController();
    const done = runBatchJob(
      {
        inputPath: file.path,
        outputPath: this.outputPath(batch.id),
        concurrency: this.deps.concurrency,
        order: 'input',
        signal: controller.signal,
      },
      {
        dispatcher: this.deps.dispatcher,
        engine: this.deps.engine,
        billing: this.deps.status.billing,
        logger: this.logger,
        onProgress: (progress) =>
          this.store.updateBatch(batch.id, {
            total: progress.total,
            completed: progress.written - progress.failed,
            failed: progress.failed,
          }),
      },
    ).then(
      (summary) => {
        this.store.updateBatch(batch.id, {
          total: summary.requests,
          completed: summary.succeeded,
          failed: summary.failed,
        });
        if (summary.finished) this.finalize(batch.id, 'completed');
        else if (this.store.getBatch(batch.id)?.status === 'cancelling') this.finalize(batch.id, 'cancelled');
        // Otherwise the server is closing: the batch stays in progress and resumes on the next start.
      },
      (error: unknown) => {
        this.logger.error('batch failed', { batch: batch.id, error: describeError(error) });
        this.store.updateBatch(batch.id, { status: 'failed', failedAt: nowS(), error: describeError(error) });
      },
    );
    const tracked = done.finally(() => this.running.delete(batch.id));
    this.running.set(batch.id, { controller, done: tracked });
    if (this.closed) controller.abort();
  }

  /** Splits the output into OpenAI's output file (answered lines) and error file (the rest). */
  private finalize(id: string, status: 'completed' | 'cancelled'): void {
    this.store.updateBatch(id, { status: status === 'completed' ? 'finalizing' : 'cancelling' });
    let lines: BatchOutputLine[] = [];
    try {
      lines = readFileSync(this.outputPath(id), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as BatchOutputLine);
    } catch {
      lines = [];
    }
    const answered = lines.filter((line) => line.error === null);
    const failed = lines.filter((line) => line.error !== null);
    const toFile = (part: BatchOutputLine[], kind: string) =>
      part.length === 0
        ? null
        : this.addFile(
            'batch_output',
            `${id}_${kind}.jsonl`,
            Buffer.from(part.map((line) => `${JSON.stringify(line)}\n`).join('')),
          ).id;
    const at = nowS();
    this.store.updateBatch(id, {
      status,
      outputFileId: toFile(answered, 'output'),
      errorFileId: toFile(failed, 'error'),
      completed: answered.length,
      failed: failed.length,
      ...(status === 'completed' ? { completedAt: at } : { cancelledAt: at }),
    });
  }
}
