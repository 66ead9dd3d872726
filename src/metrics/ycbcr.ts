// The luma used by SR benchmarks: MATLAB's rgb2ycbcr (ITU-R BT.601, studio swing), Y in [16, 235].
import type { RgbImage } from '../image/image.js';
import type { Plane } from './plane.js';

/** BT.601's studio-swing rows Y, Cb and Cr for R, G, B in [0, 1], in 8-bit levels (MATLAB's rgb2ycbcr). */
export const BT601 = {
  y: [65.481, 128.553, 24.966],
  cb: [-37.797, -74.203, 112.0],
  cr: [112.0, -93.786, -18.214],
} as const;

/** Y = 16 + 65.481·R + 128.553·G + 24.966·B with R, G, B in [0, 1]; kept as float64, not rounded to uint8. */
export function luma(img: RgbImage): Plane {
  return weighted(img, 16, 255);
}

/** The same weights over full range, (65.481·R + 128.553·G + 24.966·B) / 219 in [0, 255]: exactly the gray level
 *  when R = G = B. Benchmark code skips rgb2ycbcr for single-channel images (Set14's bridge) and scores the gray
 *  values as they are; this reproduces that, and for an RGB output of such an image it is its gray level. */
export function grayLevel(img: RgbImage): Plane {
  return weighted(img, 0, 219);
}

function weighted(img: RgbImage, offset: number, divisor: number): Plane {
  const n = img.width * img.height;
  const data = new Float64Array(n);
  const d = img.data;
  const [wr, wg, wb] = BT601.y;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    data[i] = offset + (wr * d[j] + wg * d[j + 1] + wb * d[j + 2]) / divisor;
  }
  return { width: img.width, height: img.height, data };
}
