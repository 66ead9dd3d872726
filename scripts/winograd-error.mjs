#!/usr/bin/env node
// How Winograd's F(2×2) and F(4×4) round against the direct conv: a 2×48×48 20→24 3×3 conv of values in
// [−1, 1] (weights in [−0.1, 0.1]) by each kernel, its largest error as a share of the largest output, against
// the same conv summed in float64. Build first (`npx tsc -p .`), then: node scripts/winograd-error.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCompiler } from '../dist/src/backends/native/index.js';
import { loadKernels } from '../dist/src/backends/native/compile.js';
import { convForward } from '../dist/src/backends/native/codegen-conv.js';
import { Rng } from '../dist/src/util/random.js';

const [N, H, W, CI, CO] = [2, 48, 48, 20, 24];
const tc = findCompiler();
if (!tc) throw new Error('no C compiler with OpenMP');
const g = { h: H, w: W, cin: CI, cout: CO, k: 3 };
const rng = new Rng(20261205);
const x = rng.fill(new Float32Array(N * H * W * CI), () => rng.uniform(-1, 1));
const w = rng.fill(new Float32Array(9 * CI * CO), () => rng.uniform(-0.1, 0.1));
const want = new Float64Array(N * H * W * CO);
for (let n = 0; n < N; n++)
  for (let y = 0; y < H; y++)
    for (let xx = 0; xx < W; xx++)
      for (let t = 0; t < 9; t++) {
        const [sy, sx] = [y + Math.floor(t / 3) - 1, xx + (t % 3) - 1];
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
        for (let i = 0; i < CI; i++) {
          const v = x[((n * H + sy) * W + sx) * CI + i];
          for (let o = 0; o < CO; o++) want[((n * H + y) * W + xx) * CO + o] += v * w[(t * CI + i) * CO + o];
        }
      }
const blockings = { direct: { packing: true, pixels: null }, 'F(2×2)': { packing: false, pixels: null, winograd: 2 }, 'F(4×4)': { packing: false, pixels: null, winograd: 4 } };
const dir = mkdtempSync(join(tmpdir(), 'rtsr-winograd-error-'));
const kernels = loadKernels(tc.target, Object.values(blockings).map((b, i) => convForward(`k${i}`, g, tc.target, false, b)), tc, dir);
Object.keys(blockings).forEach((name, i) => {
  const y = new Float32Array(want.length);
  kernels[i](x, w, null, y, null, N, 0);
  let [err, top] = [0, 0];
  for (let j = 0; j < y.length; j++) [err, top] = [Math.max(err, Math.abs(y[j] - want[j])), Math.max(top, Math.abs(want[j]))];
  console.log(`${name.padEnd(7)} largest error ${(err / top).toExponential(1)} of the largest output`);
});
rmSync(dir, { recursive: true, force: true });
