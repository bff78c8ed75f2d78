// Stands in for side-effect-only browser imports under Vitest (see vite.config.ts).
export {};
