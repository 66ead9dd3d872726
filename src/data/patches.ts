// Random training patches: LR p×p crops with the matching HR (p·s)×(p·s) crops, under one of the 8 flips/90°
// rotations. Every image is decoded and downscaled once at load and kept in memory as uint8, so sampling a
// batch only copies pixels.
import type { RgbImage } from '../image/image.js';
import type { Rng } from '../util/random.js';
import { listImages, loadPair, type ImagePair } from './datasets.js';

/** NHWC float32 in [0, 1]: lr [batch, p, p, 3], hr [batch, p·scale, p·scale, 3]. */
export interface PatchBatch {
  readonly lr: Float32Array;
  readonly hr: Float32Array;
  readonly batch: number;
  readonly patchSize: number;
  readonly scale: number;
}

export class PatchSampler {
  constructor(
    readonly pairs: readonly ImagePair[],
    readonly scale: number,
  ) {
    if (pairs.length === 0) throw new Error('PatchSampler needs at least one image');
  }

  /** Loads every HR image of `sets` from `dataDir` and makes its LR for `scale`. */
  static async load(dataDir: string, sets: readonly string[], scale: number): Promise<PatchSampler> {
    const pairs: ImagePair[] = [];
    for (const set of sets) {
      for (const path of await listImages(dataDir, set)) pairs.push(await loadPair(path, scale));
    }
    return new PatchSampler(pairs, scale);
  }

  /** A batch of `batch` patches: image uniformly among those with room for a p×p LR patch, position uniformly,
   *  and (when `augment`) one of the 8 dihedral transforms uniformly, applied alike to LR and HR. */
  sample(rng: Rng, batch: number, patchSize: number, augment = true): PatchBatch {
    const p = patchSize;
    const s = this.scale;
    const usable = this.pairs.filter((q) => q.lr.width >= p && q.lr.height >= p);
    if (usable.length === 0) {
      const largest = this.pairs.reduce((m, q) => Math.max(m, Math.min(q.lr.width, q.lr.height)), 0);
      throw new Error(`no image has room for a ${p}x${p} LR patch at x${s} (largest LR short side: ${largest})`);
    }
    const lrLen = p * p * 3;
    const hrLen = lrLen * s * s;
    const lr = new Float32Array(batch * lrLen);
    const hr = new Float32Array(batch * hrLen);
    for (let b = 0; b < batch; b++) {
      const q = usable[rng.int(usable.length)];
      const x = rng.int(q.lr.width - p + 1);
      const y = rng.int(q.lr.height - p + 1);
      const t = augment ? rng.int(8) : 0;
      copyPatch(q.lr, x, y, p, t, lr, b * lrLen);
      copyPatch(q.hr, x * s, y * s, p * s, t, hr, b * hrLen);
    }
    return { lr, hr, batch, patchSize: p, scale: s };
  }
}

/** Writes the size×size patch at (x0, y0) of `src`, transformed by `t` (bit 2: transpose, bit 1: flip
 *  vertically, bit 0: flip horizontally — together the 8 symmetries of the square), as floats in [0, 1]. */
function copyPatch(src: RgbImage, x0: number, y0: number, size: number, t: number, dst: Float32Array, offset: number): void {
  const last = size - 1;
  let o = offset;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      let a = t & 4 ? j : i;
      let c = t & 4 ? i : j;
      if (t & 2) a = last - a;
      if (t & 1) c = last - c;
      const k = ((y0 + a) * src.width + x0 + c) * 3;
      dst[o++] = src.data[k] / 255;
      dst[o++] = src.data[k + 1] / 255;
      dst[o++] = src.data[k + 2] / 255;
    }
  }
}
