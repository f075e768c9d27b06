import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReportLine, parseReportLine } from './executor.js';

describe('REPORT line', () => {
  it('parses the line Lambda writes, with and without Init Duration', () => {
    const log =
      'START RequestId: 8f5 Version: $LATEST\nEND RequestId: 8f5\n' +
      'REPORT RequestId: 8f5\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 1024 MB\tMax Memory Used: 180 MB\tInit Duration: 201.50 ms\t\n';
    expect(parseReportLine(log)).toEqual({
      requestId: '8f5',
      durationMs: 12.34,
      billedDurationMs: 13,
      memorySizeMB: 1024,
      maxMemoryUsedMB: 180,
      initDurationMs: 201.5,
    });
    expect(parseReportLine(log.replace('\tInit Duration: 201.50 ms', ''))?.initDurationMs).toBeUndefined();
  });

  it('returns undefined when no complete REPORT line is present', () => {
    expect(parseReportLine('START RequestId: x\n')).toBeUndefined();
    expect(parseReportLine('REPORT RequestId: x\tDuration: 1 ms\n')).toBeUndefined();
  });

  it('round-trips through formatReportLine (property)', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.integer({ min: 0, max: 900_000_00 }),
        fc.integer({ min: 128, max: 10240 }),
        fc.integer({ min: 1, max: 10240 }),
        fc.option(fc.integer({ min: 0, max: 10_000_00 }), { nil: undefined }),
        (requestId, durationCentiMs, memorySizeMB, maxMemoryUsedMB, initCentiMs) => {
          const report = {
            requestId,
            durationMs: durationCentiMs / 100,
            billedDurationMs: Math.ceil(durationCentiMs / 100),
            memorySizeMB,
            maxMemoryUsedMB,
            ...(initCentiMs === undefined ? {} : { initDurationMs: initCentiMs / 100 }),
          };
          expect(parseReportLine(formatReportLine(report))).toEqual(report);
        },
      ),
    );
  });
});
