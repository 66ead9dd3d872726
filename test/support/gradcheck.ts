// Central finite differences on the reference backend: the independent oracle for every op's gradient.
import assert from 'node:assert/strict';
import { Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/random.js';

export function randTensor(rng: Rng, shape: number[], requiresGrad = true, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(rng.fill(new Float32Array(n), () => rng.uniform(lo, hi)), shape, requiresGrad);
}

/**
 * Checks d(Σ f(inputs)·R)/d(input) against central differences for a random projection R, at up to `probes`
 * coordinates of every input that requires a gradient. The projection is summed in float64 so the only float32
 * rounding is inside f itself.
 */
export function checkGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { h?: number; tol?: number; probes?: number; seed?: number } = {}): void {
  const h = opts.h ?? 1e-2;
  const tol = opts.tol ?? 2e-3;
  const rng = new Rng(opts.seed ?? 7);
  const out0 = f(...inputs);
  const proj = rng.fill(new Float32Array(out0.size), () => rng.uniform(-1, 1));
  const objective = () => {
    const y = f(...inputs).data;
    let acc = 0;
    for (let i = 0; i < y.length; i++) acc += y[i] * proj[i];
    return acc;
  };
  for (const x of inputs) x.grad = null;
  out0.backward(out0.size === 1 && out0.shape.length === 0 ? new Float32Array([proj[0]]) : proj);
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    assert.ok(x.grad, `input ${xi} got no gradient`);
    const probes = Math.min(opts.probes ?? 24, x.size);
    for (let p = 0; p < probes; p++) {
      const i = probes === x.size ? p : rng.int(x.size);
      const orig = x.data[i];
      x.data[i] = orig + h;
      const up = objective();
      x.data[i] = orig - h;
      const down = objective();
      x.data[i] = orig;
      const numeric = (up - down) / (2 * h);
      const analytic = x.grad![i];
      const err = Math.abs(numeric - analytic) / Math.max(1, Math.abs(numeric));
      assert.ok(err <= tol, `input ${xi} [${x.shape}] element ${i}: analytic ${analytic}, finite difference ${numeric} (error ${err.toExponential(2)} > ${tol})`);
    }
  });
}
