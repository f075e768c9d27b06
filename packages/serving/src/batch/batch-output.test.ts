import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BatchOutputLine } from './batch-line.js';
import { OutputAppender, readExistingOutput } from './batch-output.js';

const result = (customId: string): BatchOutputLine => ({
  id: `batch_req_${customId}`,
  custom_id: customId,
  response: { status_code: 200, request_id: 'r', body: { usage: { prompt_tokens: 1 } } },
  error: null,
});

describe('batch output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-batch-output-'));

  it('reads what an earlier run appended and cuts off a torn last line', () => {
    const path = join(dir, 'torn.jsonl');
    const appender = new OutputAppender(path);
    appender.append(result('a'));
    appender.append(result('b'));
    appender.close();
    const whole = readFileSync(path, 'utf8');
    appendFileSync(path, JSON.stringify(result('c')).slice(0, 17));
    const existing = readExistingOutput(path);
    expect([...existing.lines.keys()]).toEqual(['a', 'b']);
    expect(existing.repairedBytes).toBe(17);
    expect(readFileSync(path, 'utf8')).toBe(whole);
  });

  it('cuts a last line that has its newline but does not parse (a torn write of the newline-less kind)', () => {
    const path = join(dir, 'garbled.jsonl');
    writeFileSync(path, `${JSON.stringify(result('a'))}\n{"id":"x","cus\n`);
    const existing = readExistingOutput(path);
    expect([...existing.lines.keys()]).toEqual(['a']);
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(result('a'))}\n`);
  });

  it('refuses a file with a bad line before its end: it is not this job output, and nothing is cut', () => {
    const path = join(dir, 'foreign.jsonl');
    const text = `hello\n${JSON.stringify(result('a'))}\n`;
    writeFileSync(path, text);
    expect(() => readExistingOutput(path)).toThrow(/foreign\.jsonl line 1 is not a batch output line/);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('a missing file is an empty output', () => {
    expect(readExistingOutput(join(dir, 'none.jsonl')).lines.size).toBe(0);
  });
});
