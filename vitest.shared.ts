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
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
