import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, refuses the next request per key, and refills over time', () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerMinute: 60, burst: 2, now: () => now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    const refused = limiter.take('a');
    expect(refused).toEqual({ allowed: false, retryAfterMs: 1000 });
    expect(limiter.take('b').allowed).toBe(true);
    now = 999;
    expect(limiter.take('a').allowed).toBe(false);
    now = 2000;
    expect(limiter.take('a').allowed).toBe(true);
  });
});
