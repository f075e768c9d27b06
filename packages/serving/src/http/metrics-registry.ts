/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with
 * labels. The HTTP layer keeps its own so it needs no dependency and the dashboard reads the same numbers.
 */
type Labels = Record<string, string | number>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((key) => `${key}="${escapeLabel(String(labels[key]))}"`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

export class Counter implements Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Reads a total kept elsewhere (e.g. billed GB-s from the executor) instead of `inc`. */
    private readonly collect?: () => number,
  ) {}

  inc(labels: Labels = {}, amount = 1): void {
    if (amount < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }

  get(labels: Labels = {}): number {
    if (this.collect && Object.keys(labels).length === 0) return this.collect();
    return this.values.get(labelKey(labels)) ?? 0;
  }

  /** Sum over every label set. */
  total(): number {
    if (this.collect) return this.collect();
    let sum = 0;
    for (const value of this.values.values()) sum += value;
    return sum;
  }

  render(): string[] {
    if (this.collect) return [`${this.name} ${formatNumber(this.collect())}`];
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values].map(
      ([key, value]) => `${this.name}${key ? `{${key}}` : ''} ${formatNumber(value)}`,
    );
  }
}

export class Gauge implements Metric {
  readonly type = 'gauge';
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => number,
  ) {}

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }

  get(labels: Labels = {}): number {
    if (this.collect && Object.keys(labels).length === 0) return this.collect();
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    if (this.collect) return [`${this.name} ${formatNumber(this.collect())}`];
    if (this.values.size === 0) return [];
    return [...this.values].map(
      ([key, value]) => `${this.name}${key ? `{${key}}` : ''} ${formatNumber(value)}`,
    );
  }
}

export class Histogram implements Metric {
  readonly type = 'histogram';
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]! += 1;
  }

  snapshot(): { buckets: readonly number[]; counts: readonly number[]; sum: number; count: number } {
    return { buckets: this.buckets, counts: [...this.counts], sum: this.sum, count: this.count };
  }

  /** Estimated quantile by linear interpolation inside the bucket (as Prometheus' histogram_quantile). */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = q * this.count;
    let previousBound = 0;
    let previousCount = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      if (this.counts[i]! >= rank) {
        const inBucket = this.counts[i]! - previousCount;
        const share = inBucket === 0 ? 0 : (rank - previousCount) / inBucket;
        return previousBound + (this.buckets[i]! - previousBound) * share;
      }
      previousBound = this.buckets[i]!;
      previousCount = this.counts[i]!;
    }
    return this.buckets[this.buckets.length - 1]!;
  }

  render(): string[] {
    const lines = this.buckets.map(
      (bound, i) => `${this.name}_bucket{le="${formatNumber(bound)}"} ${this.counts[i]}`,
    );
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${formatNumber(this.sum)}`);
    lines.push(`${this.name}_count ${this.count}`);
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string, collect?: () => number): Counter {
    return this.add(new Counter(name, help, collect));
  }

  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.add(new Gauge(name, help, collect));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  /** The text exposition format, `Content-Type: text/plain; version=0.0.4`. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics) {
      lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${metric.name} ${metric.type}`);
      lines.push(...metric.render());
    }
    return `${lines.join('\n')}\n`;
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.some((existing) => existing.name === metric.name)) {
      throw new Error(`metric ${metric.name} is registered twice`);
    }
    this.metrics.push(metric);
    return metric;
  }
}
