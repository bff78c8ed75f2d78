// The one way the core imports tfjs: tfjs-core plus every gradient, with no layers, converter
// or data API, so bundles stay small and each backend loads on demand (see backend.ts).
// tfjs-core comes first: its side effects register the environment flags the gradients read
// (in dev, Vite serves the two as separate pre-bundled modules, evaluated in this order).
// In Node (Vitest), vite.config.ts points these two imports at the @tensorflow/tfjs bundle,
// which carries the same API, the gradients and the CPU backend in a Node-loadable form.
export * from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
