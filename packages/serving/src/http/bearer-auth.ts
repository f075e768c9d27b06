import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * Bearer-token check against the configured API keys (compared as SHA-256 digests in constant time).
 * Without keys every request passes. Returns the rate-limit key: the token's digest, or the client
 * address when the server has no keys.
 */
export class BearerAuth {
  private readonly keyHashes: Buffer[];

  constructor(apiKeys: readonly string[]) {
    this.keyHashes = apiKeys.map(hashKey);
  }

  authenticate(request: IncomingMessage): string {
    if (this.keyHashes.length === 0) return clientAddress(request);
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!match) {
      throw new HttpError({
        code: 'UNAUTHORIZED',
        message: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
        apiCode: 'missing_api_key',
      });
    }
    const presented = hashKey(match[1]!);
    if (!this.keyHashes.some((hash) => timingSafeEqual(hash, presented))) {
      throw new HttpError({
        code: 'UNAUTHORIZED',
        message: 'Incorrect API key provided.',
        apiCode: 'invalid_api_key',
      });
    }
    return `key:${presented.toString('hex')}`;
  }
}

/** The rate-limit key of a request that needs no token. */
export function clientAddress(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}
