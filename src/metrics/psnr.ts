import { assertSameShape, type Plane } from './plane.js';

/** Peak signal-to-noise ratio in dB, 10·log10(peak² / MSE); Infinity for identical images. */
export function psnr(a: Plane, b: Plane, peak = 255): number {
  assertSameShape(a, b, 'PSNR');
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    sum += d * d;
  }
  return 10 * Math.log10((peak * peak) / (sum / a.data.length));
}
