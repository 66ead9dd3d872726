// The reference backend: plain loops written to be read, not to be fast. It is the oracle every other backend
// is tested against, so each kernel follows its definition in backend.ts as literally as possible.
import type { AdamParams, Backend, BinaryKind, ConvShape, UnaryKind } from './backend.js';

const UNARY: Record<UnaryKind, (x: number) => number> = {
  relu: (x) => (x > 0 ? x : 0),
  sign: (x) => Math.sign(x),
  neg: (x) => -x,
};

const BINARY: Record<BinaryKind, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  reluGrad: (a, b) => (b > 0 ? a : 0),
};

function conv2d(x: Float32Array, w: Float32Array, b: Float32Array | null, s: ConvShape, relu: boolean, add: Float32Array | null = null): Float32Array {
  const { n, h, w: wd, cin, cout, k } = s;
  const p = (k - 1) >> 1;
  const y = new Float32Array(n * h * wd * cout);
  for (let b0 = 0; b0 < n; b0++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < wd; xx++)
        for (let o = 0; o < cout; o++) {
          let acc = b ? b[o] : 0;
          for (let dy = 0; dy < k; dy++) {
            const iy = yy + dy - p;
            if (iy < 0 || iy >= h) continue;
            for (let dx = 0; dx < k; dx++) {
              const ix = xx + dx - p;
              if (ix < 0 || ix >= wd) continue;
              for (let i = 0; i < cin; i++)
                acc += x[((b0 * h + iy) * wd + ix) * cin + i] * w[((dy * k + dx) * cin + i) * cout + o];
            }
          }
          const at = ((b0 * h + yy) * wd + xx) * cout + o;
          y[at] = (relu && acc < 0 ? 0 : acc) + (add ? add[at] : 0);
        }
  return y;
}

/** Calls `f` for every (output pixel, tap) pair of a same-padded k×k conv whose input pixel lies in the image,
 *  with the output pixel's and the input pixel's flat indices (pixels, not values) and the tap's. */
function forEachTap(s: ConvShape, f: (out: number, inp: number, tap: number) => void): void {
  const { n, h, w: wd, k } = s;
  const p = (k - 1) >> 1;
  for (let b0 = 0; b0 < n; b0++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < wd; xx++)
        for (let ky = 0; ky < k; ky++) {
          const iy = yy + ky - p;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = xx + kx - p;
            if (ix >= 0 && ix < wd) f((b0 * h + yy) * wd + xx, (b0 * h + iy) * wd + ix, ky * k + kx);
          }
        }
}

function conv2dGradInput(dy: Float32Array, w: Float32Array, s: ConvShape): Float32Array {
  const { n, h, w: wd, cin, cout } = s;
  const dx = new Float32Array(n * h * wd * cin);
  // Scatter form of the forward sum: every (output pixel, tap) pair sends its gradient back to one input pixel.
  forEachTap(s, (out, inp, tap) => {
    for (let i = 0; i < cin; i++) {
      let acc = 0;
      for (let o = 0; o < cout; o++) acc += dy[out * cout + o] * w[(tap * cin + i) * cout + o];
      dx[inp * cin + i] += acc;
    }
  });
  return dx;
}

function conv2dGradWeight(x: Float32Array, dy: Float32Array, s: ConvShape): Float32Array {
  const { cin, cout, k } = s;
  const dw = new Float64Array(k * k * cin * cout);
  forEachTap(s, (out, inp, tap) => {
    for (let i = 0; i < cin; i++) {
      const xv = x[inp * cin + i];
      for (let o = 0; o < cout; o++) dw[(tap * cin + i) * cout + o] += xv * dy[out * cout + o];
    }
  });
  return Float32Array.from(dw);
}

/** Index of element (n, y, x, ch) in an NHWC tensor of height h, width w and c channels. */
const at = (n: number, y: number, x: number, ch: number, h: number, w: number, c: number) => ((n * h + y) * w + x) * c + ch;

function pixelShuffle(x: Float32Array, n: number, h: number, w: number, c: number, s: number, inverse: boolean): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++)
          for (let i = 0; i < s; i++)
            for (let j = 0; j < s; j++) {
              const deep = at(b, y, xx, (ch * s + i) * s + j, h, w, c * s * s);
              const wide = at(b, y * s + i, xx * s + j, ch, h * s, w * s, c);
              if (inverse) out[deep] = x[wide];
              else out[wide] = x[deep];
            }
  return out;
}

export const referenceBackend: Backend = {
  name: 'reference',
  conv2d,
  conv2dGradInput,
  conv2dGradWeight,
  unary: (kind, x) => x.map(UNARY[kind]),
  binary(kind, a, b) {
    const f = BINARY[kind];
    return a.map((v, i) => f(v, b[i]));
  },
  threshold: (x, t) => x.map((v) => (v >= t ? 1 : 0)),
  affine: (x, a, b) => x.map((v) => a * v + b),
  mulChannels: (x, g, c) => x.map((v, i) => v * g[i % c]),
  channelSum(a, b, c) {
    const out = new Float64Array(c);
    for (let i = 0; i < a.length; i++) out[i % c] += b ? a[i] * b[i] : a[i];
    return Float32Array.from(out);
  },
  depthToSpace: (x, n, h, w, c, s) => pixelShuffle(x, n, h, w, c, s, false),
  spaceToDepth: (x, n, h, w, c, s) => pixelShuffle(x, n, h, w, c, s, true),
  sum(x) {
    let acc = 0;
    for (const v of x) acc += v;
    return acc;
  },
  distance(a, b, p) {
    let acc = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      acc += p === 1 ? Math.abs(d) : d * d;
    }
    return acc;
  },
  accumulate(acc, x) {
    for (let i = 0; i < acc.length; i++) acc[i] += x[i];
  },
  adamStep(param, grad, m, v, p: AdamParams) {
    const c1 = 1 - p.beta1 ** p.step;
    const c2 = 1 - p.beta2 ** p.step;
    for (let i = 0; i < param.length; i++) {
      m[i] = p.beta1 * m[i] + (1 - p.beta1) * grad[i];
      v[i] = p.beta2 * v[i] + (1 - p.beta2) * grad[i] * grad[i];
      param[i] -= p.lr * (m[i] / c1 / (Math.sqrt(v[i] / c2) + p.eps) + p.weightDecay * param[i]);
    }
  },
};
