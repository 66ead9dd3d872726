// What `rtsr eval` scores: anything that turns an LR image into an SR image `scale` times larger.
import { ensembleMean } from '../image/dihedral.js';
import { type RgbImage, rgbImage } from '../image/image.js';
import { resizeImage } from '../image/resize.js';

export interface Upscaler {
  /** Shown in tables and in `--json` output. */
  readonly name: string;
  readonly scale: number;
  /** Must return exactly (width·scale)×(height·scale), already rounded to uint8 (as SR outputs are scored). */
  upscale(lr: RgbImage): Promise<RgbImage> | RgbImage;
}

/** The bicubic baseline of every SR table: MATLAB `imresize(LR, scale, 'bicubic')`. */
export function bicubicUpscaler(scale: number): Upscaler {
  return { name: 'bicubic', scale, upscale: (lr) => resizeImage(lr, scale) };
}

/** `base`'s self-ensemble: the mean of its SR of the LR image's 8 flips and rotations, each mapped back, rounded
 *  to uint8. 8 times the work; how much of a network's error is not equivariant (docs/training.md). */
export function selfEnsemble(base: Upscaler): Upscaler {
  return {
    name: `${base.name} (self-ensemble)`,
    scale: base.scale,
    async upscale(lr) {
      const s = base.scale;
      const mean = await ensembleMean({ ...lr, channels: 3 }, s, async (moved) => ({ ...(await base.upscale(rgbImage(moved.width, moved.height, moved.data, lr.gray))), channels: 3 }));
      return rgbImage(lr.width * s, lr.height * s, Uint8Array.from(mean, Math.round), lr.gray);
    },
  };
}
