// A 3×3 convolution (and its grad input) by Winograd's F(2×2, 3×3): each 2×2 block of outputs ("tile") comes
// from its 4×4 input patch transformed (Bᵀ d B), multiplied position by position with the weights transformed
// once (G g Gᵀ), summed over input channels and transformed back (Aᵀ m A): 16 multiply-adds per (tile, cin,
// cout) where the direct conv spends 36, plus the transforms' additions, linear in the channels. The 16 sums
// over input channels are the kernel's work: a product of the chunk's tiles (rows, broadcast) by the
// transformed weights (cout in the lanes), blocked like the direct conv's pixels × vectors. A chunk of tiles
// of one tile row is transformed, multiplied and written back in turn, its buffers in L1/L2. The weight
// gradient runs the same transforms transposed (winogradGradWeight).
// Same call as convForward (p = [x, w, b|null, y, add|null], s = [n, relu]) and the same sums, rounded in
// another order: the tuner offers it beside the direct conv for k = 3 (conv-blocking.ts) and keeps the faster.
import type { ConvGeom, ForwardBlocking, GradWeightBlocking } from './conv-blocking.js';
import { blockingTarget, winogradRows } from './conv-blocking.js';
import { FORWARD_ARGS } from './codegen-conv-loops.js';
import type { KernelSource, Target } from './glue.js';
import { range } from '../../util/range.js';

/** Bᵀ d (or d B) along one axis of a 4-point patch: the F(2, 3) input transform. */
const inT = (d: (i: number) => string) => [`${d(0)} - ${d(2)}`, `${d(1)} + ${d(2)}`, `${d(2)} - ${d(1)}`, `${d(1)} - ${d(3)}`];
/** Aᵀ m (or m A) along one axis: 4 points to 2. */
const outT = (m: (i: number) => string) => [`${m(0)} + ${m(1)} + ${m(2)}`, `${m(1)} - ${m(2)} - ${m(3)}`];

/** How a kernel of geometry g walks its tiles: tile rows × chunks of TC tiles (the last LAST), products in
 *  register blocks of RB rows × V vectors of cout. */
function tiling(H: number, W: number, CI: number, CO: number, t: Target, tiles: number) {
  const VW = t.vw;
  const V = Math.ceil(CO / VW);
  const COP = V * VW;
  const RB = winogradRows(V, t.nreg);
  const CIP = Math.ceil(CI / VW) * VW;
  const [TH, TW] = [Math.ceil(H / 2), Math.ceil(W / 2)];
  // Tiles a chunk: about `tiles` of them, a whole number of register blocks where the row allows, and the
  // chunk's two buffers within 128 KB of a thread's stack.
  const TC = Math.max(1, Math.min(TW, RB * Math.max(1, Math.round(tiles / RB)), Math.floor(2048 / (CIP + COP))));
  const NCH = Math.ceil(TW / TC);
  return { VW, V, COP, CIP, RB, TH, TW, TC, NCH, LAST: TW - (NCH - 1) * TC };
}

/** C declaring the work item r's image, tile row and chunk (img, ty, tx0, nt tiles), then Vt[xi][tile][i] =
 *  Bᵀ d B of each tile's 4×4 input patch of x (zero outside the image), CIP floats a row, in vectors of
 *  input channels (the last one masked). */
function inputTransform(H: number, W: number, CI: number, k: ReturnType<typeof tiling>): string {
  const { VW, CIP, TC } = k;
  const inside = (r: number, c: number) => `2 * ty + ${r - 1} >= 0 && 2 * ty + ${r - 1} < ${H} && 2 * tx + ${c - 1} >= 0 && 2 * tx + ${c - 1} < ${W}`;
  const vec = (v: number): string[] => {
    const n = Math.min(VW, CI - v * VW);
    const d = (r: number, c: number) => `d${r}${c}`;
    const e = (r: number, c: number) => `e${r}${c}`;
    return [
      '{',
      ...range(16).map((q) => {
        const ptr = `${d(q >> 2, q & 3)}p + ${v * VW}`;
        return `  const vf ${d(q >> 2, q & 3)} = ${n === VW ? `vload(${ptr})` : `vload_n(${ptr}, ${n})`};`;
      }),
      ...range(4).flatMap((c) => inT((r) => d(r, c)).map((x, r) => `  const vf ${e(r, c)} = ${x};`)),
      ...range(4).flatMap((r) => inT((c) => e(r, c)).map((x, c) => `  vstore(Vt + (${r * 4 + c} * ${TC} + tl) * ${CIP} + ${v * VW}, ${x});`)),
      '}',
    ];
  };
  return `const long img = r / ${k.TH * k.NCH};
    const int ty = (int)(r / ${k.NCH} % ${k.TH}), ch = (int)(r % ${k.NCH});
    const int tx0 = ch * ${TC}, nt = ch == ${k.NCH - 1} ? ${k.LAST} : ${TC};
    const float* restrict xn = x + img * ${H * W * CI};
    for (int tl = 0; tl < nt; tl++) {
      const int tx = tx0 + tl;
${range(16)
  .map((q) => [q >> 2, q & 3])
  .map(([r, c]) => `      const float* restrict d${r}${c}p = ${inside(r, c)} ? xn + ((long)(2 * ty + ${r - 1}) * ${W} + 2 * tx + ${c - 1}) * ${CI} : zero;`)
  .join('\n')}
${range(CIP / VW)
  .flatMap(vec)
  .map((l) => '      ' + l)
  .join('\n')}
    }`;
}

export function winogradConv(name: string, g: ConvGeom, target: Target, gradInput: boolean, b: ForwardBlocking): KernelSource {
  if (g.k !== 3) throw new Error(`winograd F(2x2,3x3) needs a 3x3 kernel, got k ${g.k}`);
  const t = blockingTarget(target, b);
  const { h: H, w: W } = g;
  const [CI, CO] = gradInput ? [g.cout, g.cin] : [g.cin, g.cout];
  const k = tiling(H, W, CI, CO, t, b.winograd ?? 16);
  const { VW, V, COP, CIP, RB, TH, TC, NCH, LAST } = k;
  const src = gradInput ? `((8 - tp) * ${CO} + o) * ${CI} + i` : `(tp * ${CI} + i) * ${CO} + o`;

  // The 16 channel sums of `rows` tiles: M[xi][tile][·] = Σ_i Vt[xi][tile][i]·U[xi][i][·].
  const product = (rows: number): string[] => {
    const block = (t0: string, rb: number): string[] => {
      const acc = (j: number, v: number) => `a${j}_${v}`;
      return [
        '{',
        ...range(rb).map((j) => `  vf ${range(V).map((v) => `${acc(j, v)} = (vf){0}`).join(', ')};`),
        `  for (int i = 0; i < ${CI}; i++) {`,
        `    const float* restrict ui = ux + i * ${COP};`,
        ...range(rb).map((j) => `    const float s${j} = vx[(${t0} + ${j}) * ${CIP} + i];`),
        ...range(V).map((v) => `    { const vf wv = vload(ui + ${v * VW}); ${range(rb).map((j) => `${acc(j, v)} += s${j} * wv;`).join(' ')} }`),
        '  }',
        ...range(rb).map((j) => `  ${range(V).map((v) => `vstore(mx + (${t0} + ${j}) * ${COP} + ${v * VW}, ${acc(j, v)});`).join(' ')}`),
        '}',
      ];
    };
    const full = Math.floor(rows / RB) * RB;
    return [
      'for (int xi = 0; xi < 16; xi++) {',
      `  const float* restrict ux = U + xi * ${CI * COP};`,
      `  const float* restrict vx = Vt + xi * ${TC * CIP};`,
      `  float* restrict mx = M + xi * ${TC * COP};`,
      ...(full > 0 ? [`  for (int t0 = 0; t0 < ${full}; t0 += ${RB})`, ...block('t0', RB).map((l) => '  ' + l)] : []),
      ...(full < rows ? block(String(full), rows - full).map((l) => '  ' + l) : []),
      '}',
    ];
  };

  const m = (r: number, c: number) => `m${r * 4 + c}`;
  const code = `static void k_${name}(void** p, const double* s) {
${FORWARD_ARGS}
  /* U[xi][i][o] = (G g Gᵀ)[xi] of the 3×3 kernel g from input channel i to output o (zero past ${CO}). */
  float* restrict U = xalloc(sizeof(float) * ${16 * CI * COP});
  float bp[${COP}] __attribute__((aligned(64)));
  for (int o = 0; o < ${COP}; o++) bp[o] = b && o < ${CO} ? b[o] : 0.f;
  for (int i = 0; i < ${CI}; i++)
    for (int o = 0; o < ${COP}; o++) {
      float gk[9], q[4][3];
      for (int tp = 0; tp < 9; tp++) gk[tp] = o < ${CO} ? w[${src}] : 0.f;
      for (int c = 0; c < 3; c++) {
        q[0][c] = gk[c]; q[3][c] = gk[6 + c];
        q[1][c] = 0.5f * (gk[c] + gk[3 + c] + gk[6 + c]); q[2][c] = 0.5f * (gk[c] - gk[3 + c] + gk[6 + c]);
      }
      for (int r = 0; r < 4; r++) {
        float* u = U + ((r * 4) * ${CI} + i) * ${COP} + o;
        u[0] = q[r][0]; u[3 * ${CI * COP}] = q[r][2];
        u[${CI * COP}] = 0.5f * (q[r][0] + q[r][1] + q[r][2]); u[2 * ${CI * COP}] = 0.5f * (q[r][0] - q[r][1] + q[r][2]);
      }
    }
  static const float zero[${CIP}];
  /* Work items: (image, tile row, chunk of tiles), dynamic so a busy core does less of it. */
  #pragma omp parallel for schedule(dynamic, 1)
  for (long r = 0; r < n * ${TH * NCH}; r++) {
    float Vt[${16 * TC * CIP}] __attribute__((aligned(64)));
    float M[${16 * TC * COP}] __attribute__((aligned(64)));
    ${inputTransform(H, W, CI, k)}
    if (nt == ${TC}) {
${product(TC).map((l) => '      ' + l).join('\n')}
    } else {
${product(LAST).map((l) => '      ' + l).join('\n')}
    }
    for (int tl = 0; tl < nt; tl++) {
      const int tx = tx0 + tl;
      for (int v = 0; v < ${V}; v++) {
${range(16).map((q) => `        const vf ${m(q >> 2, q & 3)} = vload(M + (${q} * ${TC} + tl) * ${COP} + v * ${VW});`).join('\n')}
${range(4).flatMap((c) => outT((r) => m(r, c)).map((v, a) => `        const vf f${a}${c} = ${v};`)).join('\n')}
        const vf bv = vload(bp + v * ${VW});
${range(2)
  .flatMap((a) => outT((c) => `f${a}${c}`).map((v, bb) => `        vf o${a}${bb} = ${v} + bv;`))
  .join('\n')}
        if (relu) { o00 = vrelu(o00); o01 = vrelu(o01); o10 = vrelu(o10); o11 = vrelu(o11); }
${range(2)
  .flatMap((a) =>
    range(2).map((bb) => {
      const px = `((long)(img * ${H} + 2 * ty + ${a}) * ${W} + 2 * tx + ${bb}) * ${CO}`;
      return `        if (2 * ty + ${a} < ${H} && 2 * tx + ${bb} < ${W}) { const long at = ${px}; ${vectorTail(`o${a}${bb}`, CO, VW)} }`;
    }),
  )
  .join('\n')}
      }
    }
  }
  free(U);
}
`;
  return { name, code, vw: t.vw };
}

/** The store of vector v (a runtime index) of an output pixel at `at`, the residual added first: full vectors
 *  but the last, which is masked when CO is not a multiple of the lanes. */
function vectorTail(acc: string, CO: number, VW: number): string {
  const tail = CO - (Math.ceil(CO / VW) - 1) * VW;
  const full = `if (add) ${acc} += vload(add + at + v * ${VW}); vstore(y + at + v * ${VW}, ${acc});`;
  if (tail === VW) return full;
  return `if (v < ${Math.ceil(CO / VW) - 1}) { ${full} } else { if (add) ${acc} += vload_n(add + at + v * ${VW}, ${tail}); vstore_n(y + at + v * ${VW}, ${acc}, ${tail}); }`;
}

/**
 * The weight gradient by the same transforms, transposed: y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A gives
 * dg = Gᵀ[Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B)]G, so the 16 sums run over tiles (the chunk's, then the chunks'),
 * input channels broadcast against dy's transformed cout vectors. Same call as convGradWeight (p = [x, dy,
 * dw], s = [n]); the work is cut into nchunks() bands with private sums added in band order.
 */
export function winogradGradWeight(name: string, g: ConvGeom, target: Target, b: GradWeightBlocking): KernelSource {
  if (g.k !== 3) throw new Error(`winograd F(2x2,3x3) needs a 3x3 kernel, got k ${g.k}`);
  const t = blockingTarget(target, b);
  const { h: H, w: W, cin: CI, cout: CO } = g;
  const k = tiling(H, W, CI, CO, t, b.winograd ?? 16);
  const { VW, V, COP, CIP, RB, TH, TC, NCH, LAST } = k;
  const GU = 16 * CI * COP;
  const tail = CO - (V - 1) * VW;
  // acc[xi][i][·] += Σ_tile Vt[xi][tile][i]·Zt[xi][tile][·] over `rows` tiles, RB channels × V vectors a block.
  const product = (rows: number): string[] => {
    const block = (i0: string, rb: number): string[] => {
      const a = (j: number, v: number) => `a${j}_${v}`;
      const at = (j: number, v: number) => `ax + (${i0} + ${j}) * ${COP} + ${v * VW}`;
      return [
        '{',
        ...range(rb).map((j) => `  vf ${range(V).map((v) => `${a(j, v)} = vload(${at(j, v)})`).join(', ')};`),
        `  for (int tl = 0; tl < ${rows}; tl++) {`,
        ...range(rb).map((j) => `    const float s${j} = vx[tl * ${CIP} + ${i0} + ${j}];`),
        ...range(V).map((v) => `    { const vf zv = vload(zx + tl * ${COP} + ${v * VW}); ${range(rb).map((j) => `${a(j, v)} += s${j} * zv;`).join(' ')} }`),
        '  }',
        ...range(rb).map((j) => `  ${range(V).map((v) => `vstore(${at(j, v)}, ${a(j, v)});`).join(' ')}`),
        '}',
      ];
    };
    const full = Math.floor(CI / RB) * RB;
    return [
      'for (int xi = 0; xi < 16; xi++) {',
      `  float* restrict ax = acc + xi * ${CI * COP};`,
      `  const float* restrict vx = Vt + xi * ${TC * CIP};`,
      `  const float* restrict zx = Zt + xi * ${TC * COP};`,
      ...(full > 0 ? [`  for (int i0 = 0; i0 < ${full}; i0 += ${RB})`, ...block('i0', RB).map((l) => '  ' + l)] : []),
      ...(full < CI ? block(String(full), CI - full).map((l) => '  ' + l) : []),
      '}',
    ];
  };
  // dy's 2×2 outputs of a tile (zero past the image's edge), one cout vector each: A dy Aᵀ along both axes.
  const dyAt = (a: number, c: number) => `2 * ty + ${a} < ${H} && 2 * tx + ${c} < ${W}`;
  const dyLoad = (a: number, c: number) => {
    const ptr = `dy + ((img * ${H} + 2 * ty + ${a}) * ${W} + 2 * tx + ${c}) * ${CO} + v * ${VW}`;
    const load = tail === VW ? `vload(${ptr})` : `(v < ${V - 1} ? vload(${ptr}) : vload_n(${ptr}, ${tail}))`;
    return `const vf y${a}${c} = ${dyAt(a, c)} ? ${load} : (vf){0};`;
  };
  const zT = (y: (i: number) => string) => [y(0), `${y(0)} + ${y(1)}`, `${y(0)} - ${y(1)}`, `-${y(1)}`];
  const code = `static void k_${name}(void** p, const double* s) {
  const float* restrict x = p[0];
  const float* restrict dy = p[1];
  float* restrict dw = p[2];
  const long items = (long)s[0] * ${TH * NCH}, nc = nchunks(items);
  float* part = xalloc(sizeof(float) * ${GU} * nc);
  static const float zero[${CIP}];
  #pragma omp parallel for schedule(dynamic, 1)
  for (long c = 0; c < nc; c++) {
    float* restrict acc = part + c * ${GU};
    memset(acc, 0, sizeof(float) * ${GU});
    float Vt[${16 * TC * CIP}] __attribute__((aligned(64)));
    float Zt[${16 * TC * COP}] __attribute__((aligned(64)));
    for (long r = items * c / nc; r < items * (c + 1) / nc; r++) {
    ${inputTransform(H, W, CI, k)}
    for (int tl = 0; tl < nt; tl++) {
      const int tx = tx0 + tl;
      for (int v = 0; v < ${V}; v++) {
${range(4).map((q) => `        ${dyLoad(q >> 1, q & 1)}`).join('\n')}
${range(2).flatMap((c) => zT((a) => `y${a}${c}`).map((z, r) => `        const vf h${r}${c} = ${z};`)).join('\n')}
${range(4)
  .flatMap((r) => zT((c) => `h${r}${c}`).map((z, c) => `        vstore(Zt + (${r * 4 + c} * ${TC} + tl) * ${COP} + v * ${VW}, ${z});`))
  .join('\n')}
      }
    }
    if (nt == ${TC}) {
${product(TC).map((l) => '      ' + l).join('\n')}
    } else {
${product(LAST).map((l) => '      ' + l).join('\n')}
    }
    }
  }
  /* The bands' sums in band order, then dw[ky][kx][i][o] = (Gᵀ S G)[ky][kx] of the 4×4 sums S. */
  for (int i = 0; i < ${CI}; i++)
    for (int o = 0; o < ${CO}; o++) {
      float sm[16], q[3][4];
      for (int xi = 0; xi < 16; xi++) {
        float sum = 0.f;
        for (long c = 0; c < nc; c++) sum += part[c * ${GU} + (xi * ${CI} + i) * ${COP} + o];
        sm[xi] = sum;
      }
      for (int cc = 0; cc < 4; cc++) {
        q[0][cc] = sm[cc] + 0.5f * (sm[4 + cc] + sm[8 + cc]);
        q[1][cc] = 0.5f * (sm[4 + cc] - sm[8 + cc]);
        q[2][cc] = 0.5f * (sm[4 + cc] + sm[8 + cc]) + sm[12 + cc];
      }
      for (int ky = 0; ky < 3; ky++) {
        dw[((ky * 3 + 0) * ${CI} + i) * ${CO} + o] = q[ky][0] + 0.5f * (q[ky][1] + q[ky][2]);
        dw[((ky * 3 + 1) * ${CI} + i) * ${CO} + o] = 0.5f * (q[ky][1] - q[ky][2]);
        dw[((ky * 3 + 2) * ${CI} + i) * ${CO} + o] = 0.5f * (q[ky][1] + q[ky][2]) + q[ky][3];
      }
    }
  free(part);
}
`;
  return { name, code, vw: t.vw };
}
