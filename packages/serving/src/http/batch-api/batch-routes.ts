import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { parseJsonBody, readBody } from '../request-body.js';
import type { Route } from '../router.js';
import type { Exchange, ServerContext } from '../server-context.js';
import type { BatchService } from './batch-service.js';
import type { StoredBatch, StoredFile } from './batch-store.js';

const createBatchSchema = z.object({
  input_file_id: z.string().min(1),
  endpoint: z.string().min(1),
  completion_window: z.literal('24h', 'completion_window must be "24h"'),
  metadata: z.record(z.string(), z.string()).nullish(),
});

/** OpenAI's file object. */
export function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: 'file' as const,
    bytes: file.bytes,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed' as const,
    status_details: null,
  };
}

/** OpenAI's batch object. */
export function batchObject(batch: StoredBatch) {
  return {
    id: batch.id,
    object: 'batch' as const,
    endpoint: batch.endpoint,
    errors:
      batch.error === null
        ? null
        : { object: 'list', data: [{ code: 'batch_failed', message: batch.error }] },
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: batch.createdAt,
    in_progress_at: batch.inProgressAt,
    expires_at: batch.createdAt + 86_400,
    finalizing_at: null,
    completed_at: batch.completedAt,
    failed_at: batch.failedAt,
    expired_at: null,
    cancelling_at: batch.cancellingAt,
    cancelled_at: batch.cancelledAt,
    request_counts: { total: batch.total, completed: batch.completed, failed: batch.failed },
    metadata: batch.metadata,
  };
}

/** Reads a body as bytes up to `maxBytes` (a batch file is larger than a completion request). */
async function readBytes(exchange: Exchange, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of exchange.request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new HttpError({
        code: 'PAYLOAD_TOO_LARGE',
        message: `the upload exceeds ${maxBytes} bytes`,
        apiCode: 'request_too_large',
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const notFound = (what: string, id: string) =>
  new HttpError({ code: 'NOT_FOUND', message: `No ${what} with id '${id}'.`, apiCode: 'not_found' });

/**
 * OpenAI's Files and Batch APIs over a `BatchService`: `POST /v1/files` (multipart, purpose `batch`),
 * `GET /v1/files/{id}`, `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches`,
 * `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`.
 */
export function batchApiRoutes(
  server: ServerContext,
  service: BatchService,
  maxFileBytes: number,
): (method: string, path: string) => Route | undefined {
  const { store } = service;
  const upload: Route = {
    method: 'POST',
    async run(exchange) {
      const type = exchange.request.headers['content-type'] ?? '';
      if (!type.startsWith('multipart/form-data')) {
        throw new HttpError({
          code: 'INVALID_INPUT',
          message: 'Upload a file as multipart/form-data with fields "purpose" and "file".',
        });
      }
      const body = await readBytes(exchange, maxFileBytes);
      let form: FormData;
      try {
        form = await new Response(body, { headers: { 'content-type': type } }).formData();
      } catch {
        throw new HttpError({ code: 'INVALID_INPUT', message: 'The multipart body could not be parsed.' });
      }
      const purpose = form.get('purpose');
      const file = form.get('file');
      if (purpose !== 'batch') {
        throw new HttpError({
          code: 'INVALID_INPUT',
          message: `purpose must be "batch", got ${JSON.stringify(purpose)}.`,
          param: 'purpose',
        });
      }
      if (file === null || typeof file === 'string') {
        throw new HttpError({
          code: 'INVALID_INPUT',
          message: 'The "file" field is missing.',
          param: 'file',
        });
      }
      const content = Buffer.from(await file.arrayBuffer());
      server.send(exchange, 200, fileObject(service.addFile(purpose, file.name || 'upload.jsonl', content)));
    },
  };
  const listBatches: Route = {
    method: 'GET',
    run(exchange) {
      const limit = Math.min(100, Math.max(1, Number(exchange.url.searchParams.get('limit') ?? 20) || 20));
      const after = exchange.url.searchParams.get('after') ?? undefined;
      const page = store.listBatches(limit + 1, after);
      const data = page.slice(0, limit).map(batchObject);
      server.send(exchange, 200, {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: page.length > limit,
      });
    },
  };
  const createBatch: Route = {
    method: 'POST',
    async run(exchange) {
      const body = parseJsonBody(
        await readBody(exchange.request, server.options.maxBodyBytes),
        createBatchSchema,
      );
      const batch = service.createBatch({
        inputFileId: body.input_file_id,
        endpoint: body.endpoint,
        completionWindow: body.completion_window,
        metadata: body.metadata ?? null,
      });
      server.send(exchange, 200, batchObject(batch));
    },
  };
  return (method, path) => {
    if (path === '/v1/files') return method === 'POST' ? upload : undefined;
    if (path === '/v1/batches')
      return method === 'POST' ? createBatch : method === 'GET' ? listBatches : undefined;
    const file = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (file && method === 'GET') {
      const [, id, content] = file;
      return {
        method: 'GET',
        run(exchange) {
          const stored = store.getFile(id!);
          if (!stored) throw notFound('file', id!);
          if (content)
            server.send(exchange, 200, readFileSync(stored.path, 'utf8'), {
              'content-type': 'application/jsonl',
            });
          else server.send(exchange, 200, fileObject(stored));
        },
      };
    }
    const batch = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (batch) {
      const [, id, cancel] = batch;
      if (cancel && method === 'POST')
        return {
          method: 'POST',
          run: (exchange) => server.send(exchange, 200, batchObject(service.cancel(id!))),
        };
      if (!cancel && method === 'GET') {
        return {
          method: 'GET',
          run(exchange) {
            const stored = store.getBatch(id!);
            if (!stored) throw notFound('batch', id!);
            server.send(exchange, 200, batchObject(stored));
          },
        };
      }
    }
    return undefined;
  };
}
