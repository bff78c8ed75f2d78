// The batch sequence and the augmentation of §4.2, seeded: "4 pixels are padded on each side, and
// a 32×32 crop is randomly sampled from the padded image or its horizontal flip."
// Which images form batch t, and how each is cropped and flipped, is a pure function of
// (seed, t): every net of an experiment sees the same batches, and a resumed run sees the same
// batches it would have seen without the interruption.
import { Rng } from '../rng';
import type { ImageBatch } from '../train';
import type { ChannelStats, LabeledImages } from './cifar10';
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
 * Make a normalised float batch (NHWC) from images at `indices`: (pixel − mean_c) / std_c, with
 * the padding of the random crop being black pixels (0 before normalisation, as in torchvision).
 */
export function makeBatch(
  set: LabeledImages,
  indices: ArrayLike<number>,
  stats: ChannelStats,
  augment: { seed: number; iteration: number } | null,
  out?: Float32Array,
): ImageBatch {
  const n = indices.length;
  const x = out && out.length >= n * IMAGE_BYTES ? out : new Float32Array(n * IMAGE_BYTES);
  const labels = new Uint8Array(n);
  const scale = stats.std.map((s) => 1 / (s || 1));
  const pad = stats.mean.map((m, c) => -m * scale[c]);
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
          x[o] = pad[0];
          x[o + 1] = pad[1];
          x[o + 2] = pad[2];
        } else {
          const p = src + (sy * SIDE + sx) * 3;
          x[o] = (set.images[p] - stats.mean[0]) * scale[0];
          x[o + 1] = (set.images[p + 1] - stats.mean[1]) * scale[1];
          x[o + 2] = (set.images[p + 2] - stats.mean[2]) * scale[2];
        }
      }
    }
  }
  return { x, labels, size: n, imageSize: SIDE };
}
