// 3×3 convolutions by Winograd's minimal filtering F(m×m, 3×3), m = 2 or 4: each m×m block of outputs (a
// "tile") comes from its (m+2)² input patch transformed (Bᵀ d B), multiplied position by position with the
// weights transformed once (G g Gᵀ), summed over input channels and transformed back (Aᵀ M A): (m+2)²/m²
// multiply-adds an output per (cin, cout) where the direct conv spends 9 (F(2×2): 4, F(4×4): 2.25), plus the
// transforms' additions, linear in the channels. The (m+2)² sums over input channels are the kernel's work: a
// product of a chunk's tiles (rows, broadcast) by the transformed weights (cout in the lanes), blocked like the
// direct conv's pixels × vectors. A chunk of tiles of one tile row is transformed, multiplied and written back
// in turn, its buffers in L1/L2. The weight gradient runs the same transforms transposed (winogradGradWeight).
// Same calls as convForward and convGradWeight and the same sums, rounded in another order (F(4×4)'s
// constants up to 8 round more): the tuner offers both beside the direct blockings for k = 3
// (conv-blocking.ts) and keeps the fastest.
import type { ConvGeom, ForwardBlocking, GradWeightBlocking } from './conv-blocking.js';
import { blockingTarget, winogradRows } from './conv-blocking.js';
import { FORWARD_ARGS } from './codegen-conv-loops.js';
import { product } from './codegen-product.js';
import type { KernelSource, Target } from './glue.js';
import { range } from '../../util/range.js';

/** Bᵀ (n×n), G (n×3) and Aᵀ (m×n), n = m + 2: Lavin and Gray's F(2, 3) and F(4, 3) (points 0, ±1, ±2, ∞). */
interface Minimal {
  readonly m: number;
  readonly BT: readonly (readonly number[])[];
  readonly G: readonly (readonly number[])[];
  readonly AT: readonly (readonly number[])[];
}
const F2: Minimal = {
  m: 2,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
};
const F4: Minimal = {
  m: 4,
  BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
  G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
};
const minimal = (m: number | undefined): Minimal => (m === 4 ? F4 : F2);

/** Σ cs[i]·terms[i] as C over vectors, zero coefficients dropped. */
function lin(cs: readonly number[], terms: readonly string[]): string {
  const parts = cs.flatMap((c, i) => (c === 0 ? [] : [{ c, t: Math.abs(c) === 1 ? terms[i] : `${Math.abs(c)}.f * ${terms[i]}` }]));
  return parts.map(({ c, t }, j) => (j === 0 ? (c < 0 ? `-${t}` : t) : ` ${c < 0 ? '-' : '+'} ${t}`)).join('') || '(vf){0}';
}

/** A C initialiser of a constant matrix. */
const cMatrix = (a: readonly (readonly number[])[]) => `{ ${a.map((r) => `{ ${r.map((v) => (Number.isInteger(v) ? `${v}.f` : `${v}f`)).join(', ')} }`).join(', ')} }`;

/** How a kernel of geometry g walks its tiles: tile rows × chunks of TC tiles (the last LAST), positions P,
 *  products in register blocks of RB rows × V vectors of cout. */
function tiling(H: number, W: number, CI: number, CO: number, t: Target, f: Minimal) {
  const VW = t.vw;
  const V = Math.ceil(CO / VW);
  const COP = V * VW;
  const CIP = Math.ceil(CI / VW) * VW;
  const RB = winogradRows(V, t.nreg);
  const n = f.m + 2;
  const P = n * n;
  const [TH, TW] = [Math.ceil(H / f.m), Math.ceil(W / f.m)];
  // Tiles a chunk: two register blocks where the row allows, the chunk's two buffers within 128 KB of a
  // thread's stack.
  const TC = Math.max(1, Math.min(TW, 2 * RB, Math.floor(32768 / (P * (CIP + COP)))));
  const NCH = Math.ceil(TW / TC);
  return { VW, V, COP, CIP, RB, n, P, TH, TW, TC, NCH, LAST: TW - (NCH - 1) * TC };
}
type Tiling = ReturnType<typeof tiling>;

/** C declaring the work item r's image, tile row and chunk (img, ty, tx0, nt tiles), then Vt[xi][tile][i] =
 *  Bᵀ d B of each tile's input patch of x (zero outside the image), CIP floats a row, in vectors of input
 *  channels (the last one masked). */
function inputTransform(H: number, W: number, CI: number, f: Minimal, k: Tiling): string {
  const { VW, CIP, TC, n } = k;
  const row = (r: number) => `${f.m} * ty + ${r - 1}`;
  const col = (c: number) => `${f.m} * tx + ${c - 1}`;
  const inside = (r: number, c: number) => `${row(r)} >= 0 && ${row(r)} < ${H} && ${col(c)} >= 0 && ${col(c)} < ${W}`;
  const vec = (v: number): string[] => {
    const lanes = Math.min(VW, CI - v * VW);
    const load = (r: number, c: number) => (lanes === VW ? `vload(d${r}_${c} + ${v * VW})` : `vload_n(d${r}_${c} + ${v * VW}, ${lanes})`);
    // Column by column Bᵀ d into e, then each row of e times B into Vt.
    return [
      '{',
      `  vf e[${n}][${n}];`,
      ...range(n).flatMap((c) => [
        `  { ${range(n).map((r) => `const vf x${r} = ${load(r, c)};`).join(' ')}`,
        ...range(n).map((r) => `    e[${r}][${c}] = ${lin(f.BT[r], range(n).map((q) => `x${q}`))};`),
        '  }',
      ]),
      ...range(n).flatMap((r) =>
        range(n).map((c) => `  vstore(Vt + (${r * n + c} * ${TC} + tl) * ${CIP} + ${v * VW}, ${lin(f.BT[c], range(n).map((q) => `e[${r}][${q}]`))});`),
      ),
      '}',
    ];
  };
  return `const long img = r / ${k.TH * k.NCH};
    const int ty = (int)(r / ${k.NCH} % ${k.TH}), ch = (int)(r % ${k.NCH});
    const int tx0 = ch * ${TC}, nt = ch == ${k.NCH - 1} ? ${k.LAST} : ${TC};
    const float* restrict xn = x + img * ${H * W * CI};
    for (int tl = 0; tl < nt; tl++) {
      const int tx = tx0 + tl;
${range(n * n)
  .map((q) => [Math.floor(q / n), q % n])
  .map(([r, c]) => `      const float* restrict d${r}_${c} = ${inside(r, c)} ? xn + ((long)(${row(r)}) * ${W} + ${col(c)}) * ${CI} : zero;`)
  .join('\n')}
${range(CIP / VW)
  .flatMap(vec)
  .map((l) => '      ' + l)
  .join('\n')}
    }`;
}

/** The sums of `rows` tiles for each position xi: the shared product (codegen-product.ts) in RB rows × all V
 *  vectors of cout, out[xi][row][·] (+)= Σ_k A(xi, row, k)·B(xi, k)[·], `k` over K. */
function positionProduct(k: Tiling, rows: number, t: Target, p: { K: number; a: (r: string) => string; b: string; out: (r: string, v: number) => string; accumulate: boolean }): string[] {
  const body = product(
    {
      rows,
      vecs: k.V,
      k: p.K,
      a: p.a,
      b: (_, v) => `${p.b} + ${v * k.VW}`,
      init: (r, v) => (p.accumulate ? `vload(${p.out(r, v)})` : '(vf){0}'),
      done: (r, v, acc) => `vstore(${p.out(r, v)}, ${acc});`,
    },
    t,
    { RB: k.RB, VB: k.V },
  );
  return [`for (int xi = 0; xi < ${k.P}; xi++) {`, ...body.map((l) => '  ' + l), '}'];
}

/** Both chunk lengths' products: the full chunk and the row's last. */
const bothChunks = (k: Tiling, sums: (rows: number) => string[]) =>
  k.LAST === k.TC
    ? sums(k.TC).map((l) => '    ' + l).join('\n')
    : `    if (nt == ${k.TC}) {
${sums(k.TC).map((l) => '      ' + l).join('\n')}
    } else {
${sums(k.LAST).map((l) => '      ' + l).join('\n')}
    }`;

export function winogradConv(name: string, g: ConvGeom, target: Target, gradInput: boolean, b: ForwardBlocking): KernelSource {
  if (g.k !== 3) throw new Error(`winograd F(m×m, 3×3) needs a 3×3 kernel, got k ${g.k}`);
  const t = blockingTarget(target, b);
  const f = minimal(b.winograd);
  const { h: H, w: W } = g;
  const [CI, CO] = gradInput ? [g.cout, g.cin] : [g.cin, g.cout];
  const k = tiling(H, W, CI, CO, t, f);
  const { VW, V, COP, CIP, TH, TC, NCH, n, P } = k;
  const m = f.m;
  const src = gradInput ? `((8 - tp) * ${CO} + o) * ${CI} + i` : `(tp * ${CI} + i) * ${CO} + o`;
  // M[xi][tile][·] = Σ_i Vt[xi][tile][i]·U[xi][i][·].
  const sums = (rows: number) =>
    positionProduct(k, rows, t, {
      K: CI,
      a: (r) => `Vt[(xi * ${TC} + ${r}) * ${CIP} + k]`,
      b: `U + (xi * ${CI} + k) * ${COP}`,
      out: (r, v) => `M + (xi * ${TC} + ${r}) * ${COP} + ${v * VW}`,
      accumulate: false,
    });
  const mAt = (r: number, c: number) => `vload(M + (${r * n + c} * ${TC} + tl) * ${COP} + v * ${VW})`;
  const out = (a: number, c: number) => `o${a}_${c}`;
  const store = (a: number, c: number) => {
    const px = `((long)(img * ${H} + ${m} * ty + ${a}) * ${W} + ${m} * tx + ${c}) * ${CO}`;
    return `if (${m} * ty + ${a} < ${H} && ${m} * tx + ${c} < ${W}) { const long at = ${px}; vf o = ${out(a, c)}; if (relu) o = vrelu(o); ${vectorTail('o', CO, VW)} }`;
  };
  const code = `static void k_${name}(void** p, const double* s) {
${FORWARD_ARGS}
  /* U[xi][i][o] = (G g Gᵀ)[xi] of the 3×3 kernel g from input channel i to output o (zero past ${CO}). */
  static const float G[${n}][3] = ${cMatrix(f.G)};
  float* restrict U = xalloc(sizeof(float) * ${P * CI * COP});
  float bp[${COP}] __attribute__((aligned(64)));
  for (int o = 0; o < ${COP}; o++) bp[o] = b && o < ${CO} ? b[o] : 0.f;
  for (int i = 0; i < ${CI}; i++)
    for (int o = 0; o < ${COP}; o++) {
      float gk[9], q[${n}][3];
      for (int tp = 0; tp < 9; tp++) gk[tp] = o < ${CO} ? w[${src}] : 0.f;
      for (int r = 0; r < ${n}; r++)
        for (int c = 0; c < 3; c++) q[r][c] = G[r][0] * gk[c] + G[r][1] * gk[3 + c] + G[r][2] * gk[6 + c];
      for (int r = 0; r < ${n}; r++)
        for (int c = 0; c < ${n}; c++) U[((r * ${n} + c) * ${CI} + i) * ${COP} + o] = q[r][0] * G[c][0] + q[r][1] * G[c][1] + q[r][2] * G[c][2];
    }
  static const float zero[${CIP}];
  /* Work items: (image, tile row, chunk of tiles), dynamic so a busy core does less of it. */
  #pragma omp parallel for schedule(dynamic, 1)
  for (long r = 0; r < n * ${TH * NCH}; r++) {
    float Vt[${P * TC * CIP}] __attribute__((aligned(64)));
    float M[${P * TC * COP}] __attribute__((aligned(64)));
    ${inputTransform(H, W, CI, f, k)}
${bothChunks(k, sums)}
    for (int tl = 0; tl < nt; tl++) {
      const int tx = tx0 + tl;
      for (int v = 0; v < ${V}; v++) {
        /* Aᵀ M A + b: column by column Aᵀ M into fa, then each row of fa times A. */
        const vf bv = vload(bp + v * ${VW});
        vf fa[${m}][${n}];
${range(n)
  .flatMap((c) => [
    `        { ${range(n).map((r) => `const vf m${r} = ${mAt(r, c)};`).join(' ')}`,
    ...range(m).map((a) => `          fa[${a}][${c}] = ${lin(f.AT[a], range(n).map((q) => `m${q}`))};`),
    '        }',
  ])
  .join('\n')}
${range(m)
  .flatMap((a) => range(m).map((c) => `        const vf ${out(a, c)} = ${lin(f.AT[c], range(n).map((q) => `fa[${a}][${q}]`))} + bv;`))
  .join('\n')}
${range(m)
  .flatMap((a) => range(m).map((c) => `        ${store(a, c)}`))
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
 * dg = Gᵀ[Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B)]G, so the sums run over tiles (the chunk's, then the chunks'),
 * input channels broadcast against dy's transformed cout vectors. Same call as convGradWeight (p = [x, dy,
 * dw], s = [n]); the work is cut into nchunks() bands with private sums added in band order.
 */
export function winogradGradWeight(name: string, g: ConvGeom, target: Target, b: GradWeightBlocking): KernelSource {
  if (g.k !== 3) throw new Error(`winograd F(m×m, 3×3) needs a 3×3 kernel, got k ${g.k}`);
  const t = blockingTarget(target, b);
  const f = minimal(b.winograd);
  const { h: H, w: W, cin: CI, cout: CO } = g;
  const k = tiling(H, W, CI, CO, t, f);
  const { VW, V, COP, CIP, TH, TC, NCH, n, P } = k;
  const m = f.m;
  const GU = P * CI * COP;
  const tail = CO - (V - 1) * VW;
  // acc[xi][i][·] += Σ_tile Vt[xi][tile][i]·Zt[xi][tile][·]: rows are input channels, the tiles the sum.
  const sums = (rows: number) =>
    positionProduct(k, CI, t, {
      K: rows,
      a: (r) => `Vt[(xi * ${TC} + k) * ${CIP} + ${r}]`,
      b: `Zt + (xi * ${TC} + k) * ${COP}`,
      out: (r, v) => `acc + (xi * ${CI} + ${r}) * ${COP} + ${v * VW}`,
      accumulate: true,
    });
  // dy's m×m outputs of a tile (zero past the image's edge), one cout vector each.
  const dyLoad = (a: number, c: number) => {
    const ptr = `dy + ((img * ${H} + ${m} * ty + ${a}) * ${W} + ${m} * tx + ${c}) * ${CO} + v * ${VW}`;
    const load = tail === VW ? `vload(${ptr})` : `(v < ${V - 1} ? vload(${ptr}) : vload_n(${ptr}, ${tail}))`;
    return `const vf y${a}_${c} = ${m} * ty + ${a} < ${H} && ${m} * tx + ${c} < ${W} ? ${load} : (vf){0};`;
  };
  // A dy Aᵀ: column by column A dy into h (A's rows are Aᵀ's columns), then each row of h times Aᵀ.
  const AcolT = (r: number) => f.AT.map((row) => row[r]);
  const code = `static void k_${name}(void** p, const double* s) {
  const float* restrict x = p[0];
  const float* restrict dy = p[1];
  float* restrict dw = p[2];
  const long items = (long)s[0] * ${TH * NCH}, nc = nchunks(items);
  static const float G[${n}][3] = ${cMatrix(f.G)};
  float* part = xalloc(sizeof(float) * ${GU} * nc);
  static const float zero[${CIP}];
  #pragma omp parallel for schedule(dynamic, 1)
  for (long c = 0; c < nc; c++) {
    float* restrict acc = part + c * ${GU};
    memset(acc, 0, sizeof(float) * ${GU});
    float Vt[${P * TC * CIP}] __attribute__((aligned(64)));
    float Zt[${P * TC * COP}] __attribute__((aligned(64)));
    for (long r = items * c / nc; r < items * (c + 1) / nc; r++) {
    ${inputTransform(H, W, CI, f, k)}
    for (int tl = 0; tl < nt; tl++) {
      const int tx = tx0 + tl;
      for (int v = 0; v < ${V}; v++) {
        vf h[${n}][${m}];
${range(m)
  .flatMap((c) => [
    `        { ${range(m).map((a) => dyLoad(a, c)).join(' ')}`,
    ...range(n).map((r) => `          h[${r}][${c}] = ${lin(AcolT(r), range(m).map((a) => `y${a}_${c}`))};`),
    '        }',
  ])
  .join('\n')}
${range(n)
  .flatMap((r) =>
    range(n).map((c) => `        vstore(Zt + (${r * n + c} * ${TC} + tl) * ${COP} + v * ${VW}, ${lin(AcolT(c), range(m).map((q) => `h[${r}][${q}]`))});`),
  )
  .join('\n')}
      }
    }
${bothChunks(k, sums)}
    }
  }
  /* The bands' sums in band order (into band 0's), then dw[ky][kx][i][o] = (Gᵀ S G)[ky][kx] of the sums S. */
  #pragma omp parallel for schedule(static)
  for (long e = 0; e < ${GU}; e += ${VW}) {
    vf sum = vload(part + e);
    for (long c = 1; c < nc; c++) sum += vload(part + c * ${GU} + e);
    vstore(part + e, sum);
  }
  #pragma omp parallel for schedule(static)
  for (int i = 0; i < ${CI}; i++)
    for (int o = 0; o < ${CO}; o++) {
      float sm[${n}][${n}], q[3][${n}];
      for (int xi = 0; xi < ${P}; xi++) sm[xi / ${n}][xi % ${n}] = part[(xi * ${CI} + i) * ${COP} + o];
      for (int ky = 0; ky < 3; ky++)
        for (int cc = 0; cc < ${n}; cc++) {
          float t = 0.f;
          for (int rr = 0; rr < ${n}; rr++) t += G[rr][ky] * sm[rr][cc];
          q[ky][cc] = t;
        }
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
          float t = 0.f;
          for (int cc = 0; cc < ${n}; cc++) t += q[ky][cc] * G[cc][kx];
          dw[((ky * 3 + kx) * ${CI} + i) * ${CO} + o] = t;
        }
    }
  free(part);
}
`;
  return { name, code, vw: t.vw };
}
