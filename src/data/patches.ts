// Random training patches: LR p×p crops with the matching HR (p·s)×(p·s) crops, under one of the 8 flips/90°
// rotations. Every image is decoded and downscaled once at load and kept in memory as uint8, so sampling a
// batch only copies pixels. A distilling run adds a teacher's SR of every whole image, cropped alike.
import type { RgbImage } from '../image/image.js';
import type { Rng } from '../util/random.js';
import { downscaledPair, listImages, loadPair, shiftedPair, type ImagePair } from './datasets.js';

/** NHWC float32 in [0, 1]: lr [batch, p, p, 3], hr and teacher [batch, p·scale, p·scale, 3]. */
export interface PatchBatch {
  readonly lr: Float32Array;
  readonly hr: Float32Array;
  readonly teacher?: Float32Array;
  readonly batch: number;
  readonly patchSize: number;
  readonly scale: number;
}

export class PatchSampler {
  constructor(
    readonly pairs: readonly ImagePair[],
    readonly scale: number,
    /** Per pair, a teacher's SR of the whole LR image (HR-sized HWC floats). */
    readonly targets?: readonly Float32Array[],
  ) {
    if (pairs.length === 0) throw new Error('PatchSampler needs at least one image');
    if (targets && targets.length !== pairs.length) throw new Error(`${targets.length} teacher outputs for ${pairs.length} images`);
    targets?.forEach((t, i) => {
      if (t.length !== pairs[i].hr.data.length) throw new Error(`teacher output for ${pairs[i].path} has ${t.length} values, its HR image ${pairs[i].hr.data.length}`);
    });
  }

  /** The same images with a teacher's outputs to crop beside each HR patch. */
  withTargets(targets: readonly Float32Array[]): PatchSampler {
    return new PatchSampler(this.pairs, this.scale, targets);
  }

  /** These images and, after them, each one downscaled by every factor of `factors` with its LR made alike:
   *  FSRCNN's scale augmentation, sharper pairs from the same photographs. Before any teacher's outputs. */
  withDownscales(factors: readonly number[]): PatchSampler {
    return this.withCopies('withDownscales', factors, (p, f) => downscaledPair(p, f, this.scale));
  }

  /** These images and, after them, each one cropped by every (dx, dy) of `shifts` at the top-left with its LR
   *  made alike: the same picture sampled at another phase of the scale's grid, at full HR sharpness. */
  withShifts(shifts: readonly (readonly [number, number])[]): PatchSampler {
    return this.withCopies('withShifts', shifts, (p, [dx, dy]) => shiftedPair(p, dx, dy, this.scale));
  }

  /** These pairs, then one copy of each per kind (kind by kind), leaving out those `copy` cannot make. */
  private withCopies<K>(what: string, kinds: readonly K[], copy: (p: ImagePair, kind: K) => ImagePair | null): PatchSampler {
    if (this.targets) throw new Error(`${what}: make the copies before adding the teacher outputs`);
    const extra = kinds.flatMap((k) => this.pairs.map((p) => copy(p, k)).filter((p) => p !== null));
    return new PatchSampler([...this.pairs, ...extra], this.scale);
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
    const usable = [...this.pairs.keys()].filter((i) => this.pairs[i].lr.width >= p && this.pairs[i].lr.height >= p);
    if (usable.length === 0) {
      const largest = this.pairs.reduce((m, q) => Math.max(m, Math.min(q.lr.width, q.lr.height)), 0);
      throw new Error(`no image has room for a ${p}x${p} LR patch at x${s} (largest LR short side: ${largest})`);
    }
    const lrLen = p * p * 3;
    const hrLen = lrLen * s * s;
    const lr = new Float32Array(batch * lrLen);
    const hr = new Float32Array(batch * hrLen);
    const teacher = this.targets && new Float32Array(batch * hrLen);
    for (let b = 0; b < batch; b++) {
      const i = usable[rng.int(usable.length)];
      const q = this.pairs[i];
      const x = rng.int(q.lr.width - p + 1);
      const y = rng.int(q.lr.height - p + 1);
      const t = augment ? rng.int(8) : 0;
      copyPatch(q.lr, x, y, p, t, lr, b * lrLen);
      copyPatch(q.hr, x * s, y * s, p * s, t, hr, b * hrLen);
      if (teacher) copyPatch({ width: q.hr.width, data: this.targets![i] }, x * s, y * s, p * s, t, teacher, b * hrLen);
    }
    return { lr, hr, ...(teacher ? { teacher } : {}), batch, patchSize: p, scale: s };
  }
}

/** A byte's value as a float in [0, 1]: the same float32 as byte / 255, looked up rather than divided. */
const UNIT_BYTE = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** Writes the size×size patch at (x0, y0) of `src`, transformed by `t` (bit 2: transpose, bit 1: flip
 *  vertically, bit 0: flip horizontally — together the 8 symmetries of the square), as floats: bytes / 255,
 *  or floats as they are. Each transform walks the source affinely: a patch row steps `di`, a pixel `dj`. */
function copyPatch(src: Pick<RgbImage, 'width'> & { data: Uint8Array | Float32Array }, x0: number, y0: number, size: number, t: number, dst: Float32Array, offset: number): void {
  const row = src.width * 3;
  const last = size - 1;
  const down = t & 2 ? -row : row;
  const right = t & 1 ? -3 : 3;
  const [di, dj] = t & 4 ? [right, down] : [down, right];
  const base = ((y0 + (t & 2 ? last : 0)) * src.width + x0 + (t & 1 ? last : 0)) * 3;
  const data = src.data;
  let o = offset;
  for (let i = 0; i < size; i++) {
    let k = base + i * di;
    // A loop per element type rather than a test per pixel.
    if (data instanceof Float32Array) {
      for (let j = 0; j < size; j++, k += dj, o += 3) {
        dst[o] = data[k];
        dst[o + 1] = data[k + 1];
        dst[o + 2] = data[k + 2];
      }
    } else {
      for (let j = 0; j < size; j++, k += dj, o += 3) {
        dst[o] = UNIT_BYTE[data[k]];
        dst[o + 1] = UNIT_BYTE[data[k + 1]];
        dst[o + 2] = UNIT_BYTE[data[k + 2]];
      }
    }
  }
}
