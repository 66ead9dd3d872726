// IEEE 754 binary16 from f32 values, rounded to nearest even as a GPU's f32 → f16 conversion rounds: the WebGPU
// target uploads f16 weights with it (Node 20 has no Float16Array or Math.f16round).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits of `v` (rounded to f32 first): NaN stays NaN, overflow becomes infinity. */
export function halfBits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebiased: 127 − 15
  if (e >= 0x1f) return sign | 0x7c00;
  // Normal halves drop 13 mantissa bits; subnormal ones (e ≤ 0) shift the implicit bit in and drop 1 − e more.
  // A carry out of the mantissa moves to the next binade (or infinity), which is the right rounding.
  const [m, shift] = e > 0 ? [mant, 13] : [mant | 0x800000, 14 - e];
  if (shift > 24) return sign;
  const kept = (e > 0 ? e << 10 : 0) | (m >>> shift);
  const rest = m & ((1 << shift) - 1);
  const mid = 1 << (shift - 1);
  return sign | (kept + (rest > mid || (rest === mid && kept & 1) ? 1 : 0));
}

/** `v` as binary16 words, padded to a whole number of 32-bit words (GPU buffer writes are in whole words). */
export function toHalves(v: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(v.length + (v.length & 1));
  for (let i = 0; i < v.length; i++) out[i] = halfBits(v[i]);
  return out;
}
