// What `rtsr eval` scores: anything that turns an LR image into an SR image `scale` times larger.
import type { RgbImage } from '../image/image.js';
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
