// The stand-in runner: each part runs unfused through the engine's ops (one kernel per conv, a separate add,
// fresh output tensors), on whichever backend it is given. Weights and inputs are views of shared random
// pools: their values do not change the time, and an input for every C in 1..32 at 640×360 would take ~0.5 GB.
import { findCompiler, type KernelSpec, type NativeBackend, ompThreads } from '../backends/native/index.js';
import * as ops from '../engine/ops.js';
import { Tensor, useBackend } from '../engine/tensor.js';
import { Rng } from '../util/random.js';
import type { BlockRunner, Part, RunnerOptions } from './runner.js';

interface Conv {
  k: number;
  cin: number;
  cout: number;
}

/** The convolutions a part runs (its KernelSpecs for the batch compile). */
function partConvs(p: Part, scale: number): Conv[] {
  const out = 3 * scale * scale;
  const head: Conv = { k: 3, cin: 3, cout: p.c };
  const tail: Conv[] = [{ k: 3, cin: p.c, cout: out }, { k: 5, cin: 3, cout: out }];
  const block = (m1: number, m2: number): Conv[] => [{ k: 1, cin: p.c, cout: m1 }, { k: 1, cin: m1, cout: m2 }, { k: 3, cin: m2, cout: p.c }];
  switch (p.kind) {
    case 'head':
      return [head];
    case 'tail':
      return tail;
    case 'block':
      return block(p.m1, p.m2);
    case 'model':
      return [head, ...p.blocks.flatMap((b) => block(b.m1, b.m2)), ...tail];
  }
}

/** Views of one growing array of random values: any number of tensors of any size, one allocation. */
function randomPool(seed: number, lo: number, hi: number): (n: number) => Float32Array {
  const rng = new Rng(seed);
  let pool: Float32Array = new Float32Array(0);
  return (n) => {
    if (n > pool.length) pool = rng.fill(new Float32Array(Math.max(n, 2 * pool.length)), () => rng.uniform(lo, hi));
    return pool.subarray(0, n);
  };
}

export function createEngineRunner({ backend, scale, h, w }: RunnerOptions): BlockRunner {
  const native = backend.name === 'native' ? (backend as NativeBackend) : null;
  const info = {
    runner: 'engine-unfused',
    backend: backend.name,
    compiler: native ? (findCompiler()?.version ?? 'unknown') : 'none (JavaScript reference kernels)',
    threads: native ? ompThreads() : 1,
  };
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
    prepare(parts) {
      if (!native) return;
      const specs: KernelSpec[] = parts.flatMap((p) => partConvs(p, scale).map((c): KernelSpec => ({ op: 'conv', shape: { h, w, ...c } })));
      native.precompile([...specs, { op: 'shuffle', c: 3, s: scale }]);
    },
    run(p) {
      useBackend(backend);
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
