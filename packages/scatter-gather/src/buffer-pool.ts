import { Buffer } from 'node:buffer';

/**
 * Memory for `byteLength` bytes that the caller overwrites completely: `Buffer.allocUnsafeSlow`
 * (malloc, no zero fill) usually recycles memory the GC just freed, where a zero-filled
 * `new ArrayBuffer` of megabytes gets fresh pages and pays a page fault per 4 KB on first touch:
 * 0.14 ms vs 45 ms for 3 MB on the benchmark machine (median, under load).
 */
export function allocateUninitialized(byteLength: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(byteLength).buffer as ArrayBuffer;
}

/**
 * Reusable byte buffers for wire messages. Fresh large ArrayBuffers are not free: each one is
 * zero-filled and page-faulted in on first touch (≈ 3 ms per 768 KB on the sandboxed 2-core machine
 * the benchmarks ran on, ≈ 60× a memcpy of the same bytes), and their garbage drives GC. A layer
 * of 1,024 tokens × 768 f32 moves 6 MB each way, so the orchestrator takes its request buffers from
 * here and gives them back once no attempt can read them any more.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private retainedBytes = 0;

  /** @param maxRetainedBytes buffers given back beyond this are left to the garbage collector. */
  constructor(private readonly maxRetainedBytes = 256 * 1024 * 1024) {}

  /** Capacity class of a request: the size rounded up to 1/8 of its power of two (≤ 12.5 % slack). */
  static capacityFor(byteLength: number): number {
    if (byteLength <= 4096) return 4096;
    const step = 2 ** (Math.floor(Math.log2(byteLength)) - 3);
    return Math.ceil(byteLength / step) * step;
  }

  /** A view of exactly `byteLength` bytes at offset 0 of a pooled buffer (contents are stale). */
  take(byteLength: number): Uint8Array {
    const capacity = BufferPool.capacityFor(byteLength);
    const buffer = this.free.get(capacity)?.pop();
    if (buffer) {
      this.retainedBytes -= capacity;
      return new Uint8Array(buffer, 0, byteLength);
    }
    return new Uint8Array(allocateUninitialized(capacity), 0, byteLength);
  }

  /** Returns a buffer from `take`; the caller must not touch it afterwards. */
  give(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== BufferPool.capacityFor(bytes.byteLength))
      return;
    if (buffer.byteLength === 0 || this.retainedBytes + buffer.byteLength > this.maxRetainedBytes) return;
    let list = this.free.get(buffer.byteLength);
    if (!list) {
      list = [];
      this.free.set(buffer.byteLength, list);
    }
    list.push(buffer);
    this.retainedBytes += buffer.byteLength;
  }

  /** Bytes held for reuse. */
  get retained(): number {
    return this.retainedBytes;
  }
}
