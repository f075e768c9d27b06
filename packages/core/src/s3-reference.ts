import { z } from 'zod';
import { SwitchyardError } from './errors.js';

/**
 * Object-storage transport for expert messages (paper methods 1 and 2): instead of the wire message,
 * the invocation payload is a small JSON reference. The function reads the request message from
 * `inputKey`, writes its response message to `outputKey` and answers with a reference to it.
 */
export const s3ReferenceMarker = 'switchyard.expert-s3';

export const s3ReferenceSchema = z.object({
  kind: z.literal(s3ReferenceMarker),
  version: z.literal(1),
  bucket: z.string().min(1),
  /** Request: where the wire request is. Absent in a response. */
  inputKey: z.string().min(1).optional(),
  /** Where the wire response is (request: where to write it; response: where it was written). */
  outputKey: z.string().min(1),
  /** Response only: size of the written object. */
  bytes: z.number().int().nonnegative().optional(),
});

export type S3Reference = z.output<typeof s3ReferenceSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeS3Reference(reference: Omit<S3Reference, 'kind' | 'version'>): Uint8Array {
  return encoder.encode(JSON.stringify({ kind: s3ReferenceMarker, version: 1, ...reference }));
}

/** True when a payload is an S3 reference rather than a binary wire message (which starts 'SYX1'). */
export function isS3Reference(payload: Uint8Array): boolean {
  return payload.byteLength > 0 && payload[0] === 0x7b; // '{'
}

export function decodeS3Reference(payload: Uint8Array): S3Reference {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch (error) {
    throw new SwitchyardError({
      code: 'WIRE_FORMAT_INVALID',
      message: 'S3 reference is not JSON',
      cause: error,
      location: 'expert S3 reference',
    });
  }
  const parsed = s3ReferenceSchema.safeParse(value);
  if (!parsed.success) {
    throw new SwitchyardError({
      code: 'WIRE_FORMAT_INVALID',
      message: `S3 reference is malformed: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      location: 'expert S3 reference',
    });
  }
  return parsed.data;
}
