// C for one fused stage (ir.ts StageNode) as functions a segment kernel (segment.ts) calls row by row, in the
// native backend's kernel family (glue.ts's vector types). Layout and loop structure, and why:
//
// * Activations between stages are "row-planar": [H][C][WS] floats, WS = W rounded up to whole vectors, so a
//   vector holds VW neighbouring pixels of one channel. Vectorising across pixels instead of channels wastes
//   nothing on widths like M2 = 11 or 20 (a channel-vectorised kernel pads 20 to 32 lanes on AVX-512).
// * For each term a thread keeps a ring of k rows of the term's conv input (the chain's output, or a copy of
//   its source with pad columns), each row [cin][RS] with one vector of padding on both sides, so taps never
//   need bounds checks. Advancing a row computes one new ring row (`fill`): the chain (1×1 convs) runs over
//   tiles of TP pixels whose intermediates (the M1-wide expansion) stay in a per-thread buffer, so they never
//   reach memory.
// * The k×k conv's register block is OB output channels × PB pixel vectors, with each weight broadcast from
//   memory against PB input vectors (loads at ±r pixels are unaligned). The epilogue adds bias (at the
//   start), ReLU, the residual, and stores the row (`out`) — for the final stage into a row buffer that
//   `store` moves into the output frame: depth-to-space with the +0.5 already in the bias, clamping and
//   MATLAB rounding to uint8 (or float).
// Shapes are constants in the source, the frame size is not: one kernel serves every frame and tile size.
import type { Target } from '../../backends/native/glue.js';
import { blobLayout, residualChannels, type StageShape, type StageTuning } from '../../compiler/stage.js';
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

/** A stage's tuning on the native target: the blocking every target searches (compiler/stage.ts) and what only
 *  C on this CPU chooses. Every value computes the same floats: only speed changes. */
export interface NativeTuning extends StageTuning {
  /** Floats per vector of the stage's code: the CPU's widest, or on AVX-512 8 (256-bit code runs as fast where
   *  the CPU has one 512-bit FMA unit, and some clock higher with it). */
  readonly lanes: number;
  /** The vector width gcc prefers for the loops it vectorises itself (the frame's conversions and stores):
   *  its choice for this CPU (null), or 512 bits (gcc 12 prefers 256 on Intel's AVX-512 cores). */
  readonly pvw: 512 | null;
  /** Whether the output row's conv is inlined into the segment's row function or called: gcc allocates its
   *  registers differently, and which wins differs by stage and has flipped with unrelated changes to the
   *  driver (Zen 5, gcc 12, one thread, scripts/bench-tunings.mjs: wdsr-b-x2's blocks 12.2 ms inlined, 13.7
   *  called; its tail once 9.9 inlined and 6.8 called, now level), so it is measured. */
  readonly inline: boolean;
}

/** What a segment needs to know of a stage's functions: per term, floats of its ring and of each chain tile. */
export function stageScratch(s: StageShape, tu: StageTuning): { ring: string; tile: number }[] {
  return s.terms.map((t) => ({ ring: `${t.k} * ${t.cin} * RS`, tile: Math.max(1, ...t.chain.slice(0, -1).map((p) => p.cout)) * tu.tp }));
}

/**
 * The functions of one stage kernel `name`, for every segment that runs it:
 * `name_fill<t>(row, yy, source, tile0, tile1, wts, H, W, WS, RS, s)` computes ring row yy of term t from its
 * source (the raw frame, or row yy of a planar value: [cin][WS]); `name_out(rows0…, resrow, dst, wts, nv, WS,
 * RS)` computes one output row from the rings (`rows<t>[dy]`: the term's ring rows, data at +VW); and for a
 * shuffling stage `name_store(dst, bytes, outp, y, s, WS)` moves that row into the output frame.
 */
export function stageFunctions(name: string, s: StageShape, tu: NativeTuning, t: Target): string {
  return withOptions(withLanes(stageCode(name, s, tu, t), tu.lanes, t), tu.pvw);
}

/** `code` at `lanes` floats a vector: glue.ts's vector type and helpers are VW's, so narrower code gets its own
 *  (once per module) and is compiled with the names and VW renamed to them. */
function withLanes(code: string, lanes: number, t: Target): string {
  if (lanes === t.vw) return code;
  const names = ['vf', 'vi', 'vload', 'vstore', 'vrelu', 'vbroadcast'];
  return [
    `#ifndef RTSR_LANES_${lanes}`,
    `#define RTSR_LANES_${lanes}`,
    `typedef float vf${lanes} __attribute__((vector_size(${4 * lanes}), aligned(4)));`,
    `typedef int vi${lanes} __attribute__((vector_size(${4 * lanes}), aligned(4)));`,
    `static inline vf${lanes} vload${lanes}(const float* p) { return *(const vf${lanes}*)p; }`,
    `static inline void vstore${lanes}(float* p, vf${lanes} v) { *(vf${lanes}*)p = v; }`,
    `static inline vf${lanes} vrelu${lanes}(vf${lanes} a) { return (vf${lanes})((vi${lanes})a & (a > (vf${lanes}){0})); }`,
    `static inline vf${lanes} vbroadcast${lanes}(float a) { return (vf${lanes}){0} + a; }`,
    '#endif',
    '#undef VW',
    `#define VW ${lanes}`,
    ...names.map((n) => `#define ${n} ${n}${lanes}`),
    code,
    ...names.map((n) => `#undef ${n}`),
    '#undef VW',
    `#define VW ${t.vw}`,
    '',
  ].join('\n');
}

/** `code` compiled with gcc's preferred vector width set (x86 gcc's target pragma; the tuner offers it only on
 *  AVX-512). */
function withOptions(code: string, pvw: 512 | null): string {
  if (pvw === null) return code;
  return ['#pragma GCC push_options', `#pragma GCC target("prefer-vector-width=${pvw}")`, code, '#pragma GCC pop_options', ''].join('\n');
}

/** (float)(b / 255.0) for every byte b, once per module; 9 significant digits give back the exact float. */
const U8_FLOAT = [
  '#ifndef RTSR_U8_FLOAT',
  '#define RTSR_U8_FLOAT',
  `static const float rtsr_u8_float[256] = { ${Array.from({ length: 256 }, (_, b) => `${Math.fround(b / 255).toPrecision(9)}f`).join(', ')} };`,
  '#endif',
].join('\n');

function stageCode(name: string, s: StageShape, tu: NativeTuning, t: Target): string {
  const rp = t.vw; // ring rows hold one of the CPU's vectors of padding either side, whatever the stage's lanes
  const L = blobLayout(s);
  const COUT = s.cout;
  const RC = residualChannels(s);
  const SH = s.shuffle;
  const rawT = s.io === 'u8' ? 'unsigned char' : 'float';
  // A byte b becomes (float)(b / 255.0), as toFloat: looked up, not divided (a division per byte cost the
  // uint8 head and tail a fifth of their time).
  const fromRaw = s.io === 'u8' ? 'rtsr_u8_float[src[c]]' : 'src[c]';

  // Inlining is fixed, not left to gcc: a segment calls a stage's functions from one row function per stage
  // using them (three for three equal blocks), and gcc's choices then changed with that count — at one point
  // the same block ran 20 % slower in a five-stage plan than alone (12.3 against 10.4 ms).
  const fns: string[] = s.io === 'u8' && s.terms.some((x) => x.source === 'raw') ? [U8_FLOAT] : [];
  // Pointwise GEMMs of every chain: in [cin][ins], out [cout][outs], nv vectors.
  s.terms.forEach((term, ti) =>
    term.chain.forEach((p, j) => {
      fns.push(
        `static inline __attribute__((always_inline)) void ${name}_pw${ti}_${j}(const float* restrict in, long ins, float* restrict out, long outs, int nv, const float* restrict w, const float* restrict b) {`,
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
        `    for (int c = 0; c < 3; c++) row[(long)c * RS + ${rp} + x] = ${fromRaw};`,
        '  }',
      );
    } else if (term.chain.length === 0) {
      body.push(`  for (int c = 0; c < ${term.cin}; c++) memcpy(row + (long)c * RS + ${rp}, src + (long)c * WS, sizeof(float) * W);`);
    } else {
      const n = term.chain.length;
      body.push(
        `  for (int x0 = 0; x0 < WS; x0 += ${tu.tp}) {`,
        `    const int nv = (WS - x0 < ${tu.tp} ? WS - x0 : ${tu.tp}) / VW;`,
        ...term.chain.map((_, j) => {
          const inP = j === 0 ? 'src + x0, WS' : `tile${(j - 1) % 2}, ${tu.tp}`;
          const outP = j === n - 1 ? `row + ${rp} + x0, RS` : `tile${j % 2}, ${tu.tp}`;
          return `    ${name}_pw${ti}_${j}(${inP}, ${outP}, nv, wts + ${lt.chain[j].w}, wts + ${lt.chain[j].b});`;
        }),
        '  }',
      );
    }
    fns.push(
      `static __attribute__((noinline)) void ${name}_fill${ti}(float* restrict row, int yy, const void* source, float* restrict tile0, float* restrict tile1, const float* restrict wts, int H, int W, long WS, long RS, const double* s) {`,
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
      `    for (int e = 0; e < ${rp}; e++) r[e] = pad;`,
      `    for (long e = ${rp} + W; e < RS; e++) r[e] = pad;`,
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
        out.push(`      { ${range(P).map((p) => `const vf x${p} = vload(ri + ${dx + p * tu.lanes});`).join(' ')}`);
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
        const rc = RC === COUT ? `o0 + ${o}` : `(o0 + ${o}) % ${RC}`;
        if (s.residual) e = `${e} + vload(resrow + (long)(${rc}) * WS + (long)(v + ${p}) * VW)`;
        line.push(`vstore(dst + (long)(o0 + ${o}) * WS + (long)(v + ${p}) * VW, ${e});`);
      }
      out.push('  ' + line.join(' '));
    }
    out.push('}');
    return out;
  };
  fns.push(
    `static ${tu.inline ? "inline __attribute__((always_inline))" : "__attribute__((noinline))"} void ${name}_out(${s.terms.map((_, ti) => `const float* const* rows${ti}, `).join('')}const float* restrict resrow, float* restrict dst, const float* restrict wts, long WS, long RS) {`,
    '  const int nv = (int)(WS / VW);',
    ...(s.residual ? [] : ['  (void)resrow;']),
    ...blockedLoops(COUT, tu.ob, tu.pb, tu.order, convBlock).map((l) => '  ' + l),
    '}',
  );

  // Depth-to-space store of one computed row (dst = [COUT][WS]) into the output frame, columns kx0..kx1. For
  // uint8, each channel row is first rounded into a byte row by a loop gcc vectorises (8 doubles a vector):
  // fromFloat's rounding, exact because v·255 is exact in double; the interleave then only moves bytes.
  if (SH > 1) {
    const T = s.io === 'u8' ? 'unsigned char' : 'float';
    fns.push(
      `static void ${name}_store(const float* restrict dst, unsigned char* restrict bytes, void* outp, int y, const double* s, long WS) {`,
      '  const long fx0 = (long)s[4], fy0 = (long)s[5], FW = (long)s[6];',
      '  const int kx0 = (int)s[9], kx1 = (int)s[10];',
      ...(s.io === 'u8'
        ? [
            `  for (int o = 0; o < ${COUT}; o++) {`,
            '    const float* restrict r = dst + (long)o * WS;',
            '    unsigned char* restrict b = bytes + (long)o * WS;',
            '    for (int x = kx0; x < kx1; x++) {',
            '      const double t = (double)r[x] * 255.0;',
            '      b[x] = !(t > 0) ? 0 : t >= 254.5 ? 255 : (unsigned char)(int)(t + 0.5);',
            '    }',
            '  }',
          ]
        : ['  (void)bytes;']),
      `  for (int i = 0; i < ${SH}; i++) {`,
      `    ${T}* restrict o = (${T}*)outp + ((long)(fy0 + y) * ${SH} + i) * FW * ${SH * 3};`,
      '    for (int x = kx0; x < kx1; x++)',
      `      for (int j = 0; j < ${SH}; j++)`,
      '        for (int c = 0; c < 3; c++)',
      `          o[((long)(fx0 + x) * ${SH} + j) * 3 + c] = ${s.io === 'u8' ? 'bytes' : 'dst'}[(long)((c * ${SH} + i) * ${SH} + j) * WS + x];`,
      '  }',
      '}',
    );
  }
  return fns.join('\n') + '\n';
}
