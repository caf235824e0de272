import { defineConfig } from 'vitest/config';

// Browser scenarios: the system Chromium (Debian's package) driven by playwright-core. Run with `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One browser at a time: the machine is small and shared.
    fileParallelism: false,
  },
});
