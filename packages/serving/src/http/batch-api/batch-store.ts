import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type BatchStatus =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'failed'
  | 'cancelling'
  | 'cancelled';

export interface StoredFile {
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  createdAt: number;
  path: string;
}

export interface StoredBatch {
  id: string;
  inputFileId: string;
  endpoint: string;
  completionWindow: string;
  status: BatchStatus;
  outputFileId: string | null;
  errorFileId: string | null;
  createdAt: number;
  inProgressAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  total: number;
  completed: number;
  failed: number;
  metadata: Record<string, string> | null;
  error: string | null;
}

interface BatchRow {
  id: string;
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  total: number;
  completed: number;
  failed: number;
  metadata: string | null;
  error: string | null;
}

const columns: Record<keyof StoredBatch, keyof BatchRow> = {
  id: 'id',
  inputFileId: 'input_file_id',
  endpoint: 'endpoint',
  completionWindow: 'completion_window',
  status: 'status',
  outputFileId: 'output_file_id',
  errorFileId: 'error_file_id',
  createdAt: 'created_at',
  inProgressAt: 'in_progress_at',
  completedAt: 'completed_at',
  failedAt: 'failed_at',
  cancellingAt: 'cancelling_at',
  cancelledAt: 'cancelled_at',
  total: 'total',
  completed: 'completed',
  failed: 'failed',
  metadata: 'metadata',
  error: 'error',
};

const fromRow = (row: BatchRow): StoredBatch => ({
  id: row.id,
  inputFileId: row.input_file_id,
  endpoint: row.endpoint,
  completionWindow: row.completion_window,
  status: row.status,
  outputFileId: row.output_file_id,
  errorFileId: row.error_file_id,
  createdAt: row.created_at,
  inProgressAt: row.in_progress_at,
  completedAt: row.completed_at,
  failedAt: row.failed_at,
  cancellingAt: row.cancelling_at,
  cancelledAt: row.cancelled_at,
  total: row.total,
  completed: row.completed,
  failed: row.failed,
  metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, string>),
  error: row.error,
});

/**
 * The Batch API's files and batches in SQLite (`<dataDir>/switchyard.sqlite`, write-ahead log), file
 * contents beside it in `<dataDir>/files/`. Every change is one statement, so a killed server leaves
 * each record either before or after it.
 */
export class BatchStore {
  readonly filesDir: string;
  readonly jobsDir: string;
  private readonly db: Database.Database;

  constructor(readonly dataDir: string) {
    this.filesDir = join(dataDir, 'files');
    this.jobsDir = join(dataDir, 'batches');
    mkdirSync(this.filesDir, { recursive: true });
    mkdirSync(this.jobsDir, { recursive: true });
    this.db = new Database(join(dataDir, 'switchyard.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS files (
        id TEXT PRIMARY KEY, purpose TEXT NOT NULL, filename TEXT NOT NULL, bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL, path TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS batches (
        id TEXT PRIMARY KEY, input_file_id TEXT NOT NULL, endpoint TEXT NOT NULL,
        completion_window TEXT NOT NULL, status TEXT NOT NULL, output_file_id TEXT, error_file_id TEXT,
        created_at INTEGER NOT NULL, in_progress_at INTEGER, completed_at INTEGER, failed_at INTEGER,
        cancelling_at INTEGER, cancelled_at INTEGER, total INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, metadata TEXT, error TEXT,
        seq INTEGER NOT NULL);
    `);
  }

  addFile(file: StoredFile): void {
    this.db
      .prepare('INSERT INTO files (id, purpose, filename, bytes, created_at, path) VALUES (?, ?, ?, ?, ?, ?)')
      .run(file.id, file.purpose, file.filename, file.bytes, file.createdAt, file.path);
  }

  getFile(id: string): StoredFile | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE id = ?').get(id) as
      | { id: string; purpose: string; filename: string; bytes: number; created_at: number; path: string }
      | undefined;
    return row && { ...row, createdAt: row.created_at };
  }

  addBatch(batch: StoredBatch): void {
    const seq = (
      this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM batches').get() as { next: number }
    ).next;
    const keys = Object.keys(columns) as (keyof StoredBatch)[];
    const values = keys.map((key) =>
      key === 'metadata' ? (batch.metadata === null ? null : JSON.stringify(batch.metadata)) : batch[key],
    );
    this.db
      .prepare(
        `INSERT INTO batches (${keys.map((key) => columns[key]).join(', ')}, seq) VALUES (${keys.map(() => '?').join(', ')}, ?)`,
      )
      .run(...values, seq);
  }

  getBatch(id: string): StoredBatch | undefined {
    const row = this.db.prepare('SELECT * FROM batches WHERE id = ?').get(id) as BatchRow | undefined;
    return row && fromRow(row);
  }

  /** Newest first; `after` is the id of the last batch of the previous page. */
  listBatches(limit: number, after?: string): StoredBatch[] {
    const rows = (
      after === undefined
        ? this.db.prepare('SELECT * FROM batches ORDER BY seq DESC LIMIT ?').all(limit)
        : this.db
            .prepare(
              'SELECT * FROM batches WHERE seq < (SELECT seq FROM batches WHERE id = ?) ORDER BY seq DESC LIMIT ?',
            )
            .all(after, limit)
    ) as BatchRow[];
    return rows.map(fromRow);
  }

  batchesIn(statuses: readonly BatchStatus[]): StoredBatch[] {
    const rows = this.db
      .prepare(`SELECT * FROM batches WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY seq`)
      .all(...statuses) as BatchRow[];
    return rows.map(fromRow);
  }

  updateBatch(id: string, changes: Partial<Omit<StoredBatch, 'id'>>): void {
    const keys = Object.keys(changes) as (keyof Omit<StoredBatch, 'id'>)[];
    if (keys.length === 0) return;
    const values = keys.map((key) =>
      key === 'metadata' ? JSON.stringify(changes.metadata) : (changes[key] as unknown),
    );
    this.db
      .prepare(`UPDATE batches SET ${keys.map((key) => `${columns[key]} = ?`).join(', ')} WHERE id = ?`)
      .run(...values, id);
  }

  close(): void {
    this.db.close();
  }
}
