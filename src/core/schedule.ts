// The learning-rate schedule of §4.2, scaled to a run's length, with the warmup modes the lab offers.
// Every learning rate the lab uses comes from `learningRate`: the trainer calls it each step and the
// UI calls it to draw the schedule, so what is plotted is what is trained.
//
// Paper: lr 0.1, divided by 10 at 32k and 48k of 64k iterations, i.e. at 50% and 75% of the run.
// Warmup (ResNet-110): "we use 0.01 to warm up the training until the training error is below 80%
// (about 400 iterations), and then go back to 0.1".

/**
 * 'paper': the paper's rule for every net; 'paper-110': only for nets of 110 layers or more, as the
 * paper did (§4.2: "0.1 is slightly too large to start converging" for ResNet-110).
 */
export const WARMUP_MODES = ['off', 'paper', 'paper-110', 'constant', 'linear'] as const;
export type WarmupMode = (typeof WARMUP_MODES)[number];

/** Depth from which 'paper-110' warms up. */
const PAPER_WARMUP_DEPTH = 110;

/** The warmup a net of this depth trains with under an experiment's mode. */
export function warmupForDepth(mode: WarmupMode, depth: number): WarmupMode {
  if (mode !== 'paper-110') return mode;
  return depth >= PAPER_WARMUP_DEPTH ? 'paper' : 'off';
}

export interface ScheduleConfig {
  /** Base learning rate (0.1 in the paper). */
  lr: number;
  /** Total iterations of the run (64k in the paper). */
  iterations: number;
  warmup: WarmupMode;
  /** Iterations in one epoch (training subset ÷ batch size): the length of constant/linear warmup. */
  iterationsPerEpoch: number;
}

/** The paper's warmup ends when the running training error falls below this. */
export const PAPER_WARMUP_ERROR = 0.8;
/** The running error needs this many mini-batches before it can end the paper's warmup. */
export const PAPER_WARMUP_MIN_SAMPLES = 10;
/** Warmup learning rate as a fraction of the base rate: 0.01 / 0.1 in the paper. */
const WARMUP_FRACTION = 0.1;

/** The step schedule alone: lr, lr/10 from 50% of the run, lr/100 from 75%. */
export function stepSchedule(iteration: number, lr: number, iterations: number): number {
  if (iteration >= Math.floor(0.75 * iterations)) return lr / 100;
  if (iteration >= Math.floor(0.5 * iterations)) return lr / 10;
  return lr;
}

/**
 * The learning rate at an iteration (0-based).
 * @param paperWarmupEnd for warmup 'paper': the first iteration whose running training error was
 *   below 80%, or null while it has not happened yet (NetTrainer in train.ts tracks it).
 */
export function learningRate(iteration: number, cfg: ScheduleConfig, paperWarmupEnd: number | null = null): number {
  const base = stepSchedule(iteration, cfg.lr, cfg.iterations);
  const epoch = Math.max(1, cfg.iterationsPerEpoch);
  switch (cfg.warmup) {
    case 'off':
      return base;
    // A warmup rate never exceeds the step schedule's: a net still warming up when the rate drops
    // (one that never gets below 80% training error) follows the drops like every other net, so
    // nets of one run end on the same rates and their errors compare on the same schedule.
    case 'paper':
    case 'paper-110': // a net that warms up (see warmupForDepth)
      return paperWarmupEnd === null || iteration <= paperWarmupEnd ? Math.min(cfg.lr * WARMUP_FRACTION, base) : base;
    case 'constant':
      return iteration < epoch ? Math.min(cfg.lr * WARMUP_FRACTION, base) : base;
    case 'linear':
      // A ramp from 0 to the base rate over the first epoch; (t+1) so the first step moves.
      return iteration < epoch ? Math.min((cfg.lr * (iteration + 1)) / epoch, base) : base;
  }
}
