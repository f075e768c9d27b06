import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutput, formatTable } from './output.js';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

function setup(options: { tty: boolean; noColor?: boolean }) {
  const stdout = new Capture(options.tty);
  const stderr = new Capture(options.tty);
  let clock = 0;
  const output = createOutput({ stdout, stderr, noColor: options.noColor ?? false, now: () => clock });
  return { output, stdout, stderr, advance: (ms: number) => (clock += ms) };
}

describe('formatTable', () => {
  it('aligns columns, right-aligning numbers', () => {
    const text = formatTable([
      { expert: 'e0', memoryMB: 512, costUsd: 0.5 },
      { expert: 'e10', memoryMB: 10240, costUsd: 12.25 },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('expert  memoryMB  costUsd');
    expect(lines[2]).toBe('e0           512      0.5');
    expect(lines[3]).toBe('e10       10,240    12.25');
    expect(new Set(lines.slice(0, 2).map((line) => line.length)).size).toBe(1);
  });

  it('leaves empty cells for missing values and honours the column order', () => {
    const text = formatTable([{ a: 1 }, { b: 'x' }], ['b', 'a']);
    expect(text.split('\n')).toEqual(['b  a', '─  ─', '   1', 'x']);
  });
});

describe('progress', () => {
  it('draws nothing when stderr is not a terminal', () => {
    const { output, stderr, stdout, advance } = setup({ tty: false });
    const bar = output.progress('profiling', 4);
    advance(2000);
    bar.tick(2);
    bar.done();
    expect(stderr.text).toBe('');
    expect(stdout.text).toBe('');
  });

  it('draws on stderr only, after the delay, and ends with a newline', () => {
    const { output, stderr, stdout, advance } = setup({ tty: true });
    const bar = output.progress('profiling', 4);
    bar.tick(1);
    expect(stderr.text).toBe('');
    advance(1000);
    bar.tick(2, 'expert 2');
    expect(stderr.text).toContain('2/4');
    expect(stderr.text).toContain('expert 2');
    bar.done();
    expect(stderr.text).toContain('4/4');
    expect(stderr.text.endsWith('\n')).toBe(true);
    expect(stdout.text).toBe('');
  });

  it('uses no colour with NO_COLOR, even on a terminal', () => {
    const { output, stderr, advance } = setup({ tty: true, noColor: true });
    const bar = output.progress('planning', 2);
    advance(500);
    bar.tick(1);
    // The only escapes left are the line-clearing ones (\r\x1b[2K), never colour (\x1b[..m).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for ANSI colour codes
    expect(stderr.text).not.toMatch(/\x1b\[[0-9;]*m/);
    expect(output.color('red', 'x')).toBe('x');
  });

  it('stays quiet for work shorter than the delay', () => {
    const { output, stderr, advance } = setup({ tty: true });
    const bar = output.progress('loading', 1);
    advance(100);
    bar.done();
    expect(stderr.text).toBe('');
  });
});

describe('result', () => {
  it('prints JSON in json mode and the human form otherwise', () => {
    const { output, stdout } = setup({ tty: false });
    output.result({ a: 1 }, () => output.line('human'));
    output.setJsonMode(true);
    output.result({ a: 1 }, () => output.line('human'));
    expect(stdout.text).toBe('human\n{\n  "a": 1\n}\n');
  });

  it('never colours output that is not a terminal', () => {
    const { output } = setup({ tty: false });
    expect(output.rich).toBe(false);
    expect(output.color('bold', 'x')).toBe('x');
  });
});
