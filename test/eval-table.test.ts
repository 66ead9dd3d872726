// The acceptance test of the evaluation protocol: `bicubic` must reproduce the bicubic baseline that SR papers
// publish (SRCNN/VDSR tables) on all four benchmark sets at x2, x3 and x4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluate } from '../src/eval/evaluate.js';
import { resolveModel } from '../src/eval/models.js';

// Beside the repository: <repo>/../shared/datasets (this file runs as <repo>/dist/test/*.js).
const DATASETS = fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));

/** Published PSNR (dB) / SSIM of bicubic upscaling. */
const PUBLISHED: Record<number, Record<string, [number, number]>> = {
  2: { Set5: [33.66, 0.9299], Set14: [30.24, 0.8688], B100: [29.56, 0.8431], Urban100: [26.88, 0.8403] },
  3: { Set5: [30.39, 0.8682], Set14: [27.55, 0.7742], B100: [27.21, 0.7385], Urban100: [24.46, 0.7349] },
  4: { Set5: [28.42, 0.8104], Set14: [26.0, 0.7027], B100: [25.96, 0.6675], Urban100: [23.14, 0.6577] },
};

// Our B100 images are one row/column short of the original 481x321, which moves PSNR a little.
const PSNR_TOLERANCE: Record<string, number> = { Set5: 0.02, Set14: 0.02, B100: 0.05, Urban100: 0.02 };
const SSIM_TOLERANCE = 0.002;
const IMAGES: Record<string, number> = { Set5: 5, Set14: 14, B100: 100, Urban100: 100 };

for (const scale of [2, 3, 4]) {
  test(`bicubic x${scale} reproduces the published table`, { skip: !existsSync(DATASETS) && `no datasets at ${DATASETS}` }, async (t) => {
    const sets = Object.keys(PUBLISHED[scale]);
    const result = await evaluate(await resolveModel('bicubic', scale), DATASETS, sets);
    const lines: string[] = [];
    const failures: string[] = [];
    for (const set of sets) {
      const [psnr, ssim] = PUBLISHED[scale][set];
      const got = result.sets[set];
      lines.push(`${set} ${got.psnr.toFixed(3)}/${got.ssim.toFixed(4)} (published ${psnr}/${ssim})`);
      if (got.images !== IMAGES[set]) failures.push(`${set}: ${got.images} images, expected ${IMAGES[set]}`);
      if (!(Math.abs(got.psnr - psnr) <= PSNR_TOLERANCE[set])) failures.push(`${set} PSNR ${got.psnr.toFixed(3)} vs ${psnr}`);
      if (!(Math.abs(got.ssim - ssim) <= SSIM_TOLERANCE)) failures.push(`${set} SSIM ${got.ssim.toFixed(4)} vs ${ssim}`);
    }
    t.diagnostic(`x${scale}: ${lines.join('; ')}`);
    assert.deepEqual(failures, []);
  });
}
