// The fused WDSR-B expansion for training: a block's 1×1 C→M1, ReLU, 1×1 M1→M2 chain computed tile by tile
// of T pixels, so the M1-wide tensor (144 channels: 21 MB per 16×48×48 batch) is never written to memory nor
// read back. The forward pass keeps only z (M2 wide); the backward pass recomputes the expansion per tile
// (C·M1 MACs a pixel, cheaper than a 144-wide round trip through memory) and runs the chain's gradients on
// the tile in L1: ReLU mask, dx, and the weight and bias gradients accumulated per band.
// The forward pass holds the tile's pixels in the lanes (x and z transposed in and out). The backward pass's
// products keep the M1 dimension (9 full vectors at 144) or a channel dimension in the lanes, the latter
// pixel-packed where it leaves lanes empty (24: codegen-pixel-pack.ts), and broadcast the narrow operand.
import { range } from '../../util/range.js';
import { pixelPack } from './codegen-pixel-pack.js';
import { product } from './codegen-product.js';
import type { KernelSource, Target } from './glue.js';

/** The channel widths of a block: residual C, expansion M1, reduction M2. */
export interface WdsrGeom {
  readonly c: number;
  readonly m1: number;
  readonly m2: number;
}

/** Pixels per tile by default (training tunes it: tune.ts), chosen on the 2-core Zen 5: the tile's x, dz, u and
 *  du must stay in L1 while every product sweeps it. */
export const WDSR_TILE = 32;

const indent = (lines: string[], n: number) => lines.map((l) => ' '.repeat(n) + l).join('\n');

/** The M1 dimension, always in the lanes: vectors per row and the padded row length. */
function sizes(g: WdsrGeom, t: Target) {
  const VW = t.vw;
  const V1 = Math.ceil(g.m1 / VW);
  return { VW, V1, M1P: V1 * VW };
}

/**
 * The layout of a product whose rows are the tile's pixels and whose output rows (`n` channels, reduced
 * over `k`) go to an NHWC tensor at pixel p0 + row, rows < pn only: pixel-packed where pixelPack says so,
 * else padded. B's rows are laid out by `packB` (`stride` floats a row) and outputs stored by `store`.
 */
function outLayout(n: number, k: number, t: Target, T: number) {
  const VW = t.vw;
  const pk = pixelPack(n, k, VW, t.nreg);
  const pack = pk && T % pk.G === 0 ? { ...pk, n } : undefined;
  const vecs = pack ? pack.U : Math.ceil(n / VW);
  const stride = vecs * VW;
  /** C loop filling packed B rows: dst[k·stride + l] = value(k, channel of lane l), zero past n when padded. */
  const packB = (dst: string, rows: number, value: (k: string, ch: string) => string) =>
    `for (int k = 0; k < ${rows}; k++)
    for (int l = 0; l < ${stride}; l++) ${dst}[k * ${stride} + l] = ${pack ? value('k', `l % ${n}`) : `l < ${n} ? ${value('k', 'l')} : 0.f`};`;
  /** Stores acc at row r, vector v of dst; with `add`, a tensor of dst's shape is added first (when not NULL). */
  const store = (dst: string, r: string, v: number, acc: string, add?: string) => {
    const at = `(p0 + ${r}) * ${n} + ${v * VW}`;
    const plus = (lanes: string | null) =>
      add ? `(${add} ? ${acc} + ${lanes === null ? `vload(${add} + ${at})` : `vload_n(${add} + ${at}, ${lanes})`} : ${acc})` : acc;
    const ptr = `${dst} + ${at}`;
    if (pack) return `{ const long nv = (pn - ${r}) * ${n} - ${v * VW}; if (nv >= ${VW}) vstore(${ptr}, ${plus(null)}); else if (nv > 0) vstore_n(${ptr}, ${plus('(int)nv')}, (int)nv); }`;
    const tail = n - v * VW;
    return `if (${r} < pn) ${tail >= VW ? `vstore(${ptr}, ${plus(null)});` : `vstore_n(${ptr}, ${plus(String(tail))}, ${tail});`}`;
  };
  return { pack, vecs, stride, packB, store };
}

/** Copies pixels [p0, p0 + pn) of a `w`-channel NHWC tensor into a tile, zeroing the rows past pn. */
const stage = (dst: string, src: string, w: number, T: number) =>
  `memcpy(${dst}, ${src} + p0 * ${w}, sizeof(float) * pn * ${w}); memset(${dst} + pn * ${w}, 0, sizeof(float) * (${T} - pn) * ${w});`;

/** The expansion u = relu(x·w1 + b1) of the staged tile xs into the scratch u (M1P floats a pixel). */
function expand(g: WdsrGeom, t: Target, T: number): string[] {
  const { V1, M1P, VW } = sizes(g, t);
  return product(
    {
      rows: T,
      vecs: V1,
      k: g.c,
      a: (r, k) => `xs[${r} * ${g.c} + ${k}]`,
      b: (k, v) => `w1p + ${k} * ${M1P} + ${v * VW}`,
      init: (_, v) => `vload(b1p + ${v * VW})`,
      done: (r, v, acc) => `vstore(u + ${r} * ${M1P} + ${v * VW}, vrelu(${acc}));`,
    },
    t,
  );
}

/** w1 packed [C][M1P] with zero padding, b1 [M1P]: shared by both kernels. */
function packW1(g: WdsrGeom, M1P: number): string {
  return `float* restrict w1p = xalloc(sizeof(float) * ${g.c * M1P});
  float* restrict b1p = xalloc(sizeof(float) * ${M1P});
  for (int m = 0; m < ${M1P}; m++) b1p[m] = m < ${g.m1} ? b1[m] : 0.f;
  for (int c = 0; c < ${g.c}; c++)
    for (int m = 0; m < ${M1P}; m++) w1p[c * ${M1P} + m] = m < ${g.m1} ? w1[c * ${g.m1} + m] : 0.f;`;
}

/**
 * z = relu(x·w1 + b1)·w2 + b2 per pixel; p = [x, w1, b1, w2, b2, z], s = [pixels]. x [.., C], w1 [C, M1],
 * w2 [M1, M2], z [.., M2]. Unlike the backward pass, the forward pass holds the tile's pixels in the lanes (x
 * and z transposed on the way in and out): both products then fill every lane at any M1 and M2 and broadcast
 * a weight, where M2 = 20 in the lanes left lanes empty or needed pixel-packing blends (2-core Zen 4, 16×48×48
 * 24→144→20, scripts/bench-kernels.mjs --fused: 177–197 against 160–170 GFLOP/s at tiles of 16–64 but 24).
 */
export function wdsrForward(name: string, g: WdsrGeom, t: Target, T = WDSR_TILE): KernelSource {
  const VW = t.vw;
  const V = Math.ceil(T / VW);
  const TP = V * VW; // a tile's pixels padded to whole vectors
  const pixelsInLanes = (rows: number, k: number, w: string, bias: string, src: string, dst: string, relu: boolean) =>
    product(
      {
        rows,
        vecs: V,
        k,
        a: (r, kk) => `${w}[${kk} * ${rows} + ${r}]`,
        b: (kk, v) => `${src} + ${kk} * ${TP} + ${v * VW}`,
        init: (r) => `((vf){0} + ${bias}[${r}])`,
        done: (r, v, acc) => `vstore(${dst} + ${r} * ${TP} + ${v * VW}, ${relu ? `vrelu(${acc})` : acc});`,
      },
      t,
    );
  const code = `static void k_${name}(void** p, const double* s) {
  const float* restrict x = p[0];
  const float* restrict w1 = p[1];
  const float* restrict b1 = p[2];
  const float* restrict w2 = p[3];
  const float* restrict b2 = p[4];
  float* restrict z = p[5];
  const long np = (long)s[0], nt = (np + ${T - 1}) / ${T};
  #pragma omp parallel for schedule(dynamic, 4)
  for (long ti = 0; ti < nt; ti++) {
    float xt[${g.c * TP}] __attribute__((aligned(64)));
    float u[${g.m1 * TP}] __attribute__((aligned(64)));
    float zt[${g.m2 * TP}] __attribute__((aligned(64)));
    const long p0 = ti * ${T};
    const long pn = np - p0 < ${T} ? np - p0 : ${T};
    for (int c = 0; c < ${g.c}; c++)
      for (int q = 0; q < ${TP}; q++) xt[c * ${TP} + q] = q < pn ? x[(p0 + q) * ${g.c} + c] : 0.f;
${indent(pixelsInLanes(g.m1, g.c, 'w1', 'b1', 'xt', 'u', true), 4)}
${indent(pixelsInLanes(g.m2, g.m1, 'w2', 'b2', 'u', 'zt', false), 4)}
    for (long q = 0; q < pn; q++)
      for (int m = 0; m < ${g.m2}; m++) z[(p0 + q) * ${g.m2} + m] = zt[m * ${TP} + q];
  }
}
`;
  return { name, code };
}

/**
 * The chain's gradients from dz; p = [x, dz, w1, b1, w2, dx, dw1, db1, dw2s, db2s, dxadd|null], s = [n,
 * pixels per sample]. dxadd (x's shape) is added to dx: a residual's gradient, saving a pass over x. dw2s [n, M1, M2] and db2s [n, M2] are per sample (the search's Taylor gate rule needs per-sample
 * sums); dw1 [C, M1] and db1 [M1] are totals. Each sample is cut into a fixed number of bands with private
 * accumulators, handed to threads dynamically and summed in band order: deterministic at any thread count.
 */
export function wdsrBackward(name: string, g: WdsrGeom, t: Target, T = WDSR_TILE): KernelSource {
  const { V1, M1P, VW } = sizes(g, t);
  const { c: C, m1: M1, m2: M2 } = g;
  const out = outLayout(C, M1, t, T);
  // du = (dz·w2ᵀ) ⊙ (u > 0): M1 in the lanes, dz broadcast.
  const gradU = product(
    {
      rows: T,
      vecs: V1,
      k: M2,
      a: (r, k) => `dzs[${r} * ${M2} + ${k}]`,
      b: (k, v) => `w2t + ${k} * ${M1P} + ${v * VW}`,
      init: () => '(vf){0}',
      done: (r, v, acc) => `{ const int at = ${r} * ${M1P} + ${v * VW}; vstore(du + at, (vf)((vi)${acc} & (vload(u + at) > (vf){0}))); }`,
    },
    t,
  );
  // dx = du·w1ᵀ: C in the lanes (pixel-packed when C leaves lanes empty), du broadcast.
  const gradX = product(
    {
      rows: T,
      vecs: out.vecs,
      k: M1,
      a: (r, k) => `du[${r} * ${M1P} + ${k}]`,
      b: (k, v) => `w1t + ${k} * ${out.stride} + ${v * VW}`,
      init: () => '(vf){0}',
      done: (r, v, acc) => out.store('dx', r, v, acc, 'dxadd'),
      pack: out.pack,
    },
    t,
  );
  // dw1[c] += Σ_pixels x[c]·du and dw2ᵀ[o] += Σ_pixels dz[o]·u: M1 in the lanes, the tile's pixels the
  // reduction (padded pixels have dz = 0, hence du = 0, and add nothing).
  const sweep = (rows: number, a: string, stride: number, b: string, acc: string) =>
    product(
      {
        rows,
        vecs: V1,
        k: T,
        a: (r, k) => `${a}[${k} * ${stride} + ${r}]`,
        b: (k, v) => `${b} + ${k} * ${M1P} + ${v * VW}`,
        init: (r, v) => `vload(${acc} + ${r} * ${M1P} + ${v * VW})`,
        done: (r, v, x) => `vstore(${acc} + ${r} * ${M1P} + ${v * VW}, ${x});`,
      },
      t,
    );
  const ACC = C * M1P + M1P + M2 * M1P + M2;
  const code = `static void k_${name}(void** p, const double* s) {
  const float* restrict x = p[0];
  const float* restrict dz = p[1];
  const float* restrict w1 = p[2];
  const float* restrict b1 = p[3];
  const float* restrict w2 = p[4];
  float* restrict dx = p[5];
  float* restrict dw1 = p[6];
  float* restrict db1 = p[7];
  float* restrict dw2s = p[8];
  float* restrict db2s = p[9];
  const float* restrict dxadd = p[10];
  const long n = (long)s[0], pps = (long)s[1];
  /* At least 16 bands in all, so that a busy core slows the kernel instead of stalling it. */
  const long sub = n >= 16 ? 1 : (16 + n - 1) / n, nb = n * sub;
  ${packW1(g, M1P)}
  float* restrict w1t = xalloc(sizeof(float) * ${M1 * out.stride});
  float* restrict w2t = xalloc(sizeof(float) * ${M2 * M1P});
  ${out.packB('w1t', M1, (m, c) => `w1[${c} * ${M1} + ${m}]`)}
  for (int o = 0; o < ${M2}; o++)
    for (int m = 0; m < ${M1P}; m++) w2t[o * ${M1P} + m] = m < ${M1} ? w2[m * ${M2} + o] : 0.f;
  float* part = xalloc(sizeof(float) * ${ACC} * nb);
  #pragma omp parallel for schedule(dynamic, 1)
  for (long bd = 0; bd < nb; bd++) {
    float* restrict gw1 = part + bd * ${ACC};
    float* restrict gb1 = gw1 + ${C * M1P};
    float* restrict gw2 = gb1 + ${M1P};
    float* restrict gb2 = gw2 + ${M2 * M1P};
    memset(gw1, 0, sizeof(float) * ${ACC});
    float xs[${T * C}] __attribute__((aligned(64)));
    float dzs[${T * M2}] __attribute__((aligned(64)));
    float u[${T * M1P}] __attribute__((aligned(64)));
    float du[${T * M1P}] __attribute__((aligned(64)));
    const long smp = bd / sub, q = bd % sub;
    const long pa = smp * pps + pps * q / sub, pe = smp * pps + pps * (q + 1) / sub;
    for (long p0 = pa; p0 < pe; p0 += ${T}) {
      const long pn = pe - p0 < ${T} ? pe - p0 : ${T};
      ${stage('xs', 'x', C, T)}
      ${stage('dzs', 'dz', M2, T)}
${indent(expand(g, t, T), 6)}
${indent(gradU, 6)}
${indent(gradX, 6)}
${indent(sweep(C, 'xs', C, 'du', 'gw1'), 6)}
${indent(sweep(M2, 'dzs', M2, 'u', 'gw2'), 6)}
      for (int j = 0; j < ${T}; j++)
        for (int m = 0; m < ${M1P}; m++) gb1[m] += du[j * ${M1P} + m];
      for (int j = 0; j < ${T}; j++)
        for (int o = 0; o < ${M2}; o++) gb2[o] += dzs[j * ${M2} + o];
    }
  }
  /* Bands summed in band order: totals for w1, b1; per sample for w2, b2. */
  for (long e = 0; e < ${C * M1}; e++) {
    float acc = 0.f;
    for (long bd = 0; bd < nb; bd++) acc += part[bd * ${ACC} + (e / ${M1}) * ${M1P} + e % ${M1}];
    dw1[e] = acc;
  }
  for (int m = 0; m < ${M1}; m++) {
    float acc = 0.f;
    for (long bd = 0; bd < nb; bd++) acc += part[bd * ${ACC} + ${C * M1P} + m];
    db1[m] = acc;
  }
  for (long smp = 0; smp < n; smp++) {
    for (int m = 0; m < ${M1}; m++)
      for (int o = 0; o < ${M2}; o++) {
        float acc = 0.f;
        for (long q = 0; q < sub; q++) acc += part[(smp * sub + q) * ${ACC} + ${C * M1P + M1P} + o * ${M1P} + m];
        dw2s[(smp * ${M1} + m) * ${M2} + o] = acc;
      }
    for (int o = 0; o < ${M2}; o++) {
      float acc = 0.f;
      for (long q = 0; q < sub; q++) acc += part[(smp * sub + q) * ${ACC} + ${C * M1P + M1P + M2 * M1P} + o];
      db2s[smp * ${M2} + o] = acc;
    }
  }
  free(part); free(w1p); free(b1p); free(w1t); free(w2t);
}
`;
  return { name, code };
}
