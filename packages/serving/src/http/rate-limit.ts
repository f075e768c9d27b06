/**
 * Per-key token buckets: each key holds up to `burst` request tokens, refilled at
 * `requestsPerMinute / 60` per second. A request takes one token or is refused with the wait until
 * one is available (sent as `Retry-After`).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();
  private readonly refillPerMs: number;

  constructor(
    private readonly options: {
      requestsPerMinute: number;
      burst: number;
      now?: () => number;
      maxKeys?: number;
    },
  ) {
    this.refillPerMs = options.requestsPerMinute / 60_000;
  }

  take(key: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const now = (this.options.now ?? Date.now)();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      // Bound memory under many distinct keys (e.g. per-address limiting): forget the oldest bucket.
      if (this.buckets.size >= (this.options.maxKeys ?? 10_000)) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = { tokens: this.options.burst, updatedMs: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updatedMs) * this.refillPerMs);
    bucket.updatedMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const retryAfterMs = this.refillPerMs > 0 ? Math.ceil((1 - bucket.tokens) / this.refillPerMs) : 60_000;
    return { allowed: false, retryAfterMs };
  }
}
