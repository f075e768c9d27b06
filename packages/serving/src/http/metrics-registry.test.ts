import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics-registry.js';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and cumulative histogram buckets in Prometheus text format', () => {
    const registry = new MetricsRegistry();
    const tokens = registry.counter('x_tokens_total', 'Tokens.');
    const load = registry.counter('x_expert_tokens_total', 'Per-expert load.');
    registry.gauge('x_active', 'Active.', () => 3);
    const latency = registry.histogram('x_latency_seconds', 'Latency.', [0.1, 1]);
    tokens.inc({}, 5);
    load.inc({ layer: 0, expert: 2 }, 7);
    latency.observe(0.05);
    latency.observe(0.5);
    latency.observe(3);
    expect(registry.render()).toBe(
      [
        '# HELP x_tokens_total Tokens.',
        '# TYPE x_tokens_total counter',
        'x_tokens_total 5',
        '# HELP x_expert_tokens_total Per-expert load.',
        '# TYPE x_expert_tokens_total counter',
        'x_expert_tokens_total{expert="2",layer="0"} 7',
        '# HELP x_active Active.',
        '# TYPE x_active gauge',
        'x_active 3',
        '# HELP x_latency_seconds Latency.',
        '# TYPE x_latency_seconds histogram',
        'x_latency_seconds_bucket{le="0.1"} 1',
        'x_latency_seconds_bucket{le="1"} 2',
        'x_latency_seconds_bucket{le="+Inf"} 3',
        'x_latency_seconds_sum 3.55',
        'x_latency_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('estimates quantiles inside buckets and refuses duplicate names', () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram('h', 'h', [1, 2, 4]);
    for (const value of [0.5, 1.5, 1.5, 3]) histogram.observe(value);
    expect(histogram.quantile(0.5)).toBeCloseTo(1.5);
    expect(() => registry.counter('h', 'again')).toThrow(/twice/);
  });
});
