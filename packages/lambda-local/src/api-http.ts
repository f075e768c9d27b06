import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { LambdaApiError } from './errors.js';

/** Answers with a JSON body (none for `undefined`) and a fresh `x-amzn-RequestId`. */
export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(body);
}

/** Answers with AWS's REST-JSON error shape, from which the SDK raises the named exception class. */
export function sendApiError(response: ServerResponse, error: LambdaApiError): void {
  sendJson(
    response,
    error.status,
    { Type: 'User', message: error.message, ...error.extra },
    { 'x-amzn-ErrorType': `${error.errorType}:`, ...error.headers },
  );
}

/** `name`, `name:qualifier`, or a (partial) ARN, as a path segment → name and qualifier. */
export function parseFunctionName(raw: string): { name: string; qualifier: string | undefined } {
  const decoded = decodeURIComponent(raw);
  const afterArn = decoded.includes(':function:')
    ? decoded.slice(decoded.indexOf(':function:') + 10)
    : decoded;
  const [name = '', qualifier] = afterArn.split(':');
  return { name, qualifier };
}

/** Whether `body` is empty or JSON text (Lambda refuses anything else with a 400). */
export function isJsonOrEmpty(body: Buffer): boolean {
  if (body.length === 0) return true;
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
