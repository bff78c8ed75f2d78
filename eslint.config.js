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
  // Layers (ARCHITECTURE.md): the compute core runs in a worker, in Node and in benches, so it imports no
  // UI, worker, storage, React or Node module; Node-only helpers live in src/node. Its tests obey the same
  // edges, except that they run in Node (Node modules, and src/node's real-data helpers).
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/ui/**', '**/worker/**', '**/storage/**'],
              message: 'src/core imports nothing from ui, worker, storage or src/node (ARCHITECTURE.md: core → nothing above it).',
            },
            { group: ['react', 'react-dom', 'react-*', 'recharts', 'zustand', 'i18next'], message: 'src/core knows nothing of the UI.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts', 'src/core/**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/ui/**', '**/worker/**', '**/storage/**', '**/node/**'],
              message: 'src/core imports nothing from ui, worker, storage or src/node (ARCHITECTURE.md: core → nothing above it).',
            },
            { group: ['node:*'], message: 'src/core runs in the browser too: Node modules belong in src/node.' },
            { group: ['react', 'react-dom', 'react-*', 'recharts', 'zustand', 'i18next'], message: 'src/core knows nothing of the UI.' },
          ],
        },
      ],
    },
  },
  // The step IR is the one description of a training step that every engine lowers: it knows no engine.
  {
    files: ['src/core/ir/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cpu/**', '**/gpu/**', '**/tfjs/**'],
              message: 'The step IR knows no engine: the engines lower it (src/core/cpu/lower.ts, src/core/gpu/lower.ts), never the other way round.',
            },
            {
              group: ['**/ui/**', '**/worker/**', '**/storage/**', '**/node/**'],
              message: 'src/core imports nothing from ui, worker, storage or src/node (ARCHITECTURE.md: core → nothing above it).',
            },
            { group: ['node:*'], message: 'src/core runs in the browser too: Node modules belong in src/node.' },
          ],
        },
      ],
    },
  },
  // The worker runs the engines and writes the saved runs; it knows nothing of the page.
  {
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/ui/**', '**/node/**'],
              message: 'src/worker imports nothing from the page (ui) or Node-only helpers: it talks to the page through src/worker/protocol.ts.',
            },
            { group: ['react', 'react-dom', 'react-*', 'recharts', 'zustand', 'i18next'], message: 'src/worker knows nothing of the UI.' },
          ],
        },
      ],
    },
  },
  // Storage is the saved runs' schema, reads and writes: below the worker and the page, above core.
  {
    files: ['src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/ui/**', '**/worker/**', '**/node/**'],
              message: 'src/storage imports only core: the worker and the page call it, never the other way round.',
            },
            { group: ['react', 'react-dom', 'react-*', 'recharts', 'zustand', 'i18next'], message: 'src/storage knows nothing of the UI.' },
          ],
        },
      ],
    },
  },
  // Node-only helpers (real data on disk) serve scripts, benches and tests: never the page's code.
  {
    files: ['src/node/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/ui/**', '**/worker/**', '**/storage/**'], message: 'src/node imports only core.' }] }],
    },
  },
  // The command-line tools and benches drive the page through its automation interface (and the bench
  // through the worker's protocol types): no other module of the page or the worker.
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/ui/**', '!**/src/ui/automation'],
              message: 'scripts and bench drive the page only through src/ui/automation.ts (window.labAutomation).',
            },
            { group: ['**/src/worker/**', '!**/src/worker/protocol'], message: 'scripts and bench reach the worker only through src/worker/protocol.ts.' },
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
            {
              group: ['**/core/cpu/**', '**/core/gpu/**', '**/core/tfjs/**', '**/core/tf', '**/core/experiment', '**/worker/engines', '**/worker/lab.worker'],
              message: 'The UI never imports an engine: it sends commands through src/worker/protocol.ts.',
            },
            {
              group: ['**/storage/runsWrite'],
              message: 'The worker is the one writer of saved runs: the page asks it through src/worker/protocol.ts (renameRun, deleteRun, importRun).',
            },
            {
              group: ['**/storage/runsDb'],
              importNames: ['db'],
              message: 'The page reads saved runs through runsDb’s read functions; the database handle is for the worker’s writes.',
            },
          ],
        },
      ],
    },
  },
);
