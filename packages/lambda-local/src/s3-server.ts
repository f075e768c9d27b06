import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface StoredObject {
  data: Uint8Array;
  contentType: string;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xmlUnescape(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>local</RequestId></Error>`;
  response.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** Decodes an `aws-chunked` body (`hex-size;chunk-signature=…\r\n data \r\n … 0\r\n trailers`). */
function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '0', 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * A minimal in-memory S3 API, path-style only (`/bucket/key`): CreateBucket, HeadBucket,
 * DeleteBucket, ListObjectsV2, DeleteObjects, PutObject, GetObject (with a single byte Range), HeadObject,
 * DeleteObject. Enough for `@aws-sdk/client-s3` with `forcePathStyle: true`. No auth, no versions.
 */
export class LocalS3Store {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  getObject(bucket: string, key: string): Uint8Array | undefined {
    return this.buckets.get(bucket)?.get(key)?.data;
  }

  putObject(bucket: string, key: string, data: Uint8Array, contentType = 'application/octet-stream'): void {
    this.createBucket(bucket);
    this.buckets.get(bucket)?.set(key, {
      data,
      contentType,
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      lastModified: new Date(),
      metadata: {},
    });
  }

  async handle(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const bucket = decodeURIComponent(bucketName);
    const key = rest.map(decodeURIComponent).join('/');
    const method = request.method ?? 'GET';
    const resource = url.pathname;
    if (!bucket) {
      const list = [...this.buckets.keys()]
        .map(
          (name) =>
            `<Bucket><Name>${xmlEscape(name)}</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket>`,
        )
        .join('');
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult><Buckets>${list}</Buckets></ListAllMyBucketsResult>`;
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(xml);
      return;
    }
    const objects = this.buckets.get(bucket);
    if (!key) {
      if (method === 'PUT') {
        this.createBucket(bucket);
        response.writeHead(200, { location: `/${bucket}` });
        response.end();
        return;
      }
      if (!objects)
        return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource);
      if (method === 'POST' && url.searchParams.has('delete')) {
        // DeleteObjects: <Delete><Object><Key>…</Key></Object>…</Delete>
        const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
          xmlUnescape(m[1] ?? ''),
        );
        for (const k of keys) objects.delete(k);
        const deleted = keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('');
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult>${deleted}</DeleteResult>`;
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(xml);
        return;
      }
      if (method === 'HEAD') {
        response.writeHead(200);
        response.end();
        return;
      }
      if (method === 'DELETE') {
        if (objects.size > 0)
          return sendError(
            response,
            409,
            'BucketNotEmpty',
            'The bucket you tried to delete is not empty',
            resource,
          );
        this.buckets.delete(bucket);
        response.writeHead(204);
        response.end();
        return;
      }
      if (method === 'GET') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const contents = keys
          .map((k) => {
            const object = objects.get(k) as StoredObject;
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(object.etag)}</ETag><Size>${object.data.byteLength}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join('');
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`;
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(xml);
        return;
      }
      return sendError(
        response,
        405,
        'MethodNotAllowed',
        `${method} is not supported on a bucket here`,
        resource,
      );
    }
    if (!objects)
      return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource);
    if (method === 'PUT') {
      if (request.headers['x-amz-copy-source']) {
        return sendError(
          response,
          501,
          'NotImplemented',
          'CopyObject is not supported by the local S3',
          resource,
        );
      }
      const chunked =
        String(request.headers['content-encoding'] ?? '').includes('aws-chunked') ||
        String(request.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
      const data = new Uint8Array(chunked ? decodeAwsChunked(body) : body);
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name] = value;
      }
      const object: StoredObject = {
        data,
        contentType: String(request.headers['content-type'] ?? 'application/octet-stream'),
        etag: `"${createHash('md5').update(data).digest('hex')}"`,
        lastModified: new Date(),
        metadata,
      };
      objects.set(key, object);
      response.writeHead(200, { etag: object.etag });
      response.end();
      return;
    }
    if (method === 'DELETE') {
      objects.delete(key);
      response.writeHead(204);
      response.end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      const object = objects.get(key);
      if (!object)
        return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.', resource);
      const headers: Record<string, string | number> = {
        'content-type': object.contentType,
        etag: object.etag,
        'last-modified': object.lastModified.toUTCString(),
        'accept-ranges': 'bytes',
        ...object.metadata,
      };
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(request.headers.range ?? ''));
      let data = object.data;
      let status = 200;
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), data.byteLength - 1) : data.byteLength - 1;
        if (start >= data.byteLength || end < start) {
          return sendError(response, 416, 'InvalidRange', 'The requested range is not satisfiable', resource);
        }
        headers['content-range'] = `bytes ${start}-${end}/${data.byteLength}`;
        data = data.subarray(start, end + 1);
        status = 206;
      }
      headers['content-length'] = data.byteLength;
      response.writeHead(status, headers);
      response.end(method === 'HEAD' ? undefined : data);
      return;
    }
    sendError(response, 405, 'MethodNotAllowed', `${method} is not supported on an object here`, resource);
  }
}
