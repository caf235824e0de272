import { defineConfig } from 'vitest/config';

// apps/web runs its own suite (the root config excludes it): `npm test -w apps/web`.
// Pure modules (layouts, culling, keyboard mapping, store) run in Node; files that need a DOM opt in
// with a `// @vitest-environment happy-dom` comment.
export default defineConfig({
  root: import.meta.dirname,
  test: {
    name: 'web',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    pool: 'threads',
  },
});
