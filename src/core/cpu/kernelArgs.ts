// The lab CPU engine's kernels by name: each kernel's arguments, named as in its AssemblyScript
// source (./assembly/*.ts; kernelArgs.test.ts checks the two agree), without the trailing (tid, nth)
// that every call gets. A program names every argument (`kernelCall`), so no caller counts positions;
// the call it makes is the positional list the WebAssembly export takes, built once per program.
//
// Names (./assembly/kernels.ts): x input, y output, w weights, dy/dz gradients, N batch, H/W input
// size, Hp/Wp padded input size, Ho/Wo output size, C input and K output channels, s stride, k kernel
// size, acc 1 to add to the output instead of storing, partial the per-thread sums and nth their count.

/** Every exported kernel, in the order commands refer to them, with its arguments in order. */
export const KERNEL_ARGS = {
  zero: ['p', 'n'],
  conv_fwd: ['xp', 'Hp', 'Wp', 'C', 'w', 'k', 's', 'y', 'N', 'Ho', 'Wo', 'K', 'acc'],
  conv_bwd_filter: ['xp', 'Hp', 'Wp', 'C', 'dy', 'N', 'Ho', 'Wo', 'K', 'k', 's', 'dw'],
  dilate_pad: ['x', 'N', 'H', 'W', 'C', 's', 'pad', 'dst'],
  flip_weights: ['w', 'k', 'C', 'K', 'wt'],
  conv_bwd_data_s2: ['dyp', 'Hp', 'Wp', 'K', 'wt', 'k', 'C', 'dx', 'N', 'H', 'W', 'acc'],
  wino_weights: ['w', 'C', 'K', 'flip', 'U'],
  wino_fwd: ['xp', 'Hp', 'Wp', 'C', 'U', 'y', 'N', 'Ho', 'Wo', 'K', 'acc', 'scratch', 'sstride'],
  wino_bwd_filter: ['xp', 'Hp', 'Wp', 'C', 'dy', 'N', 'Ho', 'Wo', 'K', 'dU', 'scratch', 'sstride'],
  wino_filter_finish: ['dU', 'parts', 'C', 'K', 'dw'],
  wino4_weights: ['w', 'C', 'K', 'flip', 'U', 'scratch', 'sstride'],
  wino4_fwd: ['xp', 'Hp', 'Wp', 'C', 'U', 'y', 'N', 'Ho', 'Wo', 'K', 'acc', 'scratch', 'sstride'],
  wino4_bwd_filter: ['xp', 'Hp', 'Wp', 'C', 'dy', 'N', 'Ho', 'Wo', 'K', 'dU', 'scratch', 'sstride'],
  wino4_filter_finish: ['dU', 'parts', 'C', 'K', 'dw', 'scratch', 'sstride'],
  chan_sums: ['z', 'M', 'C', 'partial'],
  bn_finalize: ['partial', 'nth', 'M', 'C', 'eps', 'gamma', 'beta', 'mean', 'invstd', 'variance', 'scale', 'shift', 'z'],
  bn_eval_affine: ['rmean', 'rvar', 'C', 'eps', 'gamma', 'beta', 'scale', 'shift'],
  bn_running: ['rmean', 'rvar', 'mean', 'variance', 'C', 'm', 'M'],
  bn_apply: ['z', 'M', 'C', 'scale', 'shift', 'res', 'relu', 'y'],
  bn_bwd_sums: ['dy', 'mask', 'z', 'M', 'C', 'partial'],
  bn_bwd_finalize: ['partial', 'nth', 'M', 'C', 'mean', 'invstd', 'gamma', 'dgamma', 'dbeta', 'coefA', 'coefB', 'coefD'],
  bn_bwd_dx: ['dy', 'mask', 'z', 'M', 'C', 'coefA', 'coefB', 'coefD', 'dz'],
  bn_response_moments: ['partial', 'nth', 'M', 'C', 'scale', 'shift', 'z', 'out'],
  relu_mask: ['d', 'a', 'n'],
  add_inplace: ['dst', 'src', 'n'],
  subsample_pad: ['x', 'N', 'H', 'W', 'C', 'K', 's', 'y'],
  subsample_pad_bwd: ['dy', 'N', 'H', 'W', 'C', 'K', 's', 'dx'],
  gate_sigmoid: ['t', 'b', 'M', 'K'],
  highway_fwd: ['t', 'fx', 'c', 'n', 'y'],
  highway_bwd: ['ds', 't', 'fx', 'c', 'n', 'df', 'dg'],
  gate_bias_grad: ['dg', 'M', 'K', 'gb'],
  head: ['a', 'N', 'HW', 'C', 'fcw', 'fcb', 'labels', 'out', 'g', 'probs', 'dA', 'dW', 'db'],
  sgd: ['w', 'g', 'v', 'n', 'lr', 'mom', 'wd'],
} as const satisfies Record<string, readonly string[]>;

export type KernelName = keyof typeof KERNEL_ARGS;

/** Every kernel's name, in the order commands refer to them. */
export const KERNELS = Object.keys(KERNEL_ARGS) as KernelName[];

/** A kernel's arguments by name: every one, and no other (an object literal with a missing or unknown name does not compile). */
type KernelArgs<K extends KernelName> = { readonly [A in (typeof KERNEL_ARGS)[K][number]]: number };

/** A kernel call as the engine runs it: the kernel and its arguments in order, without the trailing (tid, nth). */
export type Call = [KernelName, ...number[]];

/** The call of `kernel` with these named arguments. */
export function kernelCall<K extends KernelName>(kernel: K, args: KernelArgs<K>): Call {
  const named = args as Readonly<Record<string, number>>;
  return [
    kernel,
    ...KERNEL_ARGS[kernel].map((name: string) => {
      const value = named[name];
      if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`${kernel}: argument ${name} is ${value}`);
      return value;
    }),
  ];
}

/** Where argument `name` of `kernel` sits in its Call (after the kernel's name). */
export function argIndex<K extends KernelName>(kernel: K, name: (typeof KERNEL_ARGS)[K][number]): number {
  return 1 + (KERNEL_ARGS[kernel] as readonly string[]).indexOf(name);
}
