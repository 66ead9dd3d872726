// Shared by the compiler tests: models with random weights that exercise every fold, and error measures.
import assert from 'node:assert/strict';
import { Tensor } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { Rng } from '../src/util/random.js';
import { randomModel } from './support/random-model.js';
export { randomModel };

/** The odd-width WDSR-B of the tests: widths that are multiples of neither 4 nor 8. */
export const WDSR_ODD = '{"arch":"wdsr-b","channels":5,"blocks":[{"m1":37,"m2":11},{"m1":7,"m2":3},{"m1":13,"m2":6}]}';


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

/** Asserts that `got` differs from `want` only by one, where `values` (bytes, unrounded) lie within `band` of
 *  a tie; returns the number of equal bytes. */
export function tieRule(got: Uint8Array, want: Uint8Array, values: Float32Array, band: number, what: string): number {
  let equal = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) equal++;
    else {
      const v = values[i] * 255;
      assert.ok(Math.abs(got[i] - want[i]) === 1 && Math.abs(v - Math.floor(v) - 0.5) <= band, `${what}: byte ${i} is ${got[i]}, expected ${want[i]} (value ${v})`);
    }
  }
  return equal;
}
