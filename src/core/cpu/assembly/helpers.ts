// Helpers every kernel file shares (all inlined): fused multiply-add, loads, a thread's share of a range,
// and bytes of n floats. Also the zero kernel.

// ---------------------------------------------------------------------------------------------
// helpers

@inline export function fma(a: v128, b: v128, c: v128): v128 {
  // With relaxed SIMD this is one fused multiply-add; without, a multiply and an add.
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline export function splat(p: usize): v128 {
  return v128.load32_splat(p);
}

@inline export function lo(total: i32, tid: i32, nth: i32): i32 {
  return <i32>((<i64>total * tid) / nth);
}

@inline export function hi(total: i32, tid: i32, nth: i32): i32 {
  return <i32>((<i64>total * (tid + 1)) / nth);
}

@inline export function f(n: i32): usize {
  // bytes of n floats
  return <usize>n << 2;
}

/** Zero n floats from p (n a multiple of 4), in this thread's share. */
export function zero(p: usize, n: i32, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  const z = f32x4.splat(0);
  for (let q = q0; q < q1; q++) v128.store(p + (<usize>q << 4), z);
}
