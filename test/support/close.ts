// The float comparison of backend tests: max|got − want| / max(1, max|want|) over a whole array, so one
// tolerance fits values near 0 and large sums alike.
import assert from 'node:assert/strict';

export function relErr(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

export function close(got: Float32Array, want: Float32Array, what: string, tol = 1e-4): void {
  const e = relErr(got, want);
  assert.ok(e <= tol, `${what}: relative error ${e} > ${tol}`);
}
