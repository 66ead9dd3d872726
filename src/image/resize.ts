// MATLAB-compatible bicubic `imresize`: every published SR table uses LR images made by MATLAB, so our resize
// reproduces its arithmetic (Keys a = −0.5, kernel stretched by 1/s when shrinking, per-pixel normalised
// weights, one dimension at a time, uint8 rounding after each pass) rather than a "nicer" one.
//
// Edges: MATLAB's imresize.m clamped out-of-range indices ("replicating end-points") until newer releases
// switched to mirroring ("symmetric padding"). The benchmark LR images (SelfExSR's Set5/Set14/B100/Urban100)
// and the published bicubic tables come from the clamping versions: with 'replicate' we match all 357 of those
// LR files bit for bit, with 'symmetric' only to ~65 dB (the edge pixels differ). Hence 'replicate' by default.
import { clampByte, rgbImage, type FloatImage, type RgbImage } from './image.js';

/** Keys' cubic convolution kernel with a = −0.5 (MATLAB's `cubic`), support (−2, 2). */
export function cubic(x: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
  if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
  return 0;
}

/** Per-output-pixel weights and source indices along one dimension (row-major `[outLength, taps]`). */
export interface Contributions {
  readonly inLength: number;
  readonly outLength: number;
  readonly taps: number;
  readonly weights: Float64Array;
  /** 0-based source indices, already folded into [0, inLength) per the edge mode. */
  readonly indices: Int32Array;
}

/** How indices outside [0, length) are folded back: older MATLAB's clamping, or newer MATLAB's mirroring. */
export type EdgeMode = 'replicate' | 'symmetric';

/** MATLAB's `contributions()`: same expressions in the same order, so the doubles come out identical. */
export function contributions(inLength: number, outLength: number, scale: number, edge: EdgeMode = 'replicate'): Contributions {
  const antialias = scale < 1;
  const kernelWidth = antialias ? 4 / scale : 4;
  const span = Math.ceil(kernelWidth) + 2;
  const w = new Float64Array(outLength * span);
  const ind = new Int32Array(outLength * span);
  for (let x = 1; x <= outLength; x++) {
    // Output pixel x (1-based) maps to input coordinate u; pixel centres line up at both ends.
    const u = x / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - kernelWidth / 2);
    const row = (x - 1) * span;
    let sum = 0;
    for (let j = 0; j < span; j++) {
      const d = u - (left + j);
      const v = antialias ? scale * cubic(scale * d) : cubic(d);
      w[row + j] = v;
      sum += v;
    }
    for (let j = 0; j < span; j++) {
      w[row + j] /= sum;
      const i = left + j - 1; // 0-based
      ind[row + j] = edge === 'replicate' ? Math.min(Math.max(i, 0), inLength - 1) : mirror(i, inLength);
    }
  }
  // MATLAB drops the tap columns that are zero for every output pixel; doing the same keeps the loops short.
  let first = span;
  let last = -1;
  for (let i = 0; i < w.length; i++) {
    if (w[i] !== 0) {
      first = Math.min(first, i % span);
      last = Math.max(last, i % span);
    }
  }
  const taps = last - first + 1;
  const weights = new Float64Array(outLength * taps);
  const indices = new Int32Array(outLength * taps);
  for (let o = 0; o < outLength; o++) {
    weights.set(w.subarray(o * span + first, o * span + last + 1), o * taps);
    indices.set(ind.subarray(o * span + first, o * span + last + 1), o * taps);
  }
  return { inLength, outLength, taps, weights, indices };
}

/** Symmetric padding of a 0-based index: …, 1, 0 | 0, 1, …, n−1 | n−1, n−2, … (MATLAB's `aux` table). */
function mirror(i: number, n: number): number {
  const k = ((i % (2 * n)) + 2 * n) % (2 * n);
  return k < n ? k : 2 * n - 1 - k;
}

/** A scale factor (MATLAB `imresize(A, factor)`: output size ceil(factor·size), weights from the factor itself),
 *  or an explicit output size (weights from output/input). */
export type ResizeTarget = number | { readonly width: number; readonly height: number };

type Pixels = Uint8Array | Float32Array;

interface Plan {
  readonly rows: Contributions;
  readonly cols: Contributions;
  readonly rowsFirst: boolean;
}

function plan(width: number, height: number, target: ResizeTarget, edge: EdgeMode): Plan {
  let outW: number, outH: number, scaleW: number, scaleH: number;
  if (typeof target === 'number') {
    if (!(target > 0) || !Number.isFinite(target)) throw new Error(`resize factor must be a positive number, got ${target}`);
    // The epsilon keeps e.g. 300·(1/3) = 100.00000000000001 from becoming 101.
    outW = Math.max(1, Math.ceil(width * target - 1e-9));
    outH = Math.max(1, Math.ceil(height * target - 1e-9));
    scaleW = scaleH = target;
  } else {
    outW = target.width;
    outH = target.height;
    if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW <= 0 || outH <= 0) {
      throw new Error(`resize target must be a positive integer size, got ${outW}x${outH}`);
    }
    scaleW = outW / width;
    scaleH = outH / height;
  }
  return {
    rows: contributions(height, outH, scaleH, edge),
    cols: contributions(width, outW, scaleW, edge),
    // MATLAB resizes the dimension with the smaller scale first (stable sort: rows first on a tie).
    rowsFirst: scaleH <= scaleW,
  };
}

/** Bicubic resize of an 8-bit RGB image; rounds to uint8 after each dimension's pass, as MATLAB does. */
export function resizeImage(img: RgbImage, target: ResizeTarget, edge: EdgeMode = 'replicate'): RgbImage {
  const p = plan(img.width, img.height, target, edge);
  return rgbImage(p.cols.outLength, p.rows.outLength, run(img.data, img.width, img.height, 3, p, true) as Uint8Array, img.gray);
}

/** Bicubic resize of a float image without any rounding (model outputs, training targets). */
export function resizeFloat(img: FloatImage, target: ResizeTarget, edge: EdgeMode = 'replicate'): FloatImage {
  const p = plan(img.width, img.height, target, edge);
  const data = run(img.data, img.width, img.height, img.channels, p, false) as Float32Array;
  return { width: p.cols.outLength, height: p.rows.outLength, channels: img.channels, data };
}

function run(src: Pixels, width: number, height: number, channels: number, p: Plan, round: boolean): Pixels {
  if (src.length !== width * height * channels) {
    throw new Error(`resize: data of length ${src.length} does not match ${width}x${height}x${channels}`);
  }
  if (p.rowsFirst) {
    const mid = alongRows(src, width, channels, p.rows, round);
    return alongCols(mid, p.rows.outLength, channels, p.cols, round);
  }
  const mid = alongCols(src, height, channels, p.cols, round);
  return alongRows(mid, p.cols.outLength, channels, p.rows, round);
}

function alloc(length: number, round: boolean): Pixels {
  return round ? new Uint8Array(length) : new Float32Array(length);
}

/** Resizes the height: each output row is a weighted sum of whole input rows (contiguous, cache friendly). */
function alongRows(src: Pixels, width: number, channels: number, t: Contributions, round: boolean): Pixels {
  const rowLen = width * channels;
  const dst = alloc(t.outLength * rowLen, round);
  const acc = new Float64Array(rowLen);
  for (let o = 0; o < t.outLength; o++) {
    acc.fill(0);
    for (let j = o * t.taps, end = j + t.taps; j < end; j++) {
      const wt = t.weights[j];
      const base = t.indices[j] * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += wt * src[base + i];
    }
    store(dst, o * rowLen, acc, round);
  }
  return dst;
}

/** Resizes the width, one row at a time. */
function alongCols(src: Pixels, height: number, channels: number, t: Contributions, round: boolean): Pixels {
  const inRow = t.inLength * channels;
  const outRow = t.outLength * channels;
  const dst = alloc(height * outRow, round);
  const acc = new Float64Array(outRow);
  for (let y = 0; y < height; y++) {
    const base = y * inRow;
    acc.fill(0);
    for (let o = 0; o < t.outLength; o++) {
      for (let j = o * t.taps, end = j + t.taps; j < end; j++) {
        const wt = t.weights[j];
        const s = base + t.indices[j] * channels;
        for (let c = 0; c < channels; c++) acc[o * channels + c] += wt * src[s + c];
      }
    }
    store(dst, y * outRow, acc, round);
  }
  return dst;
}

function store(dst: Pixels, offset: number, acc: Float64Array, round: boolean): void {
  if (round) {
    for (let i = 0; i < acc.length; i++) dst[offset + i] = clampByte(acc[i]);
  } else {
    dst.set(acc, offset);
  }
}
