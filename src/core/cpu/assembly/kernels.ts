// The lab CPU engine's kernels: WebAssembly SIMD (f32x4), compiled by AssemblyScript
// (scripts/build-wasm.ts). Every tensor is NHWC float32 in one shared linear memory; every
// argument is a byte offset or a size. A kernel called with (tid, nth) does its share of the
// work when nth threads run it at once (engine.ts runs each call on every thread, then a barrier).
//
// Requirements checked by the caller (engine.ts): channel counts are multiples of 4 (the stem's
// 3 input channels are padded to 4 with zeros), pointers are 16-byte aligned.
//
// Names: x input, y output, w weights [kh][kw][cin][cout] (tfjs's HWIO), dy/dz gradients,
// N batch, H/W input size, Hp/Wp padded input size, Ho/Wo output size, C input and K output
// channels, s stride, k kernel size (3 or 1).

// The kernels live one family per file; this entry exports them all to the WebAssembly module.
export { zero } from './helpers';
export * from './conv';
export * from './winograd';
export * from './bn';
export * from './residual';
export * from './gate';
export * from './head';
