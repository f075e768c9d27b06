import { describe, expect, it } from 'vitest';
import { outputKey, parseBatchInput, parsedLineKey } from './batch-line.js';

const urls = ['/v1/completions', '/v1/chat/completions'];
const line = (customId: string, url = '/v1/completions', body: unknown = { prompt: 'a' }) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url, body });

describe('parseBatchInput', () => {
  it('turns every bad line into an error line for its custom_id or its line number, and keeps going', () => {
    const text = [
      line('a'),
      '{not json',
      '',
      line('a'),
      line('b', '/v1/embeddings'),
      JSON.stringify({ custom_id: 'c', method: 'GET', url: '/v1/completions', body: {} }),
      JSON.stringify({ method: 'POST', url: '/v1/completions', body: {} }),
      line('d', '/v1/chat/completions', { messages: [] }),
    ].join('\n');
    const parsed = parseBatchInput(text, urls);
    expect(parsed.map((entry) => [entry.kind, entry.line, parsedLineKey(entry)])).toEqual([
      ['request', 1, 'a'],
      ['error', 2, 'line:2'],
      ['error', 4, 'line:4'],
      ['error', 5, 'b'],
      ['error', 6, 'c'],
      ['error', 7, 'line:7'],
      ['request', 8, 'd'],
    ]);
    const errors = parsed.flatMap((entry) => (entry.kind === 'error' ? [entry.error] : []));
    expect(errors.map((error) => error.code)).toEqual([
      'invalid_json',
      'duplicate_custom_id',
      'invalid_url',
      'invalid_request',
      'invalid_request',
    ]);
    expect(errors[1]!.message).toContain('already used on line 1');
    expect(errors[3]!.message).toContain('line 6: method');
    // The output key of each error line is what parsing says it is, so a resume finds it.
    for (const entry of parsed) {
      if (entry.kind !== 'error') continue;
      expect(outputKey({ custom_id: entry.customId, error: entry.error })).toBe(parsedLineKey(entry));
    }
  });

  it('keeps CRLF input working and skips blank lines', () => {
    const parsed = parseBatchInput(`${line('a')}\r\n\r\n${line('b')}\r\n`, urls);
    expect(parsed.map((entry) => entry.kind)).toEqual(['request', 'request']);
  });
});
