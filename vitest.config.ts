import { defineConfig } from 'vitest/config';

// One run, two projects: everything that runs in Node (server, packages), and the web app's own suite.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: [
            'apps/server/**/*.test.ts',
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', 'e2e/**', 'apps/web/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration suites share real database servers; each suite creates its own database.
          pool: 'forks',
          // `globalThis.gc`, for tests that must tell what a collection frees from what nothing can free.
          execArgv: ['--expose-gc'],
        },
      },
      'apps/web/vitest.config.ts',
    ],
  },
});
