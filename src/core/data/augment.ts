// The batch sequence and the augmentation of §4.2, seeded: "4 pixels are padded on each side, and
// a 32×32 crop is randomly sampled from the padded image or its horizontal flip."
// Which images form batch t, and how each is cropped and flipped, is a pure function of
// (seed, t): every net of an experiment sees the same batches, and a resumed run sees the same
// batches it would have seen without the interruption.
import { Rng } from '../rng';
import type { ImageBatch } from '../train';
import type { LabeledImages } from './cifar10';
import { IMAGE_BYTES, SIDE } from './cifar10';

export const PAD = 4;

/** Iterations in one pass over the training set (the last partial batch of an epoch is dropped). */
export function iterationsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.max(1, Math.floor(trainCount / batchSize));
}

/** The training-set indices of batch `iteration`: epoch e uses its own seeded permutation. */
export class BatchSequence {
  private cache: { epoch: number; perm: Uint32Array } | null = null;

  constructor(
    readonly seed: number,
    readonly trainCount: number,
    readonly batchSize: number,
  ) {
    if (batchSize > trainCount) throw new Error(`batch size ${batchSize} is larger than the ${trainCount} training images`);
  }

  get perEpoch(): number {
    return iterationsPerEpoch(this.trainCount, this.batchSize);
  }

  indices(iteration: number): Uint32Array {
    const epoch = Math.floor(iteration / this.perEpoch);
    if (!this.cache || this.cache.epoch !== epoch) this.cache = { epoch, perm: new Rng(this.seed, `order:${epoch}`).permutation(this.trainCount) };
    const j = iteration % this.perEpoch;
    return this.cache.perm.subarray(j * this.batchSize, (j + 1) * this.batchSize);
  }
}

/** Per image: crop offsets 0..8 into the padded 40×40 image, and a flip. */
export function augmentDraws(seed: number, iteration: number, count: number): { dx: Uint8Array; dy: Uint8Array; flip: Uint8Array } {
  const rng = new Rng(seed, `augment:${iteration}`);
  const dx = new Uint8Array(count);
  const dy = new Uint8Array(count);
  const flip = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    dx[i] = rng.int(2 * PAD + 1);
    dy[i] = rng.int(2 * PAD + 1);
    flip[i] = rng.int(2);
  }
  return { dx, dy, flip };
}

/**
 * The paper's input normalisation (§3.4, §4.2): "the per-pixel mean subtracted". The mean image
 * (32×32×3) is taken over the experiment's own training images only, never the test or held-out
 * ones. Every value is then divided by its channel's std over the same images: BN right after the
 * first conv makes that scale irrelevant to training (it only keeps the inputs near unit size).
 */
export interface InputStats {
  /** Mean of each pixel and channel over the training images, HWC (3,072 values, 0–255 scale). */
  pixelMean: Float32Array;
  /** Per-channel std (0–255 scale). */
  std: [number, number, number];
}

export function inputStats(set: LabeledImages): InputStats {
  const sum = new Float64Array(IMAGE_BYTES);
  const sq = [0, 0, 0];
  const chan = [0, 0, 0];
  const { images, count } = set;
  for (let i = 0; i < count; i++) {
    const o = i * IMAGE_BYTES;
    for (let p = 0; p < IMAGE_BYTES; p++) {
      const v = images[o + p];
      sum[p] += v;
      sq[p % 3] += v * v;
      chan[p % 3] += v;
    }
  }
  const n = Math.max(1, count);
  const pixels = n * SIDE * SIDE;
  const pixelMean = Float32Array.from(sum, (s) => s / n);
  const std = sq.map((q, c) => Math.sqrt(Math.max(0, q / pixels - (chan[c] / pixels) ** 2)) || 1) as [number, number, number];
  return { pixelMean, std };
}

/**
 * Make a normalised float batch (NHWC) from images at `indices`: each image is normalised
 * ((pixel − mean image) / std_c), then padded with zeros and cropped, as fb.resnet.torch does, so
 * the 4-pixel border of the random crop holds the mean.
 */
export function makeBatch(
  set: LabeledImages,
  indices: ArrayLike<number>,
  stats: InputStats,
  augment: { seed: number; iteration: number } | null,
  out?: Float32Array,
): ImageBatch {
  const n = indices.length;
  const x = out && out.length >= n * IMAGE_BYTES ? out : new Float32Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  const scale = stats.std.map((s) => 1 / s);
  const mean = stats.pixelMean;
  const draws = augment ? augmentDraws(augment.seed, augment.iteration, n) : null;
  for (let i = 0; i < n; i++) {
    const src = indices[i] * IMAGE_BYTES;
    labels[i] = set.labels[indices[i]];
    const ox = draws ? draws.dx[i] - PAD : 0;
    const oy = draws ? draws.dy[i] - PAD : 0;
    const flip = draws ? draws.flip[i] === 1 : false;
    let o = i * IMAGE_BYTES;
    for (let y = 0; y < SIDE; y++) {
      const sy = y + oy;
      for (let xx = 0; xx < SIDE; xx++, o += 3) {
        const sx = (flip ? SIDE - 1 - xx : xx) + ox;
        if (sy < 0 || sy >= SIDE || sx < 0 || sx >= SIDE) {
          x[o] = 0;
          x[o + 1] = 0;
          x[o + 2] = 0;
        } else {
          const q = (sy * SIDE + sx) * 3;
          const p = src + q;
          x[o] = (set.images[p] - mean[q]) * scale[0];
          x[o + 1] = (set.images[p + 1] - mean[q + 1]) * scale[1];
          x[o + 2] = (set.images[p + 2] - mean[q + 2]) * scale[2];
        }
      }
    }
  }
  return { x, labels, size: n, imageSize: SIDE };
}
