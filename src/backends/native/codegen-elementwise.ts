// Memory-bound kernels: element maps, per-channel maps and reductions, pixel shuffles, Adam. Each is a flat
// loop that gcc vectorises; OpenMP splits it across cores once the array is big enough to repay the fork.
import type { KernelSource } from './glue.js';

/** Below this many elements a kernel runs on one thread: waking the pool costs about as much as the work. */
const PAR_MIN = 1 << 15;
/** Elements per dynamically scheduled chunk: ~10 µs of work, so a thread slowed by another process on its
 *  core hands its share to the others instead of stalling the kernel. */
const CHUNK = 1 << 14;

/** out[i] = expr(a[i], b[i], scalars…); p = [a, (b), out], s = [len, …scalars]. Scalars are doubles named
 *  as given. In place (out = a) drops `restrict`, which would otherwise be a lie. */
export function mapKernel(name: string, arity: 1 | 2, expr: string, scalars: readonly string[] = [], inPlace = false): KernelSource {
  const r = inPlace ? '' : ' restrict';
  const ins = ['a', 'b'].slice(0, arity);
  const code = `static void k_${name}(void** p, const double* s) {
${ins.map((v, i) => `  const float*${r} ${v}_ = p[${i}];`).join('\n')}
  float*${r} out = p[${arity}];
  const long n = (long)s[0];
${scalars.map((v, i) => `  const double ${v} = s[${i + 1}];`).join('\n')}
  #pragma omp parallel for simd schedule(dynamic, ${CHUNK}) if(n >= ${PAR_MIN})
  for (long i = 0; i < n; i++) {
${ins.map((v) => `    const float ${v} = ${v}_[i];`).join('\n')}
    out[i] = ${expr};
  }
}
`;
  return { name, code };
}

/** Per-channel kernels walk the tensor in blocks of M = c·vw floats: a whole number of pixels and of
 *  vectors, so the inner loop has a constant trip count and every lane keeps one channel. */
function channelBlock(c: number, vw: number): number {
  return c * vw;
}

/** out[j % c] = Σ_i term(a[i], b[i]) in float64, per nchunks() chunk then in chunk order (deterministic);
 *  p = [a, (b), out: Float64Array(c)], s = [len]. c = 1 gives plain sums. */
export function reduceKernel(name: string, arity: 1 | 2, term: string, c: number, vw: number): KernelSource {
  const M = channelBlock(c, vw);
  const ins = ['a', 'b'].slice(0, arity);
  const code = `static void k_${name}(void** p, const double* s) {
${ins.map((v, i) => `  const float* restrict ${v}_ = p[${i}];`).join('\n')}
  double* restrict out = p[${arity}];
  const long n = (long)s[0], nb = n / ${M}, nc = nchunks(n >= ${PAR_MIN} ? nb : 1);
  double* part = xalloc(sizeof(double) * ${M} * nc);
  #pragma omp parallel for schedule(dynamic, 1) if(nc > 1)
  for (long c = 0; c < nc; c++) {
    double acc[${M}] __attribute__((aligned(64)));
    memset(acc, 0, sizeof acc);
    for (long blk = nb * c / nc; blk < nb * (c + 1) / nc; blk++)
      for (int j = 0; j < ${M}; j++) {
${ins.map((v) => `        const double ${v} = ${v}_[blk * ${M} + j];`).join('\n')}
        acc[j] += ${term};
      }
    if (c == nc - 1)
      for (long i = nb * ${M}; i < n; i++) {
${ins.map((v) => `        const double ${v} = ${v}_[i];`).join('\n')}
        acc[i - nb * ${M}] += ${term};
      }
    memcpy(part + c * ${M}, acc, sizeof acc);
  }
  for (int ch = 0; ch < ${c}; ch++) out[ch] = 0;
  for (long c = 0; c < nc; c++)
    for (int j = 0; j < ${M}; j++) out[j % ${c}] += part[c * ${M} + j];
  free(part);
}
`;
  return { name, code };
}

/** y = x · g[channel]; p = [x, g, y], s = [len]. */
export function mulChannelsKernel(name: string, c: number, vw: number): KernelSource {
  // At least 256 floats a block: with one vector's worth per block (c = 1, a scalar gate) the kernel took
  // 3.5 ms on 884 K floats, 0.6 ms with 256 (c = 24: 0.2).
  const M = channelBlock(c, vw) * Math.ceil(256 / channelBlock(c, vw));
  const code = `static void k_${name}(void** p, const double* s) {
  const float* restrict x = p[0];
  const float* restrict g = p[1];
  float* restrict y = p[2];
  const long n = (long)s[0], nb = n / ${M};
  float gg[${M}] __attribute__((aligned(64)));
  for (int j = 0; j < ${M}; j++) gg[j] = g[j % ${c}];
  #pragma omp parallel for schedule(dynamic, ${Math.max(1, Math.floor(CHUNK / M))}) if(n >= ${PAR_MIN})
  for (long blk = 0; blk < nb; blk++)
    for (int j = 0; j < ${M}; j++) y[blk * ${M} + j] = x[blk * ${M} + j] * gg[j];
  for (long i = nb * ${M}; i < n; i++) y[i] = x[i] * gg[i - nb * ${M}];
}
`;
  return { name, code };
}

/** Pixel shuffle with c and s baked in; p = [src, dst], s = [n, h, w] of the deep (low-resolution) side.
 *  depthToSpace: wide[n,y·s+i,x·s+j,ch] = deep[n,y,x,(ch·s+i)·s+j]; `inverse` (spaceToDepth) copies back. */
export function shuffleKernel(name: string, c: number, sc: number, inverse: boolean): KernelSource {
  const [deepQ, wideQ] = inverse ? ['', 'const '] : ['const ', ''];
  const deepAt = `deep[(long)xx * ${c * sc * sc} + (ch * ${sc} + i) * ${sc} + j]`;
  const wideAt = `wide[((long)xx * ${sc} + j) * ${c} + ch]`;
  const code = `static void k_${name}(void** p, const double* s) {
  const long n = (long)s[0], h = (long)s[1], w = (long)s[2];
  const long chunk = n * h / 64 > 1 ? n * h / 64 : 1;
  #pragma omp parallel for schedule(dynamic, chunk) if(n * h * w * ${c * sc * sc} >= ${PAR_MIN})
  for (long r = 0; r < n * h; r++)
    for (int i = 0; i < ${sc}; i++) {
      ${deepQ}float* restrict deep = (float*)p[${inverse ? 1 : 0}] + r * w * ${c * sc * sc};
      ${wideQ}float* restrict wide = (float*)p[${inverse ? 0 : 1}] + (r * ${sc} + i) * w * ${sc * c};
      for (long xx = 0; xx < w; xx++)
        for (int j = 0; j < ${sc}; j++)
          for (int ch = 0; ch < ${c}; ch++) ${inverse ? `${deepAt} = ${wideAt}` : `${wideAt} = ${deepAt}`};
    }
}
`;
  return { name, code };
}

/** In-place Adam/AdamW, arithmetic in double like the reference; p = [param, grad, m, v],
 *  s = [len, lr, beta1, beta2, eps, weightDecay, c1, c2] with c1, c2 the bias corrections. */
export function adamKernel(name: string): KernelSource {
  const code = `static void k_${name}(void** p, const double* s) {
  float* restrict param = p[0];
  const float* restrict grad = p[1];
  float* restrict m = p[2];
  float* restrict v = p[3];
  const long n = (long)s[0];
  const double lr = s[1], b1 = s[2], b2 = s[3], eps = s[4], wd = s[5], c1 = s[6], c2 = s[7];
  #pragma omp parallel for simd schedule(dynamic, ${CHUNK}) if(n >= ${PAR_MIN})
  for (long i = 0; i < n; i++) {
    const double g = grad[i];
    const float mi = (float)(b1 * m[i] + (1 - b1) * g);
    const float vi = (float)(b2 * v[i] + (1 - b2) * g * g);
    m[i] = mi;
    v[i] = vi;
    param[i] = (float)(param[i] - lr * (mi / c1 / (sqrt(vi / c2) + eps) + wd * param[i]));
  }
}
`;
  return { name, code };
}
