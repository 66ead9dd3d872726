// The stand-in runner of a target without compiled stages (reference): each part runs unfused through the
// engine's ops on the reference kernels (one kernel per conv, a separate add, fresh output tensors). Weights and
// inputs are views of shared random pools: their values do not change the time, and an input for every C in
// 1..32 at 640×360 would take ~0.5 GB.
import { referenceBackend } from '../backends/reference.js';
import * as ops from '../engine/ops.js';
import { Tensor, useBackend } from '../engine/tensor.js';
import { Rng } from '../util/random.js';
import type { BlockRunner, Part, RunnerOptions } from './runner.js';

/** Views of one growing array of random values: any number of tensors of any size, one allocation. */
function randomPool(seed: number, lo: number, hi: number): (n: number) => Float32Array {
  const rng = new Rng(seed);
  let pool: Float32Array = new Float32Array(0);
  return (n) => {
    if (n > pool.length) pool = rng.fill(new Float32Array(Math.max(n, 2 * pool.length)), () => rng.uniform(lo, hi));
    return pool.subarray(0, n);
  };
}

export function createEngineRunner({ target, scale, h, w }: RunnerOptions): BlockRunner {
  const info = { runner: 'engine-unfused', target: target.name, compiler: 'none (JavaScript reference kernels)', threads: 1 };
  const activations = randomPool(1, 0, 1);
  // Small weights keep activations in range through a residual stack (no overflow, no denormals).
  const weights = randomPool(2, -0.05, 0.05);
  const image = (c: number) => new Tensor(activations(h * w * c), [1, h, w, c]);
  const conv = (x: Tensor, k: number, cout: number, relu = false) => {
    const cin = x.shape[3];
    return ops.conv2d(x, new Tensor(weights(k * k * cin * cout), [k, k, cin, cout]), new Tensor(weights(cout), [cout]), { relu });
  };
  // The tail reads the shifted input that the head computed; made on first use (a warm-up run).
  let shifted: Tensor | null = null;

  const head = (xs: Tensor, c: number) => conv(xs, 3, c);
  const block = (x: Tensor, m1: number, m2: number) => ops.add(x, conv(conv(conv(x, 1, m1, true), 1, m2), 3, x.shape[3]));
  const tail = (x: Tensor, xs: Tensor) => {
    const out = 3 * scale * scale;
    return ops.affine(ops.depthToSpace(ops.add(conv(x, 3, out), conv(xs, 5, out)), scale), 1, 0.5);
  };

  return {
    info,
    prepare: async () => undefined,
    async run(p) {
      useBackend(referenceBackend);
      switch (p.kind) {
        case 'head':
          head(ops.affine(image(3), 1, -0.5), p.c);
          return;
        case 'tail':
          shifted ??= ops.affine(image(3), 1, -0.5);
          tail(image(p.c), shifted);
          return;
        case 'block':
          block(image(p.c), p.m1, p.m2);
          return;
        case 'model': {
          const xs = ops.affine(image(3), 1, -0.5);
          tail(p.blocks.reduce((x, b) => block(x, b.m1, b.m2), head(xs, p.c)), xs);
          return;
        }
      }
    },
  };
}
