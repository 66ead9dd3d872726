// SSIM as in the published SR tables (Wang et al.'s ssim_index.m): 11×11 Gaussian window with σ = 1.5,
// K1 = 0.01, K2 = 0.03, "valid" filtering (no padding), mean of the SSIM map, no downsampling.
import { assertSameShape, type Plane } from './plane.js';

export const SSIM_WINDOW = 11;
const WINDOW = SSIM_WINDOW;
const SIGMA = 1.5;

/** The 1-D normalised Gaussian; its outer product is MATLAB's fspecial('gaussian', 11, 1.5). */
export const GAUSSIAN_11 = (() => {
  const g = new Float64Array(WINDOW);
  const r = (WINDOW - 1) / 2;
  for (let i = 0; i < WINDOW; i++) g[i] = Math.exp(-((i - r) ** 2) / (2 * SIGMA * SIGMA));
  const sum = g.reduce((s, v) => s + v, 0);
  return g.map((v) => v / sum);
})();

export function ssim(a: Plane, b: Plane, peak = 255): number {
  assertSameShape(a, b, 'SSIM');
  const { width, height } = a;
  const ow = width - WINDOW + 1;
  const oh = height - WINDOW + 1;
  if (ow <= 0 || oh <= 0) throw new Error(`SSIM: a ${width}x${height} image is smaller than the ${WINDOW}x${WINDOW} window`);
  const c1 = (0.01 * peak) ** 2;
  const c2 = (0.03 * peak) ** 2;
  const g = GAUSSIAN_11;
  const x = a.data;
  const y = b.data;

  // The window is separable: filter rows first (height × ow), then columns. Five local moments per pixel.
  const n = height * ow;
  const mx = new Float64Array(n), my = new Float64Array(n);
  const mxx = new Float64Array(n), myy = new Float64Array(n), mxy = new Float64Array(n);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < ow; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0, p = r * width + c; k < WINDOW; k++, p++) {
        const wk = g[k], vx = x[p], vy = y[p];
        sx += wk * vx;
        sy += wk * vy;
        sxx += wk * vx * vx;
        syy += wk * vy * vy;
        sxy += wk * vx * vy;
      }
      const o = r * ow + c;
      mx[o] = sx; my[o] = sy; mxx[o] = sxx; myy[o] = syy; mxy[o] = sxy;
    }
  }
  let total = 0;
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
      for (let k = 0, p = r * ow + c; k < WINDOW; k++, p += ow) {
        const wk = g[k];
        ux += wk * mx[p];
        uy += wk * my[p];
        uxx += wk * mxx[p];
        uyy += wk * myy[p];
        uxy += wk * mxy[p];
      }
      const vx = uxx - ux * ux;
      const vy = uyy - uy * uy;
      const cov = uxy - ux * uy;
      total += ((2 * ux * uy + c1) * (2 * cov + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    }
  }
  return total / (ow * oh);
}
