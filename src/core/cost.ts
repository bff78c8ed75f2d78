// What an experiment will cost before it starts: the memory its nets need while training, and the
// points it will record. A config over either limit is refused before it starts, with the figure
// and the limit (the form shows it; the page and the worker refuse to start it).
import type { ExperimentConfig } from './config';
import { validateConfig } from './config';
import { netSpecOf, netsOf } from './experimentNets';
import type { NetEntry } from './experimentNets';
import { activationBytes, netBytes, trainsAlone } from './cpu/program';
import { multiplyAdds } from './nets';

/**
 * Memory for training, in bytes. The lab CPU engine's WebAssembly memory stops at 4 GiB; browsers
 * give a page's GPU buffers less than that in practice. Leave room for the data and the page.
 */
export const MEMORY_LIMIT = 3 * 2 ** 30;
/**
 * Recorded numbers (every training point and evaluation of every net). Each is 8 bytes in the page,
 * and about as much again in storage; 25 million is 200 MB, about a 200,000-iteration run of
 * 25 nets (the Fig. 6 preset records 3.3 million).
 */
export const POINTS_LIMIT = 25_000_000;

interface ExperimentCost {
  nets: number;
  /**
   * Bytes: every net's weights, gradients and momentum, plus the largest net's saved activations twice (a workspace
   * per thread), or once where a net trains alone on every thread (over 300 layers: one shared workspace).
   */
  memory: number;
  /** Numbers the run will record. */
  points: number;
}

export function experimentCost(config: ExperimentConfig, entries: readonly NetEntry[] = netsOf(config)): ExperimentCost {
  const specs = entries.map((e) => netSpecOf(e, config));
  const weights = specs.reduce((s, spec) => s + netBytes(spec), 0);
  const activations = Math.max(0, ...specs.map((spec) => activationBytes(spec, config.batchSize)));
  const evals = Math.ceil(config.iterations / config.evalEvery) + 1;
  const points = specs.reduce((s, spec) => s + 5 * config.iterations + evals * (3 + 2 * spec.layers3x3.length), 0);
  const workspaces = specs.some(trainsAlone) ? 1 : 2;
  return { nets: specs.length, memory: weights + workspaces * activations, points };
}

/** Whether a net added to a running experiment (the page's "Add a net") keeps its memory within MEMORY_LIMIT. */
export function addedNetFits(config: ExperimentConfig, nets: readonly NetEntry[], entry: NetEntry): boolean {
  return experimentCost(config, [...nets, entry]).memory <= MEMORY_LIMIT;
}

const GB = (n: number) => `${(n / 2 ** 30).toFixed(1)} GB`;

/** Memory as the form names it: "2.8 GB", "310 MB" (binary units, as the limit is counted). */
export const formatBytes = (n: number): string => (n >= 2 ** 30 ? GB(n) : `${Math.max(1, Math.round(n / 2 ** 20))} MB`);
const M = (n: number) => `${(n / 1e6).toFixed(1)} million`;

/** Why this config is too large to run, or null (an invalid config is validateConfig's to refuse). */
export function costProblem(config: ExperimentConfig): string | null {
  if (validateConfig(config).issues.some((i) => i.level === 'error')) return null;
  const c = experimentCost(config);
  if (c.memory > MEMORY_LIMIT) {
    return `this experiment needs about ${GB(c.memory)} of memory to train (${c.nets} nets at width ×${config.width}, batch ${config.batchSize}); the limit is ${GB(MEMORY_LIMIT)}: use fewer nets, a smaller batch or a smaller width`;
  }
  if (c.points > POINTS_LIMIT) {
    return `this experiment would record ${M(c.points)} numbers (${c.nets} nets × ${config.iterations.toLocaleString('en')} iterations); the limit is ${M(POINTS_LIMIT)}: use fewer nets or iterations`;
  }
  return null;
}

/** Multiply-adds of one training image through every net of the config (forward pass). */
export function macsPerImage(config: ExperimentConfig): number {
  return netsOf(config).reduce((s, e) => s + multiplyAdds(netSpecOf(e, config)), 0);
}

/**
 * This machine's training speed, in forward multiply-adds per second, from a run's throughput:
 * images/s counts every net's images, so the rate is images/s times the nets' mean cost per image.
 */
export function measuredSpeed(config: ExperimentConfig, imagesPerSec: number): number {
  const nets = netsOf(config).length;
  return nets ? (imagesPerSec * macsPerImage(config)) / nets : 0;
}

/** The expected wall time of a config at a measured speed (evaluations not counted), in ms. */
export function expectedMs(config: ExperimentConfig, macsPerSec: number): number {
  return macsPerSec > 0 ? (1000 * config.iterations * config.batchSize * macsPerImage(config)) / macsPerSec : Number.POSITIVE_INFINITY;
}
