import { ExpertFunctionError } from './errors.js';

/**
 * The expert function's event and result format. Lambda payloads are JSON, so a binary expert message
 * travels base64-encoded inside a small JSON envelope: `{"encoding":"base64","data":"…"}`. Base64 turns
 * 3 bytes into 4 (+33 %); the envelope adds 31 bytes. The function unwraps requests and wraps responses;
 * its caller (lambda-executor's `LambdaExecutor`) does the opposite.
 */
export interface BinaryEnvelope {
  encoding: 'base64';
  data: string;
}

const prefix = '{"encoding":"base64","data":"';
const suffix = '"}';

/** Wraps bytes in the JSON envelope, as UTF-8 bytes ready to be an Invoke payload. */
export function encodeEnvelope(bytes: Uint8Array): Uint8Array {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return Buffer.from(`${prefix}${base64}${suffix}`, 'utf8');
}

/** Size in bytes of the envelope for a message of `byteLength` bytes. */
export function envelopeBytes(byteLength: number): number {
  return prefix.length + Math.ceil(byteLength / 3) * 4 + suffix.length;
}

/** Unwraps an already-parsed envelope object. */
export function decodeEnvelopeObject(value: unknown, where = 'payload'): Uint8Array {
  const envelope = value as Partial<BinaryEnvelope> | null;
  if (envelope?.encoding !== 'base64' || typeof envelope.data !== 'string') {
    throw new ExpertFunctionError({
      code: 'WIRE_FORMAT_INVALID',
      message: 'expected a {"encoding":"base64","data":"…"} envelope',
      location: where,
    });
  }
  const buffer = Buffer.from(envelope.data, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Unwraps envelope bytes (JSON text) into the binary message. */
export function decodeEnvelope(payload: Uint8Array, where = 'payload'): Uint8Array {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  // Fast path: our own encoder's exact layout; no JSON.parse of megabytes of base64.
  if (text.startsWith(prefix) && text.endsWith(suffix)) {
    const buffer = Buffer.from(text.slice(prefix.length, text.length - suffix.length), 'base64');
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ExpertFunctionError({
      code: 'WIRE_FORMAT_INVALID',
      message: 'payload is not JSON',
      location: where,
      cause: error,
    });
  }
  return decodeEnvelopeObject(parsed, where);
}
