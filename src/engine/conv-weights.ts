// Differentiable algebra on conv weights (HWIO), for training branches (models/reparam.ts) folded into the
// conv they belong to before the conv runs: bias-free linear convs compose and add exactly, so one conv with
// the folded weight computes what the conv and its branches compute, and a step pays for one conv, not for
// every branch at full resolution. The compiler folds the same way for deployment (compiler/reparam.ts), in
// float64 on plain arrays; these ops do it with gradients. Weights are small: plain loops, float64 sums.
import { Tensor } from './tensor.js';

function fail(op: string, msg: string, ...ts: Tensor[]): never {
  throw new Error(`${op}: ${msg} (${ts.map((t) => `[${t.shape.join(',')}]`).join(', ')})`);
}

/** The composed weight on plain arrays (HWIO, one of ka, kb 1): w[t,i,o] = Σ_m a[t,i,m]·b[t,m,o], the 1×1
 *  one's single tap at every t, summed in float64 and rounded once. The compiler's fold pass uses it too. */
export function composedWeight(a: Float32Array, ka: number, b: Float32Array, kb: number, cin: number, m: number, cout: number): Float32Array {
  const k = Math.max(ka, kb);
  const w = new Float32Array(k * k * cin * cout);
  const acc = new Float64Array(cout);
  for (let t = 0; t < k * k; t++) {
    const wa = (ka === 1 ? 0 : t) * cin * m;
    const wb = (kb === 1 ? 0 : t) * m * cout;
    for (let i = 0; i < cin; i++) {
      acc.fill(0);
      for (let j = 0; j < m; j++) {
        const aij = a[wa + i * m + j];
        for (let o = 0; o < cout; o++) acc[o] += aij * b[wb + j * cout + o];
      }
      w.set(acc, (t * cin + i) * cout);
    }
  }
  return w;
}

const isConvWeight = (t: Tensor) => t.shape.length === 4 && t.shape[0] === t.shape[1] && t.shape[0] % 2 === 1;

/**
 * The weight of conv b applied to conv a's output, both bias-free, one of them 1×1: w[t,i,o] = Σ_m a[t,i,m]·b[t,m,o],
 * with the 1×1 one's single tap at every t. Exact at the zero-padded border too: a bias-free 1×1 maps zeros to zeros.
 */
export function composeConvWeights(a: Tensor, b: Tensor): Tensor {
  if (!isConvWeight(a) || !isConvWeight(b)) fail('composeConvWeights', 'weights must be [k,k,cin,cout] with k odd', a, b);
  const [ka, , cin, m] = a.shape;
  const [kb, , bm, cout] = b.shape;
  if (bm !== m) fail('composeConvWeights', `a has ${m} outputs, b ${bm} inputs`, a, b);
  if (ka > 1 && kb > 1) fail('composeConvWeights', 'one of the two must be 1×1', a, b);
  const k = Math.max(ka, kb);
  const taps = k * k;
  const at = (kk: number, t: number) => (kk === 1 ? 0 : t);
  const w = composedWeight(a.data, ka, b.data, kb, cin, m, cout);
  return Tensor.fromOp(w, [k, k, cin, cout], [a, b], (g) => {
    // da[t,i,j] = Σ_o g[t,i,o]·b[t,j,o] and db[t,j,o] = Σ_i a[t,i,j]·g[t,i,o], summed over the taps the 1×1 serves.
    const da = new Float64Array(a.size);
    const db = new Float64Array(b.size);
    for (let t = 0; t < taps; t++) {
      const wa = at(ka, t) * cin * m;
      const wb = at(kb, t) * m * cout;
      for (let i = 0; i < cin; i++) {
        const gi = (t * cin + i) * cout;
        for (let j = 0; j < m; j++) {
          const aij = a.data[wa + i * m + j];
          let s = 0;
          for (let o = 0; o < cout; o++) {
            s += g[gi + o] * b.data[wb + j * cout + o];
            db[wb + j * cout + o] += aij * g[gi + o];
          }
          da[wa + i * m + j] += s;
        }
      }
    }
    return [a.requiresGrad ? Float32Array.from(da) : null, b.requiresGrad ? Float32Array.from(db) : null];
  });
}

/** A [k',k',cin,cout] weight centred in a k×k one (zeros around it): the same conv where both read the same
 *  zero-padded input. */
export function centreTaps(w: Tensor, k: number): Tensor {
  if (!isConvWeight(w) || w.shape[0] > k || k % 2 !== 1) fail('centreTaps', `cannot centre this weight in a ${k}×${k} one`, w);
  const [kw, , cin, cout] = w.shape;
  if (kw === k) return w;
  const off = (k - kw) / 2;
  const plane = cin * cout;
  const to = (ty: number, tx: number) => ((ty + off) * k + tx + off) * plane;
  const out = new Float32Array(k * k * plane);
  for (let ty = 0; ty < kw; ty++) for (let tx = 0; tx < kw; tx++) out.set(w.data.subarray((ty * kw + tx) * plane, (ty * kw + tx + 1) * plane), to(ty, tx));
  return Tensor.fromOp(out, [k, k, cin, cout], [w], (g) => {
    const dw = new Float32Array(w.size);
    for (let ty = 0; ty < kw; ty++) for (let tx = 0; tx < kw; tx++) dw.set(g.subarray(to(ty, tx), to(ty, tx) + plane), (ty * kw + tx) * plane);
    return [dw];
  });
}

/** The k×k identity conv on c channels: 1 on the centre tap's diagonal (a constant). */
export function identityWeight(k: number, c: number): Tensor {
  const w = Tensor.zeros([k, k, c, c]);
  const centre = ((k * k - 1) / 2) * c * c;
  for (let i = 0; i < c; i++) w.data[centre + i * c + i] = 1;
  return w;
}
