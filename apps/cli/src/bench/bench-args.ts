/**
 * Argument helpers of the benchmark scripts. `pnpm … bench:x -- --quick` passes the `--` on to the
 * script, so it is dropped; a bad number prints what the flag takes and exits with status 2.
 */
export function scriptArgs(argv: readonly string[] = process.argv.slice(2)): string[] {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}

/** `--flag 1,2,4`: positive integers separated by commas; `fallback` when the flag is absent. */
export function integerList(text: string | undefined, fallback: number[], flag: string): number[] {
  if (text === undefined) return fallback;
  const list = text.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) {
    process.stderr.write(
      `--${flag} takes positive integers separated by commas, got ${JSON.stringify(text)}\n`,
    );
    process.exit(2);
  }
  return list;
}

/** `--flag 8`: one positive integer. */
export function oneInteger(text: string | undefined, fallback: number, flag: string): number {
  return integerList(text, [fallback], flag)[0]!;
}
