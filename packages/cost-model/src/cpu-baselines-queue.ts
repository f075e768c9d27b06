/**
 * A work-conserving FIFO fluid queue with piecewise-constant capacity: the CPU clusters' queueing
 * model (architecture/traffic.md). Work is in vCPU-seconds; capacity in vCPUs (vCPU-seconds served per
 * second). A request's work arrives whole at its arrival and is served by the whole cluster at once, so
 * a request waits exactly until the work ahead of it has drained — the kindest reading for the cluster
 * (no request is ever stuck behind a busy core while another idles).
 */
export class FluidQueue {
  /** Work waiting, vCPU-s. */
  backlogVcpuS = 0;
  nowS = 0;
  /** Work served so far, vCPU-s. */
  servedVcpuS = 0;
  private current: number;
  // Capacity segments: from startS[j] on, capacity[j] vCPUs; served[j] = cumulative capacity-seconds
  // K(startS[j]). K(t) is what lets a request's wait be read off after the fact.
  private readonly startS: number[] = [0];
  private readonly cumulative: number[] = [0];
  private readonly capacity: number[];

  constructor(capacityVcpus: number) {
    this.current = capacityVcpus;
    this.capacity = [capacityVcpus];
  }

  /** Capacity now, vCPUs. */
  get capacityVcpus(): number {
    return this.current;
  }

  /** Runs the queue to `toS` (≥ now) at the current capacity. */
  advance(toS: number): void {
    const elapsed = toS - this.nowS;
    if (elapsed <= 0) return;
    const served = Math.min(this.backlogVcpuS, this.current * elapsed);
    this.backlogVcpuS -= served;
    this.servedVcpuS += served;
    this.nowS = toS;
  }

  /** When the backlog empties at the current capacity (Infinity with no capacity and work waiting). */
  drainS(): number {
    if (this.backlogVcpuS <= 0) return this.nowS;
    return this.current > 0 ? this.nowS + this.backlogVcpuS / this.current : Number.POSITIVE_INFINITY;
  }

  /** Changes the capacity from now on. */
  setCapacity(capacityVcpus: number): void {
    if (capacityVcpus === this.current) return;
    const last = this.startS.length - 1;
    const k = this.cumulative[last]! + this.capacity[last]! * (this.nowS - this.startS[last]!);
    if (this.startS[last] === this.nowS) {
      this.capacity[last] = capacityVcpus;
    } else {
      this.startS.push(this.nowS);
      this.cumulative.push(k);
      this.capacity.push(capacityVcpus);
    }
    this.current = capacityVcpus;
  }

  /** Adds a request's work now; returns the work ahead of it (what it waits for). */
  arrive(workVcpuS: number): number {
    const ahead = this.backlogVcpuS;
    this.backlogVcpuS += workVcpuS;
    return ahead;
  }

  /** Cumulative capacity-seconds K(t). */
  private served(timeS: number): number {
    const j = this.segmentAt(timeS);
    return this.cumulative[j]! + this.capacity[j]! * (timeS - this.startS[j]!);
  }

  /** K at the end of segment j (the last one ends never, or never serves if it has no capacity). */
  private endServed(j: number): number {
    const last = this.startS.length - 1;
    if (j < last) return this.cumulative[j + 1]!;
    return this.capacity[last]! > 0 ? Number.POSITIVE_INFINITY : this.cumulative[last]!;
  }

  /** Every request's wait (see `waitS`), from arrivals and the work ahead of each. */
  waitsS(arrivalS: Float64Array, aheadVcpuS: Float64Array): Float64Array {
    const waits = new Float64Array(arrivalS.length);
    for (let i = 0; i < waits.length; i++) waits[i] = this.waitS(arrivalS[i]!, aheadVcpuS[i]!);
    return waits;
  }

  private segmentAt(timeS: number): number {
    let low = 0;
    let high = this.startS.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.startS[mid]! <= timeS) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /**
   * The wait of a request that arrived at `arrivalS` with `aheadVcpuS` of work ahead of it: until the
   * capacity after its arrival has served that much and is serving its own work — the first moment
   * with K(t) > K(arrival) + ahead, where K(t) is the cumulative capacity-seconds (so a request that
   * finds no capacity waits for some). Call once the queue has been run past the request's start
   * (e.g. at the end); Infinity if it never starts.
   */
  waitS(arrivalS: number, aheadVcpuS: number): number {
    const first = this.segmentAt(arrivalS);
    const target = this.served(arrivalS) + Math.max(0, aheadVcpuS);
    const last = this.startS.length - 1;
    if (!(this.endServed(last) > target)) return Number.POSITIVE_INFINITY;
    // The first segment whose end K exceeds the target is where the request's own work begins.
    let low = first;
    let high = last;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.endServed(mid) > target) high = mid;
      else low = mid + 1;
    }
    const startsS = this.startS[low]! + (target - this.cumulative[low]!) / this.capacity[low]!;
    return Math.max(0, startsS - arrivalS);
  }
}
