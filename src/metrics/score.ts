// The benchmark score of one SR output against its HR image: PSNR and SSIM on Y with a `scale`-pixel border cut.
import type { RgbImage } from '../image/image.js';
import { psnr } from './psnr.js';
import { shave } from './plane.js';
import { ssim } from './ssim.js';
import { grayLevel, luma } from './ycbcr.js';

export interface Score {
  readonly psnr: number;
  readonly ssim: number;
}

/** `sr` must already be uint8 (SR outputs are rounded before scoring); `border` is the scale factor.
 *  A grayscale HR is scored on gray levels instead of Y, as the MATLAB benchmark code does. */
export function scoreY(sr: RgbImage, hr: RgbImage, border: number): Score {
  if (sr.width !== hr.width || sr.height !== hr.height) {
    throw new Error(`SR output is ${sr.width}x${sr.height} but HR is ${hr.width}x${hr.height}`);
  }
  const channel = hr.gray ? grayLevel : luma;
  const a = shave(channel(sr), border);
  const b = shave(channel(hr), border);
  return { psnr: psnr(a, b), ssim: ssim(a, b) };
}
