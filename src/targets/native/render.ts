// C for one fused stage (ir.ts StageNode), in the native backend's kernel family (glue.ts's vector types and
// calling convention). Layout and loop structure, and why:
//
// * Activations between stages are "row-planar": [H][C][WS] floats, WS = W rounded up to whole vectors, so a
//   vector holds VW neighbouring pixels of one channel. Vectorising across pixels instead of channels wastes
//   nothing on widths like M2 = 11 or 20 (a channel-vectorised kernel pads 20 to 32 lanes on AVX-512).
// * Each thread takes bands of output rows. For each term it keeps a ring of k rows of the term's conv input
//   (the chain's output, or a copy of its source with pad columns), each row [cin][RS] with one vector of
//   padding on both sides, so taps never need bounds checks. Advancing a row computes one new ring row: the
//   chain (1×1 convs) runs over tiles of TP pixels whose intermediates (the M1-wide expansion) stay in a
//   per-thread buffer, so they never reach memory.
// * The k×k conv's register block is OB output channels × PB pixel vectors, with each weight broadcast from
//   memory against PB input vectors (loads at ±r pixels are unaligned). The epilogue adds bias (at the
//   start), ReLU, the residual, and stores the row — or, for the final stage, depth-to-space with the +0.5
//   already in the bias, clamping and MATLAB rounding to uint8 (or float) straight into the output frame.
// Shapes are constants in the source, the frame size is not: one kernel serves every frame and tile size.
import type { KernelSource, Target } from '../../backends/native/glue.js';
import { blobLayout, type StageShape, type StageTuning } from '../../compiler/stage.js';
import { range } from '../../util/range.js';

/** Register block of a pointwise GEMM (1×1 conv) over pixel vectors: out[o][v] = b[o] + Σ_i w[i][o]·in[i][v]. */
function pointwiseBlock(O: number, P: number, cin: number, cout: number, relu: boolean): string[] {
  const acc = (o: number, p: number) => `a${o}_${p}`;
  return [
    '{',
    ...range(O).map((o) => `  vf ${range(P).map((p) => `${acc(o, p)} = vbroadcast(b[o0 + ${o}])`).join(', ')};`),
    `  for (int i = 0; i < ${cin}; i++) {`,
    '    const float* restrict xi = in + (long)i * ins + (long)v * VW;',
    '    const float* restrict wi = w + (long)i * ' + cout + ' + o0;',
    `    ${range(P).map((p) => `const vf x${p} = vload(xi + ${p} * VW);`).join(' ')}`,
    ...range(O).map((o) => `    ${range(P).map((p) => `${acc(o, p)} += x${p} * wi[${o}];`).join(' ')}`),
    '  }',
    ...range(O).map((o) => `  ${range(P).map((p) => `vstore(out + (long)(o0 + ${o}) * outs + (long)(v + ${p}) * VW, ${relu ? `vrelu(${acc(o, p)})` : acc(o, p)});`).join(' ')}`),
    '}',
  ];
}

/** Loops `block(O, P)` over output channels in blocks of ob (plus a remainder) and pixel vectors in blocks
 *  of pb (plus single vectors), in the given order. Loop variables: o0 (channel), v (vector). */
function blockedLoops(cout: number, obMax: number, pb: number, order: 'xo' | 'ox', block: (O: number, P: number) => string[]): string[] {
  // Balanced blocks: 20 channels with at most 6 per block run as 4 × 5, not 3 × 6 + 2.
  const ob = Math.ceil(cout / Math.ceil(cout / obMax));
  const full = Math.floor(cout / ob) * ob;
  const rem = cout - full;
  const oLoops = (P: number) => [
    ...(full > 0 ? [`for (int o0 = 0; o0 < ${full}; o0 += ${ob})`, ...block(ob, P)] : []),
    ...(rem > 0 ? ['{', `  const int o0 = ${full};`, ...block(rem, P).map((l) => '  ' + l), '}'] : []),
  ];
  if (order === 'xo')
    return [
      '{',
      '  int v = 0;',
      `  for (; v + ${pb} <= nv; v += ${pb}) {`,
      ...oLoops(pb).map((l) => '    ' + l),
      '  }',
      '  for (; v < nv; v++) {',
      ...oLoops(1).map((l) => '    ' + l),
      '  }',
      '}',
    ];
  const vLoops = (O: number) => [
    '{',
    '  int v = 0;',
    `  for (; v + ${pb} <= nv; v += ${pb})`,
    ...block(O, pb).map((l) => '  ' + l),
    '  for (; v < nv; v++)',
    ...block(O, 1).map((l) => '  ' + l),
    '}',
  ];
  return [
    ...(full > 0 ? [`for (int o0 = 0; o0 < ${full}; o0 += ${ob})`, ...vLoops(ob)] : []),
    ...(rem > 0 ? ['{', `  const int o0 = ${full};`, ...vLoops(rem).map((l) => '  ' + l), '}'] : []),
  ];
}

export function stageKernel(name: string, s: StageShape, tu: StageTuning, t: Target): KernelSource {
  const L = blobLayout(s);
  const COUT = s.cout;
  const SH = s.shuffle;
  const chainMax = (i: number) => Math.max(0, ...s.terms[i].chain.slice(0, -1).map((p) => p.cout));
  const rawT = s.io === 'u8' ? 'unsigned char' : 'float';
  const fromRaw = s.io === 'u8' ? '(float)(src[c] / 255.0)' : 'src[c]';

  const fns: string[] = [];
  // Pointwise GEMMs of every chain: in [cin][ins], out [cout][outs], nv vectors.
  s.terms.forEach((term, ti) =>
    term.chain.forEach((p, j) => {
      fns.push(
        `static inline void ${name}_pw${ti}_${j}(const float* restrict in, long ins, float* restrict out, long outs, int nv, const float* restrict w, const float* restrict b) {`,
        ...blockedLoops(p.cout, tu.cob, tu.cpb, 'xo', (O, P) => pointwiseBlock(O, P, p.cin, p.cout, p.relu)).map((l) => '  ' + l),
        '}',
      );
    }),
  );

  // Ring row fill for each term: row yy of the term's conv input into `row` ([cin][RS], data at +VW).
  s.terms.forEach((term, ti) => {
    const lt = L.terms[ti];
    const body: string[] = [];
    if (term.source === 'raw') {
      body.push(
        `  for (int x = 0; x < W; x++) {`,
        `    const ${rawT}* restrict src = raw + ((long)(fy0 + yy) * FW + fx0 + x) * 3;`,
        `    for (int c = 0; c < 3; c++) row[(long)c * RS + VW + x] = ${fromRaw};`,
        '  }',
      );
    } else if (term.chain.length === 0) {
      body.push(`  for (int c = 0; c < ${term.cin}; c++) memcpy(row + (long)c * RS + VW, src + ((long)yy * ${term.cin} + c) * WS, sizeof(float) * W);`);
    } else {
      const n = term.chain.length;
      body.push(
        `  const float* restrict x = src + (long)yy * ${term.chain[0].cin} * WS;`,
        `  for (int x0 = 0; x0 < WS; x0 += ${tu.tp}) {`,
        `    const int nv = (WS - x0 < ${tu.tp} ? WS - x0 : ${tu.tp}) / VW;`,
        ...term.chain.map((_, j) => {
          const inP = j === 0 ? 'x + x0, WS' : `tile${(j - 1) % 2}, ${tu.tp}`;
          const outP = j === n - 1 ? 'row + VW + x0, RS' : `tile${j % 2}, ${tu.tp}`;
          return `    ${name}_pw${ti}_${j}(${inP}, ${outP}, nv, wts + ${lt.chain[j].w}, wts + ${lt.chain[j].b});`;
        }),
        '  }',
      );
    }
    fns.push(
      `static void ${name}_fill${ti}(float* restrict row, int yy, const void* source, float* restrict tile0, float* restrict tile1, const float* restrict wts, int H, int W, long WS, long RS, const double* s) {`,
      `  const float pad = wts[${lt.pad}];`,
      '  if (yy < 0 || yy >= H) {',
      `    for (long e = 0; e < ${term.cin} * RS; e++) row[e] = pad;`,
      '    return;',
      '  }',
      term.source === 'raw'
        ? `  const ${rawT}* restrict raw = source; const long fx0 = (long)s[4], fy0 = (long)s[5], FW = (long)s[6];`
        : '  const float* restrict src = source;',
      ...body,
      // Pad columns: the vector left of the row and everything from W on (the chain also wrote lanes ≥ W).
      `  for (int c = 0; c < ${term.cin}; c++) {`,
      '    float* restrict r = row + (long)c * RS;',
      '    for (int e = 0; e < VW; e++) r[e] = pad;',
      '    for (long e = VW + W; e < RS; e++) r[e] = pad;',
      '  }',
      '}',
    );
  });

  // The k×k conv block over all terms, with its epilogue.
  const convBlock = (O: number, P: number): string[] => {
    const acc = (o: number, p: number) => `a${o}_${p}`;
    const out: string[] = ['{'];
    out.push(...range(O).map((o) => `  vf ${range(P).map((p) => `${acc(o, p)} = vbroadcast(wts[${L.bias} + o0 + ${o}])`).join(', ')};`));
    s.terms.forEach((term, ti) => {
      const K = term.k;
      const R = (K - 1) >> 1;
      out.push(
        `  for (int dy = 0; dy < ${K}; dy++) {`,
        `    const float* restrict rr = rows${ti}[dy] + (long)v * VW - ${R};`,
        `    const float* restrict wd = wts + ${L.terms[ti].w} + (long)dy * ${K * term.cin * COUT} + o0;`,
        `    for (int i = 0; i < ${term.cin}; i++) {`,
        '      const float* restrict ri = rr + (long)i * RS;',
        `      const float* restrict wi = wd + (long)i * ${COUT};`,
      );
      for (const dx of range(K)) {
        out.push(`      { ${range(P).map((p) => `const vf x${p} = vload(ri + ${dx + p * t.vw});`).join(' ')}`);
        out.push(...range(O).map((o) => `        ${range(P).map((p) => `${acc(o, p)} += x${p} * wi[${dx * term.cin * COUT + o}];`).join(' ')}`));
        out.push('      }');
      }
      out.push('    }', '  }');
    });
    for (const o of range(O)) {
      const line: string[] = [];
      for (const p of range(P)) {
        let e = acc(o, p);
        if (s.relu) e = `vrelu(${e})`;
        if (s.residual) e = `${e} + vload(resrow + (long)(o0 + ${o}) * WS + (long)(v + ${p}) * VW)`;
        line.push(`vstore(dst + (long)(o0 + ${o}) * WS + (long)(v + ${p}) * VW, ${e});`);
      }
      out.push('  ' + line.join(' '));
    }
    out.push('}');
    return out;
  };

  // Depth-to-space store of one computed row (dst = [COUT][WS]) into the output frame, columns kx0..kx1. For
  // uint8, each channel row is first rounded into a byte row by a loop gcc vectorises (8 doubles a vector):
  // fromFloat's rounding, exact because v·255 is exact in double; the interleave then only moves bytes.
  const T = s.io === 'u8' ? 'unsigned char' : 'float';
  const scatter =
    SH === 1
      ? []
      : [
          ...(s.io === 'u8'
            ? [
                `for (int o = 0; o < ${COUT}; o++) {`,
                '  const float* restrict r = dst + (long)o * WS;',
                '  unsigned char* restrict b = bytes + (long)o * WS;',
                '  for (int x = kx0; x < kx1; x++) {',
                '    const double t = (double)r[x] * 255.0;',
                '    b[x] = !(t > 0) ? 0 : t >= 254.5 ? 255 : (unsigned char)(int)(t + 0.5);',
                '  }',
                '}',
              ]
            : []),
          `for (int i = 0; i < ${SH}; i++) {`,
          `  ${T}* restrict o = (${T}*)outp + ((long)(fy0 + y) * ${SH} + i) * FW * ${SH * 3};`,
          '  for (int x = kx0; x < kx1; x++)',
          `    for (int j = 0; j < ${SH}; j++)`,
          '      for (int c = 0; c < 3; c++)',
          `        o[((long)(fx0 + x) * ${SH} + j) * 3 + c] = ${s.io === 'u8' ? 'bytes' : 'dst'}[(long)((c * ${SH} + i) * ${SH} + j) * WS + x];`,
          '}',
        ];

  const ringRows = (ti: number) => `${s.terms[ti].k} * ${s.terms[ti].cin} * RS`;
  const tileSize = (ti: number) => `${Math.max(1, chainMax(ti))} * ${tu.tp}`;
  const code = `${fns.join('\n')}
/* p = [term inputs…, residual|null, out, weights]; s = [H, W, threads, bands, fx0, fy0, FW, ky0, ky1, kx0, kx1]:
   an H×W window at (fx0, fy0) of a frame FW pixels wide; a shuffling stage computes rows ky0..ky1 and
   columns kx0..kx1 of the window only, writing them at their place in the output frame. */
static void k_${name}(void** p, const double* s) {
${s.terms.map((_, ti) => `  const void* in${ti} = p[${ti}];`).join('\n')}
  const float* restrict res = p[${s.terms.length}];
  void* outp = p[${s.terms.length + 1}];
  const float* restrict wts = p[${s.terms.length + 2}];
  const int H = (int)s[0], W = (int)s[1], nt = (int)s[2], bands = (int)s[3];
  const long WS = (W + VW - 1) / VW * VW;
  const int nv = (int)(WS / VW);
  const long RS = WS + 2 * VW; /* ring rows: one vector of padding either side */
  const int ya = ${SH > 1 ? '(int)s[7]' : '0'}, yb = ${SH > 1 ? '(int)s[8]' : 'H'};
  ${SH > 1 ? 'const int kx0 = (int)s[9], kx1 = (int)s[10]; const long fx0 = (long)s[4], fy0 = (long)s[5], FW = (long)s[6];' : ''}
  #pragma omp parallel num_threads(nt)
  {
${s.terms.map((_, ti) => `    float* ring${ti} = xalloc(sizeof(float) * ${ringRows(ti)});\n    float* tile${ti}a = xalloc(sizeof(float) * ${tileSize(ti)});\n    float* tile${ti}b = xalloc(sizeof(float) * ${tileSize(ti)});`).join('\n')}
    float* stile = ${SH > 1 ? `xalloc(sizeof(float) * ${COUT} * WS)` : 'NULL'};
    unsigned char* bytes = ${SH > 1 && s.io === 'u8' ? `xalloc(${COUT} * WS)` : 'NULL'};
    #pragma omp for schedule(dynamic, 1)
    for (int band = 0; band < bands; band++) {
      const int y0 = ya + (int)((long)(yb - ya) * band / bands), y1 = ya + (int)((long)(yb - ya) * (band + 1) / bands);
      for (int y = y0; y < y1; y++) {
${s.terms
  .map((term, ti) => {
    const K = term.k;
    const R = (K - 1) >> 1;
    return `        /* Term ${ti}: ring slot of row yy is (yy + ${R} + ${K} * H) % ${K}; the first row of a band fills all ${K}. */
        for (int yy = (y == y0 ? y - ${R} : y + ${R}); yy <= y + ${R}; yy++)
          ${name}_fill${ti}(ring${ti} + (long)((yy + ${R} + ${K} * H) % ${K}) * ${term.cin} * RS, yy, in${ti}, tile${ti}a, tile${ti}b, wts, H, W, WS, RS, s);
        const float* rows${ti}[${K}];
        for (int dy = 0; dy < ${K}; dy++) rows${ti}[dy] = ring${ti} + (long)((y + dy + ${K} * H) % ${K}) * ${term.cin} * RS + VW;`;
  })
  .join('\n')}
        float* restrict dst = ${SH > 1 ? 'stile' : '(float*)outp + (long)y * ' + COUT + ' * WS'};
        const float* restrict resrow = ${s.residual ? `res + (long)y * ${COUT} * WS` : 'NULL'};
${blockedLoops(COUT, tu.ob, tu.pb, tu.order, convBlock)
  .map((l) => '        ' + l)
  .join('\n')}
${scatter.map((l) => '        ' + l).join('\n')}
      }
    }
${s.terms.map((_, ti) => `    free(ring${ti}); free(tile${ti}a); free(tile${ti}b);`).join('\n')}
    free(stile);
    free(bytes);
  }
}
`;
  return { name, code };
}
