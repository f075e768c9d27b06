import type { IncomingMessage } from 'node:http';
import { describeError } from '@switchyard/core';
import type { z } from 'zod';
import { HttpError } from '../errors.js';

/** Reads the whole body as UTF-8, refusing with 413 past `maxBodyBytes` (declared or received). */
export async function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpError({
      code: 'PAYLOAD_TOO_LARGE',
      message: `request body exceeds ${maxBodyBytes} bytes`,
      apiCode: 'request_too_large',
    });
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body with `schema`; a bad body is a 400 whose `param` names the first bad field. */
export function parseJsonBody<Schema extends z.ZodType>(text: string, schema: Schema): z.output<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HttpError({
      code: 'INVALID_INPUT',
      message: `We could not parse the JSON body of your request: ${describeError(error)}`,
      apiCode: 'invalid_json',
      cause: error,
    });
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.length > 0 ? issue.path.join('.') : undefined;
  throw new HttpError({
    code: 'INVALID_INPUT',
    message: param
      ? `Invalid value for '${param}': ${issue.message}`
      : `Invalid request body: ${issue.message}`,
    param,
    apiCode: 'invalid_value',
    cause: result.error,
  });
}
