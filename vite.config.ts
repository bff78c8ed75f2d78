/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation (COOP + COEP) gives the page SharedArrayBuffer, which the lab's
// multi-threaded CPU engine needs. Every server we run sends these headers; hosting notes in README.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  // Pre-bundle every tfjs entry the worker imports in one pass, so they share one copy of
  // tfjs-core in dev (separate copies fail with "Cannot evaluate flag 'DEBUG'").
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-wasm',
    ],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
  test: {
    // Node cannot load tfjs-core's extensionless ESM files; the @tensorflow/tfjs bundle serves
    // the same API there, with gradients and the CPU backend already registered.
    alias: [
      { find: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients$/, replacement: '/src/core/testing/empty.ts' },
      { find: /^@tensorflow\/tfjs-core$/, replacement: '@tensorflow/tfjs' },
      { find: /^@tensorflow\/tfjs-backend-cpu$/, replacement: '/src/core/testing/empty.ts' },
    ],
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**'],
    environment: 'node',
    globalSetup: ['src/core/testing/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
