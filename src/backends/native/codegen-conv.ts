// Convolution kernels generated for one exact geometry (h, w, cin, cout, k baked in; the batch stays a
// runtime argument), so gcc sees constant trip counts and strides and keeps register blocks in registers.
// Channels are vectorised across `vw` lanes; a cout that is not a multiple of vw is padded in a packed copy
// of the weights and only the valid lanes are stored.
import type { KernelSource, Target } from './glue.js';
import { convChannelLoop, convRowLoop, FORWARD_ARGS } from './codegen-conv-loops.js';
import { blockingTarget, type ConvGeom, DEFAULT_FORWARD, defaultGradWeight, type ForwardBlocking, forwardPixels, type GradWeightBlocking, gradWeightLayout } from './conv-blocking.js';
import { packedBlock, packedScalars, packedSpans, pixelPack } from './codegen-pixel-pack.js';
import { range } from '../../util/range.js';
import { winogradConv, winogradGradWeight } from './codegen-winograd.js';

export type { ConvGeom } from './conv-blocking.js';

/** x-range of output pixels: `run` = a loop of full register blocks needing no bounds checks, `fixed` = one
 *  block at a known column whose out-of-image taps are dropped at generation time. */
type Span = { kind: 'run'; x0: number; blocks: number } | { kind: 'fixed'; x0: number; np: number };

function columnSpans(w: number, p: number, pad: number): Span[] {
  const spans: Span[] = [];
  let x = 0;
  for (; x < pad && x < w; x += Math.min(p, w - x)) spans.push({ kind: 'fixed', x0: x, np: Math.min(p, w - x) });
  const blocks = Math.max(0, Math.floor((w - pad - x) / p));
  if (blocks > 0) spans.push({ kind: 'run', x0: x, blocks });
  for (x += blocks * p; x < w; x += Math.min(p, w - x)) spans.push({ kind: 'fixed', x0: x, np: Math.min(p, w - x) });
  return spans;
}

/** Stores accumulator `acc` (vector v of a cout row at `ptr`), masking the padded tail vector. */
function store(ptr: string, acc: string, v: number, co: number, vw: number): string {
  const n = co - v * vw;
  return n >= vw ? `vstore(${ptr} + ${v * vw}, ${acc});` : `vstore_n(${ptr} + ${v * vw}, ${acc}, ${n});`;
}

/** `acc += ` the same vector of the tensor at `ptr`, masked like store(). */
function addFrom(ptr: string, acc: string, v: number, co: number, vw: number): string {
  const n = co - v * vw;
  return `${acc} += ${n >= vw ? `vload(${ptr} + ${v * vw})` : `vload_n(${ptr} + ${v * vw}, ${n})`};`;
}

/**
 * Direct convolution, p = [x, w, b|null, y, add|null], s = [n, relu]: y = relu?(conv) + add (a residual
 * summed in the store); Winograd's instead where the blocking says so (codegen-winograd.ts). With
 * `gradInput` it computes dx from dy instead: the same convolution over dy with the kernel flipped in space and transposed in channels,
 * w'[ky,kx,o,i] = w[k-1-ky,k-1-kx,i,o], done while packing the weights.
 * Register block: P output pixels × all cout vectors, each x value broadcast against each weight vector
 * (conv-blocking.ts: P, and whether pixel packing applies, are the tuner's choices).
 */
export function convForward(name: string, g: ConvGeom, target: Target, gradInput: boolean, b: ForwardBlocking = DEFAULT_FORWARD): KernelSource {
  if (b.winograd) return winogradConv(name, g, target, gradInput, b);
  const t = blockingTarget(target, b);
  const { h: H, w: W, k: K } = g;
  const [CI, CO] = gradInput ? [g.cout, g.cin] : [g.cin, g.cout];
  const PAD = (K - 1) >> 1;
  const VW = t.vw;
  const pack = b.packing ? pixelPack(CO, CI, VW, t.nreg) : null;
  const V = pack ? pack.U : Math.ceil(CO / VW);
  const COP = V * VW;
  // Padded: P·V accumulators + P broadcasts + 1 weight vector must fit the register file. Packed: whole groups.
  const P = pack ? pack.NG * pack.G : forwardPixels(W, V, t.nreg, b);
  // The weight (and bias) for packed output lane o: channel o mod CO (packed, periodic) or o (padded, o < CO).
  const oc = pack ? `o % ${CO}` : 'o';
  const src = gradInput ? `((${K * K - 1} - t) * ${CO} + ${oc}) * ${CI} + i` : `(t * ${CI} + i) * ${CO} + ${oc}`;

  const block = (x0: string, np: number, fixedX0: number | null): string[] => {
    const valid = (j: number, kx: number) => {
      if (fixedX0 === null) return true;
      const ix = fixedX0 + j + kx - PAD;
      return ix >= 0 && ix < W;
    };
    const acc = (j: number, v: number) => `a${j}_${v}`;
    const out: string[] = ['{'];
    for (const j of range(np)) out.push(`  vf ${range(V).map((v) => `${acc(j, v)} = vload(bp + ${v * VW})`).join(', ')};`);
    out.push(...convRowLoop(K, PAD, H, W, CI, COP, x0));
    for (const kx of range(K)) {
      const js = range(np).filter((j) => valid(j, kx));
      if (js.length === 0) continue;
      out.push(...convChannelLoop(kx, CI, COP, P));
      for (const j of js) out.push(`      const float xb${j} = xr[${(j + kx - PAD) * CI} + i];`);
      for (const v of range(V)) {
        out.push(`      { const vf wv = vload(wi + ${v * VW});`);
        out.push(`        ${js.map((j) => `${acc(j, v)} += xb${j} * wv;`).join(' ')} }`);
      }
      out.push('    }');
    }
    out.push('  }');
    const all = range(np).flatMap((j) => range(V).map((v) => acc(j, v)));
    out.push(`  if (relu) { ${all.map((a) => `${a} = vrelu(${a});`).join(' ')} }`);
    const rowAt = (j: number) => `(long)(${x0} + ${j}) * ${CO}`;
    out.push(`  if (ar) { ${range(np).flatMap((j) => range(V).map((v) => addFrom(`ar + ${rowAt(j)}`, acc(j, v), v, CO, VW))).join(' ')} }`);
    for (const j of range(np))
      out.push(`  ${range(V).map((v) => store(`yr + (long)(${x0} + ${j}) * ${CO}`, acc(j, v), v, CO, VW)).join(' ')}`);
    out.push('}');
    return out;
  };

  const packed = (x0: string, np: number, fixedX0: number | null) =>
    packedBlock({ pack: pack!, x0, fixedX0, np, K, PAD, H, W, CI, CO, vw: VW });
  const gen = pack ? packed : block;
  const body: string[] = [];
  for (const s of pack ? packedSpans(W, P, PAD, pack.G) : columnSpans(W, P, PAD)) {
    if (s.kind === 'fixed') body.push(...gen(String(s.x0), s.np, s.x0));
    else body.push(`for (int x0 = ${s.x0}; x0 < ${s.x0 + s.blocks * P}; x0 += ${P})`, ...gen('x0', P, null));
  }

  const code = `static void k_${name}(void** p, const double* s) {
${FORWARD_ARGS}
  float* restrict wp = xalloc(sizeof(float) * ${K * K * CI * COP});
  float bp[${COP}] __attribute__((aligned(64)));
  for (int o = 0; o < ${COP}; o++) bp[o] = b && ${pack ? 1 : `o < ${CO}`} ? b[${oc}] : 0.f;
  for (int t = 0; t < ${K * K}; t++)
    for (int i = 0; i < ${CI}; i++)
      for (int o = 0; o < ${COP}; o++) wp[(t * ${CI} + i) * ${COP} + o] = ${pack ? 1 : `o < ${CO}`} ? w[${src}] : 0.f;
  /* Dynamic chunks of rows: a thread sharing its core with another process does less of the work. */
  const long chunk = n * ${H} / 64 > 1 ? n * ${H} / 64 : 1;
  #pragma omp parallel for schedule(dynamic, chunk)
  for (long r = 0; r < n * ${H}; r++) {
    const int yy = (int)(r % ${H});
    const float* restrict xi = x + (r - yy) * ${W * CI};
    float* restrict yr = y + r * ${W * CO};
    const float* restrict ar = add ? add + r * ${W * CO} : 0;
${body.map((l) => '    ' + l).join('\n')}
  }
  free(wp);
}
`;
  return { name, code, vw: t.vw };
}

/**
 * dw[ky,kx,i,o] = Σ_pixels x[pixel shifted by the tap, i]·dy[pixel, o]; p = [x, dy, dw], s = [n].
 * dy fills the vector lanes (cout), x values are broadcast. Rows are cut into nchunks() bands, each with a
 * private padded dw; a band is walked in tiles small enough to stay in L1/L2 while every register block
 * (TC taps × IB channels × cout) sweeps the tile, so the tensors are read from memory once. The private dws
 * are summed in band order. The blocking (conv-blocking.ts) is the tuner's choice.
 * (Swapping the roles when cin fills the lanes better, e.g. 144→20, was slower: the x vectors are then
 * loaded once per tap and, typed arrays being unaligned, every such load splits across two cache lines.)
 */
export function convGradWeight(name: string, g: ConvGeom, target: Target, b: GradWeightBlocking = defaultGradWeight(g, target)): KernelSource {
  if (b.winograd) return winogradGradWeight(name, g, target, b);
  const t = blockingTarget(target, b);
  const { h: H, w: W, k: K, cin: CI, cout: CO } = g;
  const PAD = (K - 1) >> 1;
  const VW = t.vw;
  // Pixel-packed (codegen-pixel-pack.ts): G pixels' dy rows are U whole vectors, lane l accumulating channel
  // l mod CO of pixel ⌊l / CO⌋ of the group; the G phases are summed at the end.
  const { pack, G, V } = gradWeightLayout(g, t, b.packing);
  const COP = V * VW;
  const [TC, IB, R] = [b.taps, b.channels, b.rows];
  const DWP = K * K * CI * COP;

  const block = (kx0: number, tc: number, i0: string, ib: number): string[] => {
    const acc = (tp: number, ii: number, v: number) => `a${tp}_${ii}_${v}`;
    const all = range(tc).flatMap((tp) => range(ib).flatMap((ii) => range(V).map((v) => [tp, ii, v] as const)));
    const at = (tp: number, ii: number, v: number) => `ab + ${(tp * CI + ii) * COP + v * VW}`;
    const pixel = (xx: string, taps: number[]): string[] => [
      '{',
      `  const float* restrict d = dr + (long)(${xx}) * ${CO};`,
      `  const float* restrict xp = xr + (long)(${xx}) * ${CI};`,
      // With pixels of a cache line or more, each block reads a new line per pixel: fetch a few pixels ahead.
      ...(xx === 'xx' && CI >= 16 ? [`  __builtin_prefetch(xp + ${8 * CI});`] : []),
      `  ${range(V).map((v) => `const vf d${v} = ${CO - v * VW >= VW ? `vload(d + ${v * VW})` : `vload_n(d + ${v * VW}, ${CO - v * VW})`};`).join(' ')}`,
      ...taps.flatMap((tp) =>
        range(ib).map(
          (ii) =>
            `  { const float xv = xp[${(kx0 + tp - PAD) * CI + ii}]; ${range(V).map((v) => `${acc(tp, ii, v)} += xv * d${v};`).join(' ')} }`,
        ),
      ),
      '}',
    ];
    const tapsAt = (xx: number) => range(tc).filter((tp) => xx + kx0 + tp - PAD >= 0 && xx + kx0 + tp - PAD < W);
    // Pixels where every tap of the chunk is inside the image run in a loop; the few others are unrolled.
    const xl = Math.max(0, PAD - kx0);
    const xe = Math.min(W, W + PAD - (kx0 + tc - 1));
    const edge = range(W).filter((xx) => xl >= xe || xx < xl || xx >= xe);
    // Packed: groups start at multiples of G; those with every pixel's every tap inside the row run in a loop,
    // the others are unrolled with out-of-row pixels and taps reading 0 (a virtual pixel's dy lanes too).
    const group = (gx: string, fixed: number | null): string[] => {
      const inRow = (j: number, tp: number) => {
        if (fixed === null) return true;
        const ix = fixed + j + kx0 + tp - PAD;
        return fixed + j < W && ix >= 0 && ix < W;
      };
      const lanes = (u: number) => (fixed === null ? VW : Math.max(0, Math.min(VW, (W - fixed) * CO - u * VW)));
      const out = [
        '{',
        `  const float* restrict d = dr + (long)(${gx}) * ${CO};`,
        `  const float* restrict xp = xr + (long)(${gx}) * ${CI};`,
        `  ${range(V).map((u) => `const vf d${u} = ${lanes(u) === VW ? `vload(d + ${u * VW})` : lanes(u) > 0 ? `vload_n(d + ${u * VW}, ${lanes(u)})` : '(vf){0}'};`).join(' ')}`,
      ];
      for (const tp of range(tc)) {
        if (!range(G).some((j) => inRow(j, tp))) continue;
        for (const ii of range(ib)) {
          const xs = range(G).map((j) => `const float x${j} = ${inRow(j, tp) ? `xp[${(j + kx0 + tp - PAD) * CI + ii}]` : '0.f'};`);
          out.push(`  { ${xs.join(' ')} ${range(V).map((u) => `${acc(tp, ii, u)} += ${packedScalars(u, VW, CO, (j) => `x${j}`)} * d${u};`).join(' ')} }`);
        }
      }
      out.push('}');
      return out;
    };
    const packedWalk = (): string[] => {
      const ga = Math.ceil(xl / G) * G;
      const n = xl < xe ? Math.max(0, Math.floor((xe - ga) / G)) : 0;
      const starts = range(Math.ceil(W / G)).map((q) => q * G).filter((gx) => n === 0 || gx < ga || gx >= ga + n * G);
      return [
        ...(n > 0 ? [`    for (int gx = ${ga}; gx < ${ga + n * G}; gx += ${G})`, ...group('gx', null).map((l) => '    ' + l)] : []),
        ...starts.flatMap((gx) => group(String(gx), gx).map((l) => '    ' + l)),
      ];
    };
    return [
      '{',
      `  float* restrict ab = acc + ((long)(ky * ${K} + ${kx0}) * ${CI} + ${i0}) * ${COP};`,
      ...all.map(([tp, ii, v]) => `  vf ${acc(tp, ii, v)} = vload(${at(tp, ii, v)});`),
      '  for (long r = rt; r < re; r++) {',
      `    const int yy = (int)(r % ${H});`,
      `    const int iy = yy + ky - ${PAD};`,
      `    if (iy < 0 || iy >= ${H}) continue;`,
      `    const float* restrict dr = dy + r * ${W * CO};`,
      `    const float* restrict xr = x + (r - yy + iy) * ${W * CI} + ${i0};`,
      ...(pack ? packedWalk() : [
        ...(xl < xe ? [`    for (int xx = ${xl}; xx < ${xe}; xx++)`, ...pixel('xx', range(tc)).map((l) => '    ' + l)] : []),
        ...edge.flatMap((xx) => {
          const taps = tapsAt(xx);
          return taps.length ? pixel(String(xx), taps).map((l) => '    ' + l) : [];
        }),
      ]),
      '  }',
      ...all.map(([tp, ii, v]) => `  vstore(${at(tp, ii, v)}, ${acc(tp, ii, v)});`),
      '}',
    ];
  };

  const body: string[] = [];
  const IBFULL = Math.floor(CI / IB) * IB;
  for (let kx0 = 0; kx0 < K; kx0 += TC) {
    const tc = Math.min(TC, K - kx0);
    if (IBFULL > 0) body.push(`for (int i0 = 0; i0 < ${IBFULL}; i0 += ${IB})`, ...block(kx0, tc, 'i0', IB));
    if (IBFULL < CI) body.push(...block(kx0, tc, String(IBFULL), CI - IBFULL));
  }

  const code = `static void k_${name}(void** p, const double* s) {
  const float* restrict x = p[0];
  const float* restrict dy = p[1];
  float* restrict dw = p[2];
  const long rows = (long)s[0] * ${H}, nc = nchunks(rows);
  float* part = xalloc(sizeof(float) * ${DWP} * nc);
  #pragma omp parallel for schedule(dynamic, 1)
  for (long c = 0; c < nc; c++) {
    float* restrict acc = part + c * ${DWP};
    memset(acc, 0, sizeof(float) * ${DWP});
    const long r1 = rows * (c + 1) / nc;
    for (long rt = rows * c / nc; rt < r1; rt += ${R}) {
      const long re = rt + ${R} < r1 ? rt + ${R} : r1;
      for (int ky = 0; ky < ${K}; ky++) {
${body.map((l) => '        ' + l).join('\n')}
      }
    }
  }
  #pragma omp parallel for schedule(static) if(${K * K * CI * CO} >= 4096)
  for (long e = 0; e < ${K * K * CI}; e++)
    for (int o = 0; o < ${CO}; o++) {
      float sum = 0.f;
      for (long c = 0; c < nc; c++)
        for (int j = 0; j < ${G}; j++) sum += part[c * ${DWP} + e * ${COP} + j * ${CO} + o];
      dw[e * ${CO} + o] = sum;
    }
  free(part);
}
`;
  return { name, code, vw: t.vw };
}
