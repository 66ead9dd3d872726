import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rgbImage } from '../src/image/image.js';
import { shave, type Plane } from '../src/metrics/plane.js';
import { psnr } from '../src/metrics/psnr.js';
import { scoreY } from '../src/metrics/score.js';
import { ssim } from '../src/metrics/ssim.js';
import { grayLevel, luma } from '../src/metrics/ycbcr.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

function plane(width: number, height: number, f: (x: number, y: number) => number): Plane {
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
}

/** Deterministic pseudo-random values in [0, 255). */
function noise(seed: number): (x: number, y: number) => number {
  return (x, y) => {
    const s = Math.sin(x * 12.9898 + y * 78.233 + seed * 37.719) * 43758.5453;
    return (s - Math.floor(s)) * 255;
  };
}

test('Y of black, white and the primaries is BT.601 studio swing', () => {
  const img = rgbImage(5, 1, Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]));
  const y = luma(img).data;
  close(y[0], 16, 1e-12, 'black');
  close(y[1], 235, 1e-12, 'white');
  close(y[2], 16 + 65.481, 1e-12, 'red');
  close(y[3], 16 + 128.553, 1e-12, 'green');
  close(y[4], 16 + 24.966, 1e-12, 'blue');
  const g = grayLevel(rgbImage(3, 1, Uint8Array.from([0, 0, 0, 77, 77, 77, 255, 255, 255]))).data;
  [0, 77, 255].forEach((v, i) => close(g[i], v, 1e-12, `gray level ${v}`));
});

test('PSNR of a known MSE, and of identical images', () => {
  const a = plane(8, 6, () => 100);
  const b = plane(8, 6, (x, y) => 100 + ((x + y) % 2 ? 3 : -3)); // MSE = 9
  close(psnr(a, b), 10 * Math.log10((255 * 255) / 9), 1e-12, 'PSNR');
  close(psnr(a, plane(8, 6, () => 110)), 10 * Math.log10((255 * 255) / 100), 1e-12, 'PSNR at MSE 100');
  assert.equal(psnr(a, a), Infinity);
  assert.throws(() => psnr(a, plane(6, 8, () => 0)), /8x6 vs 6x8/);
});

test('shave removes the border on every side', () => {
  const p = plane(7, 6, (x, y) => 10 * y + x);
  const s = shave(p, 2);
  assert.deepEqual([s.width, s.height], [3, 2]);
  assert.deepEqual(Array.from(s.data), [22, 23, 24, 32, 33, 34]);
  assert.throws(() => shave(p, 3), /3-pixel border from a 7x6/);
});

/** SSIM written straight from Wang et al.: a 2-D 11×11 Gaussian window (fspecial-style, normalised over all
 *  121 taps), every 'valid' position, statistics from raw sums, mean of the map. No separability. */
function directSsim(a: Plane, b: Plane): number {
  const win: number[][] = [];
  let total = 0;
  for (let i = 0; i < 11; i++) {
    win.push([]);
    for (let j = 0; j < 11; j++) {
      const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * 1.5 * 1.5));
      win[i].push(v);
      total += v;
    }
  }
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let sum = 0;
  let count = 0;
  for (let y = 0; y + 11 <= a.height; y++) {
    for (let x = 0; x + 11 <= a.width; x++) {
      let mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
      for (let i = 0; i < 11; i++) {
        for (let j = 0; j < 11; j++) {
          const w = win[i][j] / total;
          const p = (y + i) * a.width + x + j;
          mx += w * a.data[p];
          my += w * b.data[p];
        }
      }
      for (let i = 0; i < 11; i++) {
        for (let j = 0; j < 11; j++) {
          const w = win[i][j] / total;
          const p = (y + i) * a.width + x + j;
          sxx += w * (a.data[p] - mx) ** 2;
          syy += w * (b.data[p] - my) ** 2;
          sxy += w * (a.data[p] - mx) * (b.data[p] - my);
        }
      }
      sum += ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
      count++;
    }
  }
  return sum / count;
}

test('SSIM matches a direct non-separable implementation', () => {
  const a = plane(29, 23, noise(1));
  const smooth = plane(29, 23, (x, y) => 128 + 60 * Math.sin(x / 4) * Math.cos(y / 5));
  const cases: [string, Plane, Plane][] = [
    ['noise vs noise', a, plane(29, 23, noise(2))],
    ['noise vs noisy copy', a, plane(29, 23, (x, y) => a.data[y * 29 + x] * 0.8 + noise(3)(x, y) * 0.2)],
    ['smooth vs shifted copy', smooth, plane(29, 23, (x, y) => smooth.data[y * 29 + Math.min(x + 1, 28)])],
  ];
  for (const [name, x, y] of cases) {
    const want = directSsim(x, y);
    close(ssim(x, y), want, 1e-10, name);
    close(ssim(y, x), want, 1e-10, `${name} (swapped)`);
  }
});

test('SSIM of identical images is 1; of two flat images, the luminance term alone', () => {
  const a = plane(20, 15, noise(4));
  close(ssim(a, a), 1, 1e-12, 'identical');
  // Flat images have zero variance, so SSIM = (2·μa·μb + C1) / (μa² + μb² + C1) everywhere.
  const c1 = (0.01 * 255) ** 2;
  close(ssim(plane(12, 12, () => 100), plane(12, 12, () => 140)), (2 * 100 * 140 + c1) / (100 ** 2 + 140 ** 2 + c1), 1e-12, 'flat');
  assert.throws(() => ssim(plane(10, 30, () => 0), plane(10, 30, () => 0)), /10x30 image is smaller than the 11x11 window/);
});

test('scoreY crops the border, uses gray levels for a grayscale HR, and checks sizes', () => {
  const w = 30, h = 24;
  const hrData = new Uint8Array(w * h * 3).map((_, i) => (i * 7919) % 251);
  const hr = rgbImage(w, h, hrData);
  const sr = rgbImage(w, h, hrData.map((v, i) => {
    const p = Math.floor(i / 3);
    const x = p % w, y = Math.floor(p / w);
    return x < 2 || y < 2 || x >= w - 2 || y >= h - 2 ? 255 - v : v; // wrong only inside the 2-pixel border
  }));
  assert.deepEqual(scoreY(sr, hr, 2), { psnr: Infinity, ssim: 1 });
  assert.ok(scoreY(sr, hr, 1).psnr < 30);

  // A grayscale pair off by 3 grey levels everywhere: MSE 9 on gray levels (on Y it would be 9·(219/255)²).
  const g = (v: number) => rgbImage(w, h, new Uint8Array(w * h * 3).map((_, i) => v + (Math.floor(i / 3) % 5)), true);
  close(scoreY(g(103), g(100), 2).psnr, 10 * Math.log10((255 * 255) / 9), 1e-9, 'gray PSNR');
  close(scoreY(rgbImage(w, h, g(103).data), rgbImage(w, h, g(100).data), 2).psnr, 10 * Math.log10((255 * 255) / (9 * (219 / 255) ** 2)), 1e-9, 'RGB PSNR');
  assert.throws(() => scoreY(rgbImage(4, 4), hr, 2), /SR output is 4x4 but HR is 30x24/);
});
