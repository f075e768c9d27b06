import type { Writable } from 'node:stream';

export type ColorName = 'bold' | 'dim' | 'green' | 'red' | 'yellow' | 'cyan';

export interface Output {
  /** Whether stdout may use colour (a terminal, no NO_COLOR, no --no-color). */
  readonly rich: boolean;
  /** True when the running command was given `--json`: print one JSON document, nothing else on stdout. */
  readonly jsonMode: boolean;
  setJsonMode(enabled: boolean): void;
  json(value: unknown): void;
  /** Prints `value` as JSON under `--json`, otherwise runs `human` to print tables and lines. */
  result(value: unknown, human: () => void): void;
  line(text?: string): void;
  table(rows: ReadonlyArray<Record<string, unknown>>, options?: { columns?: string[]; title?: string }): void;
  /**
   * A progress bar on stderr. Drawn only when stderr is a terminal (never in pipes, files or CI logs),
   * and only once the work has taken longer than a quarter second, so quick steps stay quiet.
   */
  progress(label: string, total: number): Progress;
  color(code: ColorName, text: string): string;
  /** Erases a progress bar that is still on screen (before an error message, say). */
  clearProgress(): void;
}

export interface Progress {
  /** Sets the number of finished units (default: one more) and an optional short detail. */
  tick(done?: number, detail?: string): void;
  /** Marks the work finished and leaves the final bar on its own line. */
  done(detail?: string): void;
  /** Removes the bar without a final line (on failure). */
  stop(): void;
}

const ansi: Record<ColorName, number> = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 };

function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 0.001 || abs >= 1e9)) return value.toExponential(3);
    return value.toLocaleString('en-US', { maximumSignificantDigits: 5 });
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** Display width of a string: ANSI escapes take no room. */
function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what we strip
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Formats rows as an aligned text table; numeric columns are right-aligned. */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>, columns?: string[]): string {
  const keys = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => keys.map((key) => formatCell(row[key])));
  const widths = keys.map((key, i) => Math.max(key.length, ...cells.map((r) => visibleLength(r[i]!))));
  const numeric = keys.map(
    (key) =>
      rows.some((row) => typeof row[key] === 'number') && rows.every((row) => typeof row[key] !== 'string'),
  );
  const pad = (text: string, i: number): string => {
    const room = ' '.repeat(Math.max(0, widths[i]! - visibleLength(text)));
    return numeric[i] ? room + text : text + room;
  };
  const lines = [keys.map(pad).join('  ').trimEnd(), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const row of cells) lines.push(row.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}

export interface OutputOptions {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** NO_COLOR set or --no-color given. */
  noColor: boolean;
  /** Clock for progress timing (tests pass a fake one). */
  now?: () => number;
  /** Milliseconds of work before a bar appears. */
  progressDelayMs?: number;
}

export function createOutput(options: OutputOptions): Output {
  const now = options.now ?? Date.now;
  const delayMs = options.progressDelayMs ?? 250;
  const rich = Boolean(options.stdout.isTTY) && !options.noColor;
  const stderrTerminal = Boolean(options.stderr.isTTY);
  const stderrColor = stderrTerminal && !options.noColor;
  let jsonMode = false;
  let barOnScreen = false;
  const paint = (code: ColorName, text: string, enabled: boolean): string =>
    enabled ? `\x1b[${ansi[code]}m${text}\x1b[0m` : text;
  const clearProgress = (): void => {
    if (barOnScreen) options.stderr.write('\r\x1b[2K');
    barOnScreen = false;
  };
  const output: Output = {
    get rich() {
      return rich;
    },
    get jsonMode() {
      return jsonMode;
    },
    setJsonMode(enabled) {
      jsonMode = enabled;
    },
    json(value) {
      clearProgress();
      options.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    result(value, human) {
      if (jsonMode) output.json(value);
      else human();
    },
    line(text = '') {
      clearProgress();
      options.stdout.write(`${text}\n`);
    },
    table(rows, tableOptions = {}) {
      clearProgress();
      if (tableOptions.title) options.stdout.write(`${paint('bold', tableOptions.title, rich)}\n`);
      options.stdout.write(`${formatTable(rows, tableOptions.columns)}\n`);
    },
    color(code, text) {
      return paint(code, text, rich);
    },
    clearProgress,
    progress(label, total) {
      const started = now();
      let lastDrawn = -Infinity;
      let current = 0;
      let finished = false;
      const draw = (detail: string, final: boolean): void => {
        if (!stderrTerminal || finished) return;
        const at = now();
        if (!final && (at - started < delayMs || at - lastDrawn < 80)) return;
        if (final && !barOnScreen && at - started < delayMs) return;
        lastDrawn = at;
        const width = 24;
        const share = total > 0 ? Math.min(Math.max(current / total, 0), 1) : 1;
        const filled = Math.round(share * width);
        const bar =
          paint('cyan', '█'.repeat(filled), stderrColor) +
          paint('dim', '░'.repeat(width - filled), stderrColor);
        const seconds = ((at - started) / 1000).toFixed(1);
        const columns = (options.stderr as { columns?: number }).columns ?? 100;
        const text = `${label} ${bar} ${current}/${total} ${seconds}s${detail ? ` ${detail}` : ''}`;
        const overflow = visibleLength(text) - (columns - 1);
        options.stderr.write(`\r\x1b[2K${overflow > 0 ? text.slice(0, text.length - overflow) : text}`);
        barOnScreen = true;
        if (final) {
          options.stderr.write('\n');
          barOnScreen = false;
        }
      };
      return {
        tick(done, detail) {
          current = done ?? current + 1;
          draw(detail ?? '', false);
        },
        done(detail) {
          current = total;
          draw(detail ?? '', true);
          finished = true;
        },
        stop() {
          clearProgress();
          finished = true;
        },
      };
    },
  };
  return output;
}
