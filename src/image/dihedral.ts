// The 8 symmetries of the square on HWC images of any size, and their inverses: a self-ensemble runs a network
// on all 8 and averages its outputs mapped back (train/teacher.ts, eval/upscaler.ts). Bits of t: 0 flips
// horizontally, 1 vertically, 2 transposes after the flips.

/** HWC pixels, floats or bytes. */
export interface Grid<T extends Float32Array | Uint8Array> {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: T;
}

const like = <T extends Float32Array | Uint8Array>(data: T): T => (data instanceof Uint8Array ? new Uint8Array(data.length) : new Float32Array(data.length)) as T;

/** `img` flipped as t's bits 0 and 1 say, then transposed when bit 2 is set. */
export function dihedral<T extends Float32Array | Uint8Array>(img: Grid<T>, t: number): Grid<T> {
  const { width: w, height: h, channels: c, data } = img;
  const tr = (t & 4) !== 0;
  const [W, H] = tr ? [h, w] : [w, h];
  const out = like(data);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let [sy, sx] = tr ? [x, y] : [y, x];
      if (t & 1) sx = w - 1 - sx;
      if (t & 2) sy = h - 1 - sy;
      out.set(data.subarray((sy * w + sx) * c, (sy * w + sx + 1) * c), (y * W + x) * c);
    }
  }
  return { width: W, height: H, channels: c, data: out };
}

/** The image whose `dihedral(·, t)` is `img`: flips then a transpose are undone by the transpose then the same
 *  flips, which is the transpose after the flips with their axes swapped. */
export function undoDihedral<T extends Float32Array | Uint8Array>(img: Grid<T>, t: number): Grid<T> {
  return dihedral(img, t & 4 ? 4 | ((t & 1) << 1) | ((t & 2) >> 1) : t);
}

/** A self-ensemble: the mean of `f`'s output for `img` under each of the 8 symmetries, each mapped back. `f` must
 *  return its input `scale` times larger (an SR of it). */
export async function ensembleMean<T extends Float32Array | Uint8Array>(img: Grid<T>, scale: number, f: (moved: Grid<T>) => Promise<Grid<Float32Array | Uint8Array>>): Promise<Float32Array> {
  const sum = new Float32Array(img.data.length * scale * scale);
  for (let t = 0; t < 8; t++) {
    const back = undoDihedral(await f(dihedral(img, t)), t);
    for (let i = 0; i < sum.length; i++) sum[i] += back.data[i];
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= 8;
  return sum;
}
