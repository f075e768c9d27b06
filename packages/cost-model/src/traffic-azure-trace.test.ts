import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../test/fixtures.js';
import { mergeTraffic, summarizeTraffic } from './traffic.js';
import { azureTraceFileNames, loadAzureTrace, parseAzureTrace } from './traffic-azure-trace.js';

const traceDir = new URL('../../../fixtures/data/azure-llm-inference-2023/', import.meta.url).pathname;

/** Requests per clock minute, over the minutes that have any (the README's "per minute" figures). */
function perMinute(arrivalS: Float64Array): number[] {
  const counts = new Map<number, number>();
  for (const t of arrivalS) counts.set(Math.floor(t / 60), (counts.get(Math.floor(t / 60)) ?? 0) + 1);
  return [...counts.values()];
}

describe('the bundled Azure LLM inference trace', () => {
  const code = loadAzureTrace(join(traceDir, azureTraceFileNames.code));
  const conversation = loadAzureTrace(join(traceDir, azureTraceFileNames.conversation));

  // Totals cross-checked with awk over the CSVs (prompt, output, prompt + max(0, output − 1)).
  it('reads every request of both services with its token counts', () => {
    const codeSummary = summarizeTraffic(code);
    expect(codeSummary.requests).toBe(8819);
    expect(codeSummary.promptTokens).toBe(18_059_974);
    expect(codeSummary.outputTokens).toBe(245_896);
    expect(codeSummary.forwardTokens).toBe(18_297_051);
    const conversationSummary = summarizeTraffic(conversation);
    expect(conversationSummary.requests).toBe(19_366);
    expect(conversationSummary.promptTokens).toBe(22_361_870);
    expect(conversationSummary.outputTokens).toBe(4_088_665);
    expect(conversationSummary.forwardTokens).toBe(26_431_169);
  });

  it('places arrivals on whole-minute windows of the UTC clock, to the sub-millisecond', () => {
    // code: first request 2023-11-16 18:17:03.9799600, last 19:14:19.9280160 → window 18:17–19:15.
    expect(code.startEpochMs).toBe(Date.UTC(2023, 10, 16, 18, 17));
    expect(code.durationS).toBe(58 * 60);
    expect(code.arrivalS[0]).toBeCloseTo(3.97996, 6);
    expect(code.arrivalS[code.arrivalS.length - 1]).toBeCloseTo(57 * 60 + 19.928016, 6);
    // conversation: 18:15:46.6805900 … 19:14:08.4025270 → the full hour 18:15–19:15.
    expect(conversation.startEpochMs).toBe(Date.UTC(2023, 10, 16, 18, 15));
    expect(conversation.durationS).toBe(3600);
    expect(conversation.arrivalS[0]).toBeCloseTo(46.68059, 6);
  });

  it("matches the README's per-minute request counts (code 1–585, conversation 7–502)", () => {
    const codeMinutes = perMinute(code.arrivalS);
    expect(Math.min(...codeMinutes)).toBe(1);
    expect(Math.max(...codeMinutes)).toBe(585);
    const conversationMinutes = perMinute(conversation.arrivalS);
    expect(Math.min(...conversationMinutes)).toBe(7);
    expect(Math.max(...conversationMinutes)).toBe(502);
  });

  it('merges the two services on one clock', () => {
    const both = mergeTraffic([code, conversation], 'both');
    expect(both.arrivalS.length).toBe(8819 + 19_366);
    expect(both.startEpochMs).toBe(conversation.startEpochMs);
    expect(both.durationS).toBe(3600);
    // The code service's first request keeps its clock time: 18:17:03.97996 is 123.97996 s after 18:15.
    const index = both.arrivalS.findIndex((t) => Math.abs(t - 123.97996) < 1e-6);
    expect(index).toBeGreaterThanOrEqual(0);
    expect(both.promptTokens[index]).toBe(4808);
    expect(both.arrivalS.every((t, i) => i === 0 || t >= both.arrivalS[i - 1]!)).toBe(true);
  });
});

describe('parseAzureTrace', () => {
  const header = 'TIMESTAMP,ContextTokens,GeneratedTokens';
  const good = [
    header,
    '2023-11-16 18:17:03.9799600,4808,10',
    '2023-11-16 18:17:04.0319600,3180,8',
    '2023-11-16 18:18:00,110,0',
  ];

  it('accepts CRLF line ends, a trailing newline and whole seconds', () => {
    const traffic = parseAzureTrace(`${good.join('\r\n')}\r\n`, 'mini.csv');
    expect(Array.from(traffic.promptTokens)).toEqual([4808, 3180, 110]);
    expect(Array.from(traffic.outputTokens)).toEqual([10, 8, 0]);
    expect(traffic.arrivalS[2]).toBe(60);
    expect(traffic.durationS).toBe(120);
    expect(traffic.name).toBe('azure-llm-2023/mini.csv');
  });

  it.each([
    ['a missing field', '2023-11-16 18:17:05.1,4808', 3, 'expected 3 comma-separated fields, got 2'],
    ['an extra field', '2023-11-16 18:17:05.1,4808,1,7', 3, 'got 4'],
    ['a timestamp in another format', '16/11/2023 18:17:05,4808,10', 3, 'TIMESTAMP "16/11/2023 18:17:05"'],
    ['an impossible date', '2023-02-30 18:17:05,4808,10', 3, 'not a valid date'],
    ['an hour past 23', '2023-11-16 24:17:05,4808,10', 3, 'not a valid date'],
    ['a negative count', '2023-11-16 18:17:05,-3,10', 3, 'ContextTokens "-3"'],
    ['a fractional count', '2023-11-16 18:17:05,4808,1.5', 3, 'GeneratedTokens "1.5"'],
    ['an empty count', '2023-11-16 18:17:05,,10', 3, 'ContextTokens ""'],
    ['an arrival before the line above', '2023-11-16 18:17:03.0,4808,10', 3, 'earlier than the line before'],
  ])('names the file and line of %s', (_, damagedLine, line, message) => {
    const lines = [...good.slice(0, 2), damagedLine, ...good.slice(2)];
    const error = errorOf(() => parseAzureTrace(lines.join('\n'), 'traces/code.csv'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.location).toBe(`traces/code.csv:${line}`);
    expect(error.message).toContain(`traces/code.csv:${line}: `);
    expect(error.message).toContain(message);
  });

  it('refuses a wrong header, an empty line inside and a file without requests', () => {
    expect(errorOf(() => parseAzureTrace('time,prompt,output\n', 'x.csv')).location).toBe('x.csv:1');
    const gap = [...good.slice(0, 2), '', ...good.slice(2)].join('\n');
    const empty = errorOf(() => parseAzureTrace(gap, 'x.csv'));
    expect(empty.location).toBe('x.csv:3');
    expect(empty.message).toContain('empty line');
    expect(errorOf(() => parseAzureTrace(`${header}\n`, 'x.csv')).message).toContain('no requests');
  });

  it('names the path of a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-trace-'));
    const missing = join(dir, 'missing.csv');
    const error = errorOf(() => loadAzureTrace(missing));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.location).toBe(missing);
    const damaged = join(dir, 'damaged.csv');
    writeFileSync(damaged, `${good.join('\n')}\n2023-11-16 18:19:00,12,x\n`);
    expect(errorOf(() => loadAzureTrace(damaged)).location).toBe(`${damaged}:5`);
  });
});
