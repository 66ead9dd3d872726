// Synthetic training data for loop tests: learnable, deterministic per step, and cheap.
import { Tensor } from '../../src/engine/tensor.js';
import type { BatchSource } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/random.js';

/** LR patches of smooth random colour ramps; HR is their nearest-neighbour ×2 upscale, a learnable target. */
export function synthetic(n: number, p: number, poison?: number): BatchSource {
  return {
    batch(step) {
      const rng = new Rng(1000 + step);
      const lr = new Float32Array(n * p * p * 3);
      const hr = new Float32Array(n * 4 * p * p * 3);
      for (let b = 0; b < n; b++) {
        const a = [0, 1, 2].map(() => [rng.next(), rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)]);
        for (let y = 0; y < 2 * p; y++)
          for (let x = 0; x < 2 * p; x++)
            for (let c = 0; c < 3; c++) {
              const v = a[c][0] + a[c][1] * (x >> 1) + a[c][2] * (y >> 1);
              hr[((b * 2 * p + y) * 2 * p + x) * 3 + c] = v;
              if (y % 2 === 0 && x % 2 === 0) lr[((b * p + y / 2) * p + x / 2) * 3 + c] = v;
            }
      }
      if (step === poison) hr[0] = NaN;
      return { lr: new Tensor(lr, [n, p, p, 3]), hr: new Tensor(hr, [n, 2 * p, 2 * p, 3]) };
    },
  };
}
