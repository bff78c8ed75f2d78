// ESLint flat config: typescript-eslint's recommended rules plus the React hooks rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'gpu-kit', 'node_modules', 'src/core/cpu/assembly', 'src/core/cpu/build', 'test-results', 'playwright-report'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers (DESIGN.md): the compute core runs in a worker, in Node and in benches, so it imports no
  // UI, worker, storage, React or Node module; Node-only helpers live in src/node.
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts', 'src/core/**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/ui/**', '**/worker/**', '**/storage/**', '**/node/**'], message: 'src/core imports nothing from ui, worker, storage or src/node (DESIGN.md: core → nothing above it).' },
            { group: ['node:*'], message: 'src/core runs in the browser too: Node modules belong in src/node.' },
            { group: ['react', 'react-dom', 'react-*', 'recharts', 'zustand', 'i18next'], message: 'src/core knows nothing of the UI.' },
          ],
        },
      ],
    },
  },
  // The page talks to the engines only through the worker's protocol.
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/core/cpu/**', '**/core/tfjs/**', '**/core/tf', '**/core/experiment', '**/worker/engines', '**/worker/lab.worker'], message: 'The UI never imports an engine: it sends commands through src/worker/protocol.ts.' },
            { group: ['**/storage/runsWrite'], message: 'The worker is the one writer of saved runs: the page asks it through src/worker/protocol.ts (renameRun, deleteRun, importRun).' },
            { group: ['**/storage/runsDb'], importNames: ['db'], message: 'The page reads saved runs through runsDb’s read functions; the database handle is for the worker’s writes.' },
          ],
        },
      ],
    },
  },
);
