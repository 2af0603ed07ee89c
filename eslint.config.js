// Lint: typescript-eslint with type information, for the promise rules above all (a floating
// promise is an error that nobody sees). Formatting belongs to Prettier, not to these rules.
import { fileURLToPath } from 'node:url';
import { includeIgnoreFile } from '@eslint/compat';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // What git ignores is not the project's code: build output, and `npm start`'s working directory
  // (.weir/, with job bundles), which would otherwise be linted as sources.
  includeIgnoreFile(fileURLToPath(new URL('.gitignore', import.meta.url))),
  { ignores: ['cli/templates/**', 'vendor/**', 'bench/results/**'] },
  js.configs.recommended,
  { files: ['**/*.js'], languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Type-only namespaces give Flink's nested type names (PrometheusTimeSeries.Label).
      '@typescript-eslint/no-namespace': ['error', { allowDeclarations: true }],
      // A variable that closures read before its one assignment cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A leading underscore marks a parameter kept for the signature (Flink's interfaces).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  // Each part is checked in the smallest program that holds it: the tests' program holds the
  // sources too, so a run over the sources alone does not build it (see the lint script).
  {
    files: ['test/**/*.ts', 'vitest.config.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.test.json'] } },
  },
  {
    files: ['web-ui/**/*.ts', 'web-ui/**/*.tsx'],
    languageOptions: { parserOptions: { project: ['./web-ui/tsconfig.json'] } },
  },
  // Tests read REST and protocol responses of many shapes, which their assertions then check.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // The web UI's build configuration runs in Node and belongs to no tsconfig project.
  { files: ['web-ui/vite.config.ts'], ...tseslint.configs.disableTypeChecked },
);
