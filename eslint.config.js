// Lint: type-aware rules (floating promises) and the layering rules of ARCHITECTURE.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The model package hides Loro: everything else uses its operations (ARCHITECTURE.md, Co-editing). */
const loroOnlyInModel = {
  name: 'loro-crdt',
  message: 'Only packages/model touches Loro; use its MindMap API.',
};

const moduleDeepImport = {
  // From a file directly in modules/<name>/, `../<other>/...` is another module: only its index.ts (and, for
  // tests, its testing.ts) may be used.
  regex: '^\\.\\./(?!\\.\\.)[^/]+/(?!(index|testing)\\.ts$).+|/modules/[^/]+/(?!index\\.ts$)[^/]+',
  message: 'A module is used only through its index.ts (ARCHITECTURE.md, dependency rules).',
};

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'coverage/**', 'test-output/**', 'apps/web/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.test.ts', 'bench/**', 'e2e/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['packages/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [loroOnlyInModel],
          patterns: [{ group: ['@canopy/server', '**/apps/**'], message: 'Packages never import apps.' }],
        },
      ],
    },
  },
  {
    files: ['packages/model/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@canopy/*', '**/apps/**'], message: 'model imports nothing internal.' },
            { group: ['node:*', 'fs', 'net', 'http'], message: 'model is pure: no I/O.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/formats/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@canopy/*', '!@canopy/model', '**/apps/**'],
              message: 'formats imports only @canopy/model.',
            },
            {
              group: ['node:fs', 'node:net', 'node:http', 'fs', 'net', 'http'],
              message: 'formats is pure: no I/O.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/server/src/platform/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/modules/**'], message: 'platform/ never imports modules/.' }] },
      ],
    },
  },
  {
    files: ['apps/server/src/modules/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [loroOnlyInModel], patterns: [moduleDeepImport] }] },
  },
);
