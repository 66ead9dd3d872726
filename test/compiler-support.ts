// Shared by the compiler tests: models with random weights that exercise every fold, and error measures.
import assert from 'node:assert/strict';
import { Tensor } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { parseArch } from '../src/models/registry.js';
import { Rng } from '../src/util/random.js';

/** The odd-width WDSR-B of the tests: widths that are multiples of neither 4 nor 8. */
export const WDSR_ODD = '{"arch":"wdsr-b","channels":5,"blocks":[{"m1":37,"m2":11},{"m1":7,"m2":3},{"m1":13,"m2":6}]}';

/** Random weights with every weight-norm gain moved off its initial value and every bias non-zero. */
export function randomModel(spec: string, scale: number, seed: number): Model {
  const m = Model.init(parseArch(spec, scale), seed);
  const rng = new Rng(seed + 1000);
  for (const [name, p] of m.params) {
    if (name.endsWith('.g')) p.data.forEach((g, i) => (p.data[i] = g * rng.uniform(0.5, 1.5)));
    if (name.endsWith('.b')) p.data.forEach((_, i) => (p.data[i] = rng.uniform(-0.2, 0.2)));
  }
  return m;
}

/** Model.forward on one HWC image. */
export const forward = (m: Model, x: Float32Array, h: number, w: number): Float32Array => m.forward(new Tensor(x, [1, h, w, 3])).data;

export function randomImage(rng: Rng, h: number, w: number): Float32Array {
  return rng.fill(new Float32Array(h * w * 3), () => rng.next());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return Number.isNaN(d) ? Infinity : d;
}
