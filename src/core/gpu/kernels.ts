// The lab WebGPU engine's kernels, in WGSL. Each kernel is a compute shader with one uniform block
// of u32 fields (listed beside its WGSL in KERNELS; the lowering, ./lower.ts, fills them by name) and storage
// buffers bound whole. Every declared binding is used on every path, so the pipelines' automatic
// bind-group layouts keep them all.
//
// Layouts: activations NHWC; conv weights HWIO [k][k][C][K] (the state's layout, ../nets.ts); all
// parameters of a net in one buffer P (gradients G and momentum M have the same layout); the BN
// running statistics in one buffer R; per-conv batch statistics and backward sums in one buffer S.
import type { ShortcutKind } from '../nets';
import { BN_EPSILON, BN_MOMENTUM, MOMENTUM, WEIGHT_DECAY } from '../train';

/**
 * What bn_apply adds before its ReLU, by the block's shortcut: the value of its `sc` field. none:
 * nothing; identity: x; subsample-pad: option A's x subsampled by the stride with channels ≥ inC zero;
 * projection: the projection's BN output (x is its conv output z_p). A gated block adds its carry in
 * gate_fwd instead.
 */
export const BN_APPLY_SHORTCUT = { none: 0, identity: 1, 'subsample-pad': 2, projection: 3 } as const satisfies Partial<Record<ShortcutKind, number>>;
export type BnApplyShortcut = keyof typeof BN_APPLY_SHORTCUT;

/**
 * The GEMM tiles: a workgroup of 64 threads computes m × n outputs, each thread rm × rn of them,
 * staging k-deep slices of A (m × k) and B (k × n) in workgroup memory (at most 16 KiB, WebGPU's
 * default). The forward and input-gradient passes (many rows: pixels) take 8×8 per thread, twice
 * the multiply-adds per load of 4×4; the weight gradient (9·C rows, e.g. 144) takes the smaller
 * 4×4 tiles, which waste fewer rows. Measured on SwiftShader, ResNet-20, batch 16, kernel by kernel:
 * 8×8 made the forward 2.1× and the input gradient 1.4× faster, and the weight gradient 1.15× slower.
 */
const GEMM_TILES = {
  pixels: [
    { m: 128, n: 32, rm: 8, rn: 8, k: 16 },
    { m: 256, n: 16, rm: 8, rn: 8, k: 8 },
    { m: 256, n: 8, rm: 4, rn: 8, k: 8 },
  ],
  weights: [
    { m: 32, n: 32, rm: 4, rn: 4, k: 16 },
    { m: 64, n: 16, rm: 4, rn: 4, k: 16 },
    { m: 128, n: 8, rm: 4, rn: 4, k: 16 },
  ],
} as const;
type GemmTile = { m: number; n: number; rm: number; rn: number; k: number };
type TileName = '128x32' | '256x16' | '256x8' | '32x32' | '64x16' | '128x8';
type GemmPass = 'conv_fwd' | 'conv_dgrad' | 'conv_wgrad';

const tilesOf = (pass: GemmPass): readonly GemmTile[] => (pass === 'conv_wgrad' ? GEMM_TILES.weights : GEMM_TILES.pixels);

/** The narrowest tile of the pass's set that covers `cols` output columns (32 wide from 17 on), so few channels waste few threads. */
export function gemmTile(pass: GemmPass, cols: number): GemmTile {
  const tiles = tilesOf(pass);
  return [...tiles].reverse().find((t) => t.n >= cols) ?? tiles[0];
}

/** A kernel's name: a GEMM pass with its tile (and 'v' for its vec4 form), or one of KERNELS below. */
export type KernelName = `${GemmPass}_${TileName}` | keyof typeof KERNELS;

/** Threads per workgroup of the element-wise and reduction kernels. */
export const WG = 256;
/** The weight gradient's pieces are multiples of this many pixels (every tile's k divides it). */
export const CHUNK_ALIGN = 16;

/** Each kernel's uniform fields, in order (all u32; the few f32 ones are written as bits). */
/** The three convolution passes as one tiled GEMM: rows × cols outputs, a reduction of length red. */
const GEMM_FIELDS = ['rows', 'cols', 'red', 'chunk', 'H', 'W', 'C', 'OH', 'OW', 'K', 'stride', 'ks', 'pad', 'wOff', 'acc', 'dstOff'] as const;

/**
 * The GEMM kernel for a pass with `cols` output columns. `vec4` when A's channels come in fours
 * (forward and weight gradient: C % 4 = 0; input gradient: K % 4 = 0): A is then read four
 * channels at a time (along the reduction, or for the weight gradient along its rows), a quarter
 * of the index arithmetic and loads.
 */
export const gemmKernel = (pass: GemmPass, cols: number, vec4 = false): KernelName => {
  const t = gemmTile(pass, cols);
  return `${pass}_${t.m}x${t.n}${vec4 ? 'v' : ''}` as KernelName;
};

const GEMM_VARIANTS = (['conv_fwd', 'conv_dgrad', 'conv_wgrad'] as const).flatMap((p) =>
  tilesOf(p).flatMap((t) => [
    { name: `${p}_${t.m}x${t.n}`, p, t, v: false },
    { name: `${p}_${t.m}x${t.n}v`, p, t, v: true },
  ]),
);

const f = (x: number) => (Number.isInteger(x) ? `${x}.0` : `${x}`);

/** The uniform block of a kernel with these u32 fields, bound at 0 as `u`. */
function uniformStruct(fields: readonly string[]): string {
  return `struct U {\n${fields.map((n) => `  ${n}: u32,`).join('\n')}\n}\n@group(0) @binding(0) var<uniform> u: U;\n`;
}

const CONTROL = `struct Ctrl { lr: f32, update: u32, pad0: u32, pad1: u32 }\n`;

/**
 * Storage bindings from `first` on, in order: name and access ('r' read, 'rw' read_write), and the
 * element type when it is not f32.
 */
const storage = (first: number, list: readonly (readonly [string, 'r' | 'rw', string?])[]) =>
  list
    .map(
      ([name, access, type], k) => `@group(0) @binding(${first + k}) var<storage, ${access === 'r' ? 'read' : 'read_write'}> ${name}: array<${type ?? 'f32'}>;`,
    )
    .join('\n');

/**
 * An element-wise kernel's entry point: one thread per item i < u.total (or u.len), over a 2-D grid
 * of workgroups (span = threads per grid row).
 */
const perItem = (limit: 'total' | 'len', body: string) => `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * u.span;
  if (i >= u.${limit}) { return; }
${body}
}`;

/**
 * The three convolution passes as one tiled GEMM, dst[row][col] = Σ_r A(row, r)·B(r, col):
 * - forward: rows are output pixels, cols output channels, r runs over (kh, kw, c); A is the
 *   implicit im2col of the input, B the weights;
 * - input gradient: rows are input pixels, cols input channels, r runs over (kh, kw, k); A gathers
 *   the output gradient at the pixels each tap reaches (any stride), B the weights transposed;
 * - weight gradient: rows are (kh, kw, c), cols output channels, r runs over output pixels, split
 *   into `chunk`-long pieces, one per workgroup z, whose partial sums wgrad_reduce adds up.
 * A workgroup computes a TILE×TILE tile, 4×4 per thread, staging TILE_K-deep slices of A and B
 * in workgroup memory.
 */
function gemm(name: GemmPass, tile: GemmTile, vec4 = false): string {
  const { m: TM, n: TN, rm: RM, rn: RN, k: TK } = tile;
  const im2col = `
fn im2col(m: u32, r: u32) -> ${vec4 ? 'vec4<f32>' : 'f32'} {
  let hw = u.OH * u.OW;
  let n = m / hw; let p = m % hw; let oh = p / u.OW; let ow = p % u.OW;
  let t = r / u.C; let c = r % u.C; let kh = t / u.ks; let kw = t % u.ks;
  let ih = i32(oh * u.stride + kh) - i32(u.pad);
  let iw = i32(ow * u.stride + kw) - i32(u.pad);
  if (ih < 0 || iw < 0 || ih >= i32(u.H) || iw >= i32(u.W)) { return ${vec4 ? 'vec4<f32>(0.0)' : '0.0'}; }
  return srcA[(((n * u.H + u32(ih)) * u.W + u32(iw)) * u.C + c)${vec4 ? ' / 4u' : ''}];
}`;
  const fetch = {
    conv_fwd: `${im2col}
fn fetchA(row: u32, r: u32) -> ${vec4 ? 'vec4<f32>' : 'f32'} { return im2col(row, r); }
fn fetchB(r: u32, col: u32) -> f32 { return srcB[u.wOff + r * u.K + col]; }
fn dstIndex(row: u32, col: u32, z: u32) -> u32 { return u.dstOff + row * u.K + col; }`,
    conv_dgrad: `
fn fetchA(row: u32, r: u32) -> ${vec4 ? 'vec4<f32>' : 'f32'} {
  let hw = u.H * u.W;
  let n = row / hw; let p = row % hw; let ih = p / u.W; let iw = p % u.W;
  let t = r / u.K; let k = r % u.K; let kh = t / u.ks; let kw = t % u.ks;
  let y = i32(ih + u.pad) - i32(kh);
  let x = i32(iw + u.pad) - i32(kw);
  let zero = ${vec4 ? 'vec4<f32>(0.0)' : '0.0'};
  if (y < 0 || x < 0) { return zero; }
  if (u32(y) % u.stride != 0u || u32(x) % u.stride != 0u) { return zero; }
  let oh = u32(y) / u.stride; let ow = u32(x) / u.stride;
  if (oh >= u.OH || ow >= u.OW) { return zero; }
  return srcA[(((n * u.OH + oh) * u.OW + ow) * u.K + k)${vec4 ? ' / 4u' : ''}];
}
fn fetchB(r: u32, col: u32) -> f32 { let t = r / u.K; let k = r % u.K; return srcB[u.wOff + (t * u.C + col) * u.K + k]; }
fn dstIndex(row: u32, col: u32, z: u32) -> u32 { return u.dstOff + row * u.C + col; }`,
    conv_wgrad: `${im2col}
fn fetchA(row: u32, r: u32) -> ${vec4 ? 'vec4<f32>' : 'f32'} { return im2col(r, row); }
fn fetchB(r: u32, col: u32) -> f32 { return srcB[r * u.K + col]; }
fn dstIndex(row: u32, col: u32, z: u32) -> u32 { return u.dstOff + (z * u.rows + row) * u.cols + col; }`,
  }[name];
  return `${uniformStruct(GEMM_FIELDS)}
@group(0) @binding(1) var<storage, read> srcA: array<${vec4 ? 'vec4<f32>' : 'f32'}>;
${storage(2, [
  ['srcB', 'r'],
  ['dst', 'rw'],
])}
var<workgroup> As: array<f32, ${TM * TK}>;
var<workgroup> Bs: array<f32, ${TN * TK}>;
${fetch}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * ${TM}u;
  let col0 = wg.x * ${TN}u;
  let tr = (li / ${TN / RN}u) * ${RM}u;
  let tc = (li % ${TN / RN}u) * ${RN}u;
  var acc: array<vec4<f32>, ${(RM * RN) / 4}>;
  let rBegin = wg.z * u.chunk;
  let rEnd = min(u.red, rBegin + u.chunk);
  for (var r0 = rBegin; r0 < rEnd; r0 += ${TK}u) {
${
  vec4 && name === 'conv_wgrad'
    ? `    for (var s = 0u; s < ${(TM * TK) / 256}u; s++) {
      let e = li + s * 64u;
      let kk = e / ${TM / 4}u;
      let m4 = 4u * (e % ${TM / 4}u);
      var a = vec4<f32>(0.0);
      if (r0 + kk < rEnd && row0 + m4 < u.rows) { a = fetchA(row0 + m4, r0 + kk); }
      As[kk * ${TM}u + m4] = a.x;
      As[kk * ${TM}u + m4 + 1u] = a.y;
      As[kk * ${TM}u + m4 + 2u] = a.z;
      As[kk * ${TM}u + m4 + 3u] = a.w;
    }`
    : vec4
      ? `    for (var s = 0u; s < ${(TM * TK) / 256}u; s++) {
      let e = li + s * 64u;
      let k4 = 4u * (e / ${TM}u);
      let mm = e % ${TM}u;
      var a = vec4<f32>(0.0);
      if (r0 + k4 < rEnd && row0 + mm < u.rows) { a = fetchA(row0 + mm, r0 + k4); }
      As[k4 * ${TM}u + mm] = a.x;
      As[(k4 + 1u) * ${TM}u + mm] = a.y;
      As[(k4 + 2u) * ${TM}u + mm] = a.z;
      As[(k4 + 3u) * ${TM}u + mm] = a.w;
    }`
      : `    for (var s = 0u; s < ${(TM * TK) / 64}u; s++) {
      let e = li + s * 64u;
      let kk = e / ${TM}u;
      let mm = e % ${TM}u;
      let r = r0 + kk;
      var a = 0.0;
      if (r < rEnd && row0 + mm < u.rows) { a = fetchA(row0 + mm, r); }
      As[e] = a;
    }`
}
    for (var s = 0u; s < ${Math.max(1, (TN * TK) / 64)}u; s++) {
      let e = li + s * 64u;
      let kk = e / ${TN}u;
      let mm = e % ${TN}u;
      let r = r0 + kk;
      var b = 0.0;
      if (e < ${TN * TK}u && r < rEnd && col0 + mm < u.cols) { b = fetchB(r, col0 + mm); }
      if (e < ${TN * TK}u) { Bs[e] = b; }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
${Array.from({ length: RN / 4 }, (_, j) => `      let b${j} = vec4<f32>(Bs[kk * ${TN}u + tc + ${4 * j}u], Bs[kk * ${TN}u + tc + ${4 * j + 1}u], Bs[kk * ${TN}u + tc + ${4 * j + 2}u], Bs[kk * ${TN}u + tc + ${4 * j + 3}u]);`).join('\n')}
${Array.from({ length: RM }, (_, i) => `      let a${i} = As[kk * ${TM}u + tr + ${i}u];\n${Array.from({ length: RN / 4 }, (_, j) => `      acc[${i * (RN / 4) + j}] += a${i} * b${j};`).join('\n')}`).join('\n')}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${RM}u; i++) {
    let row = row0 + tr + i;
    if (row >= u.rows) { continue; }
    for (var j = 0u; j < ${RN}u; j++) {
      let col = col0 + tc + j;
      if (col >= u.cols) { continue; }
      let at = dstIndex(row, col, wg.z);
      let v = acc[i * ${RN / 4}u + j / 4u][j % 4u];
      if (u.acc != 0u) { dst[at] += v; } else { dst[at] = v; }
    }
  }
}`;
}

/** A tree reduction of red[0..WG) into red[0], for the per-channel kernels. */
const TREE = `
fn reduce(li: u32) {
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (li < s) { red[li] += red[li + s]; red2[li] += red2[li + s]; }
  }
  workgroupBarrier();
}`;

/** The start of a per-channel kernel: one workgroup per channel c, two reduction arrays and their tree. */
const PER_CHANNEL = `var<workgroup> red: array<f32, ${WG}>;
var<workgroup> red2: array<f32, ${WG}>;
${TREE}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let c = wg.x;`;

/** A kernel other than the GEMMs: its uniform fields (the program builder fills them by name), whether it is element-wise, and its WGSL given its uniform block. */
interface KernelDef {
  fields: readonly string[];
  elementwise: boolean;
  source: (uniforms: string) => string;
}

function kernel(fields: readonly string[], ...rest: [source: KernelDef['source']] | [options: { elementwise: true }, source: KernelDef['source']]): KernelDef {
  return rest.length === 1 ? { fields, elementwise: false, source: rest[0] } : { fields, elementwise: rest[0].elementwise, source: rest[1] };
}

/** Every kernel but the GEMMs, each in one place: a new kernel is one entry here. */
const KERNELS = {
  // G[gOff + i] = Σ_z partial[z·len + i]: the weight gradient from the split reduction's pieces
  wgrad_reduce: kernel(
    ['len', 'splits', 'gOff', 'span'],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['partial', 'r'],
  ['G', 'rw'],
])}
${perItem(
  'len',
  `  var s = 0.0;
  for (var z = 0u; z < u.splits; z++) { s += partial[z * u.len + i]; }
  G[u.gOff + i] = s;`,
)}`,
  ),

  // One workgroup per channel: the batch mean and 1/sqrt(var + ε) (two passes over the channel,
  // for accuracy), and, when the control block says so, the running averages (unbiased variance).
  bn_stats: kernel(
    ['count', 'K', 'mean', 'invstd', 'rmean', 'rvar', 'pad0', 'pad1'],
    (u) => `${u}${CONTROL}
@group(0) @binding(1) var<uniform> ctrl: Ctrl;
${storage(2, [
  ['z', 'r'],
  ['S', 'rw'],
  ['R', 'rw'],
])}
${PER_CHANNEL}
  var s = 0.0;
  for (var i = li; i < u.count; i += ${WG}u) { s += z[i * u.K + c]; }
  red[li] = s; red2[li] = 0.0;
  reduce(li);
  let mean = red[0] / f32(u.count);
  workgroupBarrier();
  var q = 0.0;
  for (var i = li; i < u.count; i += ${WG}u) { let d = z[i * u.K + c] - mean; q += d * d; }
  red[li] = q;
  reduce(li);
  if (li == 0u) {
    let v = red[0] / f32(u.count);
    S[u.mean + c] = mean;
    S[u.invstd + c] = inverseSqrt(v + ${f(BN_EPSILON)});
    if (ctrl.update != 0u) {
      let unbiased = v * f32(u.count) / f32(max(1u, u.count - 1u));
      R[u.rmean + c] = ${f(1 - BN_MOMENTUM)} * R[u.rmean + c] + ${f(BN_MOMENTUM)} * mean;
      R[u.rvar + c] = ${f(1 - BN_MOMENTUM)} * R[u.rvar + c] + ${f(BN_MOMENTUM)} * unbiased;
    }
  }
}`,
  ),

  // out = [ReLU](γ·(z − μ)·invstd + β + shortcut): BN (batch or running statistics), the residual
  // addition and the ReLU in one pass; sc says which shortcut is added (BN_APPLY_SHORTCUT).
  bn_apply: kernel(
    [
      'total',
      'K',
      'span',
      'evalMode',
      'mean',
      'invstd',
      'rmean',
      'rvar',
      'gamma',
      'beta',
      'relu',
      'sc',
      'H',
      'W',
      'inC',
      'OW',
      'pMean',
      'pInvstd',
      'pRmean',
      'pRvar',
      'pGamma',
      'pBeta',
      'stride',
      'pad1',
    ],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['z', 'r'],
  ['stats', 'r'],
  ['P', 'r'],
  ['x', 'r'],
  ['out', 'rw'],
])}
fn norm(v: f32, c: u32, mean: u32, invstd: u32, rmean: u32, rvar: u32, gamma: u32, beta: u32) -> f32 {
  if (u.evalMode != 0u) { return P[gamma + c] * (v - stats[rmean + c]) * inverseSqrt(stats[rvar + c] + ${f(BN_EPSILON)}) + P[beta + c]; }
  return P[gamma + c] * (v - stats[mean + c]) * stats[invstd + c] + P[beta + c];
}
${perItem(
  'total',
  `  let c = i % u.K;
  var y = norm(z[i], c, u.mean, u.invstd, u.rmean, u.rvar, u.gamma, u.beta);
  if (u.sc == ${BN_APPLY_SHORTCUT.identity}u) { y += x[i]; }
  if (u.sc == ${BN_APPLY_SHORTCUT['subsample-pad']}u && c < u.inC) {
    let p = i / u.K; let ow = p % u.OW; let q = p / u.OW; let oh = q % (u.H / u.stride); let n = q / (u.H / u.stride);
    y += x[((n * u.H + u.stride * oh) * u.W + u.stride * ow) * u.inC + c];
  }
  if (u.sc == ${BN_APPLY_SHORTCUT.projection}u) { y += norm(x[i], c, u.pMean, u.pInvstd, u.pRmean, u.pRvar, u.pGamma, u.pBeta); }
  if (u.relu != 0u) { y = max(y, 0.0); }
  out[i] = y;`,
)}`,
  ),

  // One workgroup per channel: Σg and Σg·x̂ of the incoming gradient g (masked by ReLU where the
  // layer's output went through one: g·[a > 0]), kept for bn_bwd_dx and written as ∂L/∂β, ∂L/∂γ.
  bn_bwd_sums: kernel(
    ['count', 'K', 'mean', 'invstd', 'sums', 'gGamma', 'gBeta', 'hasMask'],
    (u) => `${u}
${storage(1, [
  ['g', 'r'],
  ['mask', 'r'],
  ['z', 'r'],
  ['S', 'rw'],
  ['G', 'rw'],
])}
${PER_CHANNEL}
  let mean = S[u.mean + c];
  let invstd = S[u.invstd + c];
  var s = 0.0;
  var sx = 0.0;
  for (var i = li; i < u.count; i += ${WG}u) {
    let at = i * u.K + c;
    var gi = g[at];
    if (u.hasMask != 0u && mask[at] <= 0.0) { gi = 0.0; }
    s += gi;
    sx += gi * (z[at] - mean) * invstd;
  }
  red[li] = s; red2[li] = sx;
  reduce(li);
  if (li == 0u) {
    S[u.sums + c] = red[0];
    S[u.sums + u.K + c] = red2[0];
    G[u.gBeta + c] = red[0];
    G[u.gGamma + c] = red2[0];
  }
}`,
  ),

  // ∂L/∂z = γ·invstd·(g − Σg/n − x̂·Σg·x̂/n), g masked as in bn_bwd_sums
  bn_bwd_dx: kernel(
    ['total', 'K', 'span', 'count', 'mean', 'invstd', 'sums', 'gamma', 'hasMask', 'pad0', 'pad1', 'pad2'],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['g', 'r'],
  ['mask', 'r'],
  ['z', 'r'],
  ['S', 'r'],
  ['P', 'r'],
  ['dz', 'rw'],
])}
${perItem(
  'total',
  `  let c = i % u.K;
  var gi = g[i];
  if (u.hasMask != 0u && mask[i] <= 0.0) { gi = 0.0; }
  let invstd = S[u.invstd + c];
  let xh = (z[i] - S[u.mean + c]) * invstd;
  let n = f32(u.count);
  dz[i] = P[u.gamma + c] * invstd * (gi - S[u.sums + c] / n - xh * S[u.sums + u.K + c] / n);`,
)}`,
  ),

  // The gradient a parameter-free shortcut adds to the block input's (acc 1) or writes (acc 0): mode 1 identity,
  // mode 2 option A (from every stride-th pixel, channels < C); the ReLU of the block output applied when hasMask.
  shortcut_bwd: kernel(
    ['total', 'span', 'mode', 'H', 'W', 'C', 'OW', 'K', 'stride', 'acc', 'hasMask', 'pad0'],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['g', 'r'],
  ['mask', 'r'],
  ['dx', 'rw'],
])}
${perItem(
  'total',
  `  var at = i;
  var v = 0.0;
  var hit = true;
  if (u.mode == 2u) {
    let c = i % u.C; let p = i / u.C; let w = p % u.W; let q = p / u.W; let h = q % u.H; let n = q / u.H;
    hit = h % u.stride == 0u && w % u.stride == 0u;
    at = ((n * (u.H / u.stride) + h / u.stride) * u.OW + w / u.stride) * u.K + c;
  }
  if (hit) {
    v = g[at];
    if (u.hasMask == 1u && mask[at] <= 0.0) { v = 0.0; }
  }
  if (u.acc == 1u) { dx[i] = dx[i] + v; } else { dx[i] = v; }`,
)}`,
  ),

  // One thread per image: global average pooling, the FC layer, softmax cross-entropy and the
  // error; writes the pooled features, ∂L/∂logits (of the batch-mean loss) and [loss, error].
  head_fwd: kernel(
    ['N', 'HW', 'C', 'wOff', 'bOff', 'pad0', 'pad1', 'pad2'],
    (u) => `${u}
${storage(1, [
  ['a', 'r'],
  ['P', 'r'],
  ['labels', 'r', 'u32'],
  ['pooled', 'rw'],
  ['dlogits', 'rw'],
  ['perImage', 'rw'],
])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= u.N) { return; }
  for (var c = 0u; c < u.C; c++) {
    var s = 0.0;
    for (var p = 0u; p < u.HW; p++) { s += a[(n * u.HW + p) * u.C + c]; }
    pooled[n * u.C + c] = s / f32(u.HW);
  }
  var logits: array<f32, 10>;
  var best = 0u;
  for (var j = 0u; j < 10u; j++) {
    var l = P[u.bOff + j];
    for (var c = 0u; c < u.C; c++) { l += pooled[n * u.C + c] * P[u.wOff + c * 10u + j]; }
    logits[j] = l;
    if (l > logits[best]) { best = j; }
  }
  let m = logits[best];
  var sum = 0.0;
  for (var j = 0u; j < 10u; j++) { sum += exp(logits[j] - m); }
  let label = labels[n];
  let lse = m + log(sum);
  for (var j = 0u; j < 10u; j++) {
    var p = exp(logits[j] - lse);
    if (j == label) { p -= 1.0; }
    dlogits[n * 10u + j] = p / f32(u.N);
  }
  perImage[2u * n] = lse - logits[label];
  perImage[2u * n + 1u] = select(0.0, 1.0, best != label);
}`,
  ),

  // Σ loss and Σ errors of the batch into metrics[slot], [slot + 1] (added when acc: evaluation chunks)
  head_sum: kernel(
    ['N', 'slot', 'acc', 'pad0'],
    (u) => `${u}
${storage(1, [
  ['perImage', 'r'],
  ['metrics', 'rw'],
])}
@compute @workgroup_size(1)
fn main() {
  var l = 0.0;
  var e = 0.0;
  for (var n = 0u; n < u.N; n++) { l += perImage[2u * n]; e += perImage[2u * n + 1u]; }
  if (u.acc != 0u) { l += metrics[u.slot]; e += metrics[u.slot + 1u]; }
  metrics[u.slot] = l;
  metrics[u.slot + 1u] = e;
}`,
  ),

  // ∂L/∂W[c][j] = Σ_n pooled[n][c]·∂L/∂logits[n][j], ∂L/∂b[j] = Σ_n ∂L/∂logits[n][j]: a thread each
  head_bwd: kernel(
    ['N', 'C', 'gwOff', 'gbOff'],
    (u) => `${u}
${storage(1, [
  ['pooled', 'r'],
  ['dlogits', 'r'],
  ['G', 'rw'],
])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= (u.C + 1u) * 10u) { return; }
  let c = t / 10u; let j = t % 10u;
  var s = 0.0;
  if (c < u.C) {
    for (var n = 0u; n < u.N; n++) { s += pooled[n * u.C + c] * dlogits[n * 10u + j]; }
    G[u.gwOff + t] = s;
  } else {
    for (var n = 0u; n < u.N; n++) { s += dlogits[n * 10u + j]; }
    G[u.gbOff + j] = s;
  }
}`,
  ),

  // ∂L/∂a[n][p][c] = Σ_j ∂L/∂logits[n][j]·W[c][j] / HW (the pooling spreads the gradient evenly)
  gap_bwd: kernel(
    ['total', 'span', 'HW', 'C', 'wOff', 'N', 'pad0', 'pad1'],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['dlogits', 'r'],
  ['P', 'r'],
  ['da', 'rw'],
])}
${perItem(
  'total',
  `  let c = i % u.C; let n = i / (u.HW * u.C);
  var s = 0.0;
  for (var j = 0u; j < 10u; j++) { s += dlogits[n * 10u + j] * P[u.wOff + c * 10u + j]; }
  da[i] = s / f32(u.HW);`,
)}`,
  ),

  // A highway block's output: T = σ(z + b) from its gate conv's z (written over z, for the backward
  // pass and the gate means), y = ReLU(T·F + (1 − T)·carry), F the branch's BN output
  gate_fwd: kernel(
    ['total', 'span', 'K', 'bOff'],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['z', 'rw'],
  ['P', 'r'],
  ['fx', 'r'],
  ['carry', 'r'],
  ['out', 'rw'],
])}
${perItem(
  'total',
  `  let t = 1.0 / (1.0 + exp(-(z[i] + P[u.bOff + i % u.K])));
  z[i] = t;
  out[i] = max(t * fx[i] + (1.0 - t) * carry[i], 0.0);`,
)}`,
  ),

  // Its backward: from g = ∂L/∂y (through the ReLU, mask out) to ∂L/∂F = g·T, the gate's
  // pre-sigmoid gradient g·(F − carry)·T·(1 − T), and the carry's g·(1 − T)
  gate_bwd: kernel(
    ['total', 'span', 'pad0', 'pad1'],
    { elementwise: true },
    (u) => `${u}
${storage(1, [
  ['g', 'r'],
  ['out', 'r'],
  ['t', 'r'],
  ['fx', 'r'],
  ['carry', 'r'],
  ['df', 'rw'],
  ['dg', 'rw'],
  ['dc', 'rw'],
])}
${perItem(
  'total',
  `  var d = g[i];
  if (out[i] <= 0.0) { d = 0.0; }
  let tv = t[i];
  df[i] = d * tv;
  dg[i] = d * (fx[i] - carry[i]) * tv * (1.0 - tv);
  dc[i] = d * (1.0 - tv);`,
)}`,
  ),

  // One workgroup per channel: the gate bias's gradient, Σ over the pixels of the pre-sigmoid gradient
  gate_bias_grad: kernel(
    ['count', 'K', 'gOff', 'pad0'],
    (u) => `${u}
${storage(1, [
  ['dg', 'r'],
  ['G', 'rw'],
])}
${PER_CHANNEL}
  var s = 0.0;
  for (var i = li; i < u.count; i += ${WG}u) { s += dg[i * u.K + c]; }
  red[li] = s; red2[li] = 0.0;
  reduce(li);
  if (li == 0u) { G[u.gOff + c] = red[0]; }
}`,
  ),

  // One workgroup per channel: Σ over the pixels of x², into out[slot + c] (a block input's part of ‖F(x)‖/‖x‖)
  sum_squares: kernel(
    ['count', 'K', 'slot', 'pad0'],
    (u) => `${u}
${storage(1, [
  ['x', 'r'],
  ['out', 'rw'],
])}
${PER_CHANNEL}
  var s = 0.0;
  for (var i = li; i < u.count; i += ${WG}u) { let v = x[i * u.K + c]; s += v * v; }
  red[li] = s; red2[li] = 0.0;
  reduce(li);
  if (li == 0u) { out[u.slot + c] = red[0]; }
}`,
  ),

  // SGD with momentum and weight decay over a net's whole parameter block, as PyTorch's SGD:
  // g = ∂L/∂w + λw; v = μv + g; w = w − lr·v
  sgd: kernel(
    ['len', 'span', 'pad0', 'pad1'],
    { elementwise: true },
    (u) => `${u}${CONTROL}
@group(0) @binding(1) var<uniform> ctrl: Ctrl;
${storage(2, [
  ['P', 'rw'],
  ['G', 'r'],
  ['M', 'rw'],
])}
${perItem(
  'len',
  `  let g = G[i] + ${f(WEIGHT_DECAY)} * P[i];
  let v = ${f(MOMENTUM)} * M[i] + g;
  M[i] = v;
  P[i] = P[i] - ctrl.lr * v;`,
)}`,
  ),
};

/** Every kernel's uniform fields, by name. */
export const FIELDS = {
  ...Object.fromEntries(GEMM_VARIANTS.map((g) => [g.name, GEMM_FIELDS])),
  ...Object.fromEntries(Object.entries(KERNELS).map(([name, k]) => [name, k.fields])),
} as Record<KernelName, readonly string[]>;

/** The WGSL source of a kernel. */
export function kernelSource(name: KernelName): string {
  const g = GEMM_VARIANTS.find((v) => v.name === name);
  if (g) return gemm(g.p, g.t, g.v);
  const k = KERNELS[name as keyof typeof KERNELS];
  return k.source(uniformStruct(k.fields));
}

export const KERNEL_NAMES = Object.keys(FIELDS) as KernelName[];

/** Kernels whose workgroups count is given per dispatch (GEMM tiles, channels); the rest are element-wise over `total`/`len`. */
export const ELEMENTWISE = new Set<KernelName>((Object.keys(KERNELS) as (keyof typeof KERNELS)[]).filter((name) => KERNELS[name].elementwise));
