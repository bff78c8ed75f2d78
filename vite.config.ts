/// <reference types="vitest/config" />
import { appendFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { join, relative } from 'node:path';
import { transformSync } from 'esbuild';
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation (COOP + COEP) gives the page SharedArrayBuffer, which the lab's
// multi-threaded CPU engine needs. Every server we run sends these headers; hosting notes in README.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Where browsers send Content-Security-Policy violation reports (served by the plugin below). */
const CSP_REPORT_PATH = '/__csp-report';

/**
 * The Content-Security-Policy (README: "Hosting"). Only this origin, no inline script, and
 * 'wasm-unsafe-eval' for WebAssembly only (the CPU kernels, tfjs's wasm backend); images may be
 * data:/blob: URLs (chart exports). The dev server adds one per-start nonce for the two inline
 * pieces Vite injects in development (React Refresh's preamble, and CSS as <style> tags); the
 * production build has none.
 */
export function contentSecurityPolicy(nonce?: string, where: 'header' | 'meta' = 'header'): string {
  const n = nonce ? ` 'nonce-${nonce}'` : '';
  const policy = [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' 'report-sample'${n}`,
    "worker-src 'self'",
    `style-src 'self' 'report-sample'${n}`,
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    `report-uri ${CSP_REPORT_PATH}`,
  ];
  // a <meta> policy may not hold frame-ancestors or report-uri (browsers ignore them there, with a warning)
  return (where === 'meta' ? policy.filter((d) => !/^(frame-ancestors|report-uri) /.test(d)) : policy).join('; ');
}

/**
 * Production builds, for hosts that cannot set headers (README "Hosting"):
 * - the Content-Security-Policy as the first tag of index.html (<meta http-equiv>);
 * - dist/sw.js, the service worker (src/sw/sw.ts): this build's files to cache (the public folder's
 *   data/ aside: the data is cached in IndexedDB), a version hashed from them, and the policy it
 *   adds as a header, with the isolation headers, where the server sends none.
 */
function staticHosting(): Plugin {
  let publicDir = '';
  return {
    name: 'static-hosting',
    apply: 'build',
    enforce: 'post',
    configResolved: (c) => void (publicDir = c.publicDir),
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy(undefined, 'meta') }, injectTo: 'head-prepend' },
    ],
    generateBundle(_options, bundle) {
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
      const publicFiles = publicDir
        ? walk(publicDir)
            .map((f) => relative(publicDir, f).split('\\').join('/'))
            .filter((f) => !f.startsWith('data/'))
        : [];
      const files = [...Object.keys(bundle), ...publicFiles].filter((f) => f !== 'sw.js' && !f.endsWith('.map')).sort();
      const hash = createHash('sha256');
      for (const f of files) {
        const out = bundle[f];
        hash.update(f);
        if (out) hash.update(out.type === 'chunk' ? out.code : out.source);
      }
      const source = transformSync(readFileSync(new URL('./src/sw/sw.ts', import.meta.url), 'utf8'), {
        loader: 'ts',
        target: 'es2022',
        define: {
          __LAB_SW_VERSION__: JSON.stringify(hash.digest('hex').slice(0, 16)),
          __LAB_SW_PRECACHE__: JSON.stringify(files),
          __LAB_SW_CSP__: JSON.stringify(contentSecurityPolicy()),
        },
      }).code;
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

/**
 * Receives CSP violation reports: each is printed, and appended to $CSP_REPORT_FILE when set (the
 * e2e suite sets it and fails on any report: e2e/globalTeardown.ts).
 */
function cspReports(): Plugin {
  const receive: Connect.NextHandleFunction = (req, res, next) => {
    if (req.url !== CSP_REPORT_PATH || req.method !== 'POST') return next();
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      console.error(`Content-Security-Policy violation: ${body}`);
      if (process.env.CSP_REPORT_FILE) appendFileSync(process.env.CSP_REPORT_FILE, `${body.replace(/\n/g, ' ')}\n`);
      res.statusCode = 204;
      res.end();
    });
  };
  return {
    name: 'csp-reports',
    configureServer: (server) => void server.middlewares.use(receive),
    configurePreviewServer: (server) => void server.middlewares.use(receive),
  };
}

const devNonce = randomUUID().replace(/-/g, '');

export default defineConfig(({ command }) => ({
  plugins: [react(), cspReports(), staticHosting()],
  server: { headers: { ...isolation, 'Content-Security-Policy': contentSecurityPolicy(devNonce) } },
  preview: { headers: { ...isolation, 'Content-Security-Policy': contentSecurityPolicy() } },
  // development only: Vite puts this nonce on the script and style tags it injects
  html: command === 'serve' ? { cspNonce: devNonce } : undefined,
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
    // the WebGPU engine's tests run in Chromium (vitest.gpu.config.ts)
    exclude: ['e2e/**', 'node_modules/**', 'src/**/*.gpu.test.ts'],
    environment: 'node',
    globalSetup: ['src/core/testing/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
}));
