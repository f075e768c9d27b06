import type { Writable } from 'node:stream';

export interface Output {
  /** Whether human output may use colour and progress bars (a terminal, no NO_COLOR). */
  readonly rich: boolean;
  json(value: unknown): void;
  line(text?: string): void;
  table(rows: ReadonlyArray<Record<string, unknown>>, options?: { columns?: string[]; title?: string }): void;
  progress(label: string, total: number): Progress;
  color(code: 'bold' | 'dim' | 'green' | 'red' | 'yellow' | 'cyan', text: string): string;
}

export interface Progress {
  tick(done?: number, detail?: string): void;
  done(detail?: string): void;
}

const ansi = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 0.001 || abs >= 1e9)) return value.toExponential(3);
    return value.toLocaleString('en-US', { maximumSignificantDigits: 5 });
  }
  return String(value);
}

/** Formats rows as an aligned text table; numbers are right-aligned. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns?: string[]): string {
  const keys = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => keys.map((key) => formatCell(row[key])));
  const widths = keys.map((key, i) => Math.max(key.length, ...cells.map((r) => r[i]!.length)));
  const numeric = keys.map((key) => rows.some((row) => typeof row[key] === 'number'));
  const pad = (text: string, i: number): string =>
    numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const lines = [keys.map(pad).join('  '), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const row of cells) lines.push(row.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}

export function createOutput(options: {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  noColor: boolean;
}): Output {
  const rich = Boolean(options.stdout.isTTY) && !options.noColor;
  const progressRich = Boolean(options.stderr.isTTY) && !options.noColor;
  return {
    rich,
    json(value) {
      options.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    line(text = '') {
      options.stdout.write(`${text}\n`);
    },
    table(rows, tableOptions = {}) {
      if (tableOptions.title)
        options.stdout.write(`${rich ? `\x1b[1m${tableOptions.title}\x1b[0m` : tableOptions.title}\n`);
      options.stdout.write(`${formatTable(rows, tableOptions.columns)}\n`);
    },
    color(code, text) {
      return rich ? `\x1b[${ansi[code]}m${text}\x1b[0m` : text;
    },
    progress(label, total) {
      const started = Date.now();
      let lastDrawn = 0;
      let current = 0;
      const draw = (detail = '', final = false): void => {
        if (!progressRich) return;
        const now = Date.now();
        if (!final && now - lastDrawn < 80) return;
        lastDrawn = now;
        const width = 24;
        const share = total > 0 ? Math.min(current / total, 1) : 1;
        const filled = Math.round(share * width);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
        const seconds = ((now - started) / 1000).toFixed(1);
        options.stderr.write(`\r\x1b[2K${label} ${bar} ${current}/${total} ${seconds}s ${detail}`);
        if (final) options.stderr.write('\n');
      };
      return {
        tick(done, detail) {
          current = done ?? current + 1;
          draw(detail);
        },
        done(detail) {
          current = total;
          draw(detail, true);
        },
      };
    },
  };
}
