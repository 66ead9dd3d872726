// binary16 conversion (util/half.ts) against an independent decoder: every finite half comes back to its own
// bits, every midpoint between neighbours rounds to the even one (and an f32 ulp to either side to the nearer),
// overflow goes to infinity and NaN stays NaN.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { halfBits, toHalves } from '../src/util/half.js';

/** The value of binary16 bits, decoded from the format's definition. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15));
}

/** The f32 next to `v` (positive, finite) in direction `dir`. */
function nextF32(v: number, dir: 1 | -1): number {
  const u = new Uint32Array(new Float32Array([v]).buffer);
  u[0] += dir;
  return new Float32Array(u.buffer)[0];
}

test('halfBits: every finite half round-trips; midpoints round to even, their f32 neighbours to the nearer half', () => {
  for (let h = 0; h < 0x10000; h++) {
    const v = halfValue(h);
    if (Number.isNaN(v)) continue;
    assert.equal(halfBits(v), h, `0x${h.toString(16)} (${v})`);
  }
  for (let h = 0; h < 0x7bff; h++) {
    const [lo, hi] = [halfValue(h), halfValue(h + 1)];
    const mid = (lo + hi) / 2; // 11 significant bits: exact in f32
    assert.equal(halfBits(mid), h & 1 ? h + 1 : h, `midpoint of 0x${h.toString(16)} and its neighbour`);
    if (mid > 0) {
      assert.equal(halfBits(nextF32(mid, -1)), h, `just below the midpoint above 0x${h.toString(16)}`);
      assert.equal(halfBits(nextF32(mid, 1)), h + 1, `just above the midpoint above 0x${h.toString(16)}`);
    }
  }
});

test('halfBits: overflow, the smallest magnitudes, NaN and signs', () => {
  assert.equal(halfBits(65504), 0x7bff);
  assert.equal(halfBits(65519.99), 0x7bff);
  assert.equal(halfBits(65520), 0x7c00, 'the midpoint to 2^16 rounds to even: infinity');
  assert.equal(halfBits(1e9), 0x7c00);
  assert.equal(halfBits(-Infinity), 0xfc00);
  assert.equal(halfBits(2 ** -24), 0x0001);
  assert.equal(halfBits(2 ** -25), 0x0000, 'half the smallest subnormal ties to zero (even)');
  assert.equal(halfBits(1.5 * 2 ** -25), 0x0001);
  assert.equal(halfBits(2 ** -30), 0x0000);
  assert.equal(halfBits(-0), 0x8000);
  assert.equal(halfBits(-2), 0xc000);
  assert.equal(halfBits(0.1), 0x2e66);
  assert.equal(halfBits(NaN) & 0x7e00, 0x7e00);
  assert.deepEqual([...toHalves([1, -2, 0.5])], [0x3c00, 0xc000, 0x3800, 0], 'padded to whole 32-bit words');
});
