import type { Options } from 'tsup';

/**
 * The build every workspace project shares: ESM for Node 20 with source maps, `.d.ts` beside the
 * JavaScript, `dist/` cleaned first. A package's `tsup.config.ts` is one call naming its entry points;
 * `overrides` is for what differs (the CLI's shebang and no declarations, one declaration entry).
 * Imported by relative path: tsup bundles the config with esbuild, which leaves package imports to Node.
 */
export function packageBuild(entry: Options['entry'], overrides: Omit<Options, 'entry'> = {}): Options {
  return { entry, format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'node20', ...overrides };
}
