import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/server/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**', 'apps/web/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites share real databases; files run in parallel but each suite uses its own schema/db names.
    pool: 'forks',
  },
});
