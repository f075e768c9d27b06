import { defineConfig } from 'vitest/config';

/**
 * Settings every package's vitest config merges in. Projects do not inherit the root
 * `resolve.conditions`, so the source condition lives here: tests run on `src/`, no build needed.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@switchyard/source'] },
  ssr: { resolve: { conditions: ['@switchyard/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Type tests (`*.test-d.ts`) pin each package's public surface: tsc checks them as part of the run.
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
