// WGSL for one fused stage (compiler/ir.ts StageNode, shape and weight blob from compiler/stage.ts), on the
// schedule of schedule.ts. Per workgroup and term: every thread takes halo pixels of the tile in turn and writes
// the term's conv input there into workgroup memory — a raw frame pixel, a previous stage's channels, or the
// 1×1 chain run on that pixel in private memory, so the wide M1 tensor never reaches a buffer; then each thread
// accumulates its pixel's OB channels over the k×k taps. The epilogue adds ReLU and the residual and stores
// a planar activation, or (the frame stage) gathers the depth-to-space output in workgroup memory and stores
// floats or MATLAB-rounded bytes, four to a word.
//
// Buffers: frames are HWC over the window only (uint8 packed four bytes to a u32, little-endian, as a byte
// array reads); activations between stages are channel-planar [C][H][W] f32 over the window, so a halo row
// is read by neighbouring threads from neighbouring addresses. Frame and window sizes are uniforms: one
// pipeline serves every frame and tile size.
import { blobLayout, residualChannels, type StageShape } from '../../compiler/stage.js';
import type { Precision } from '../target.js';
import { type GpuTuning, workgroupOf } from './schedule.js';
import { range } from '../../util/range.js';

/** f32 literals of b/255 rounded to f32: the frame conversion is a table lookup, not a GPU division (whose
 *  result WGSL allows to be 2.5 ulp off), so a byte becomes the same float as on the reference target. */
const U8_TABLE = `const U8 = array<f32, 256>(${range(256)
  .map((b) => `${Math.fround(b / 255)}f`)
  .join(', ')});`;

/** Binding numbers: params, weights, the terms' inputs, the residual (if any), the output. */
export function bindings(s: StageShape): { params: 0; weights: 1; inputs: number[]; residual: number | null; out: number } {
  const inputs = s.terms.map((_, i) => 2 + i);
  const residual = s.residual ? 2 + s.terms.length : null;
  return { params: 0, weights: 1, inputs, residual, out: 2 + s.terms.length + (s.residual ? 1 : 0) };
}

/** Floats past the blob's end that the last channel group may read (its weights and bias past cout). */
export function blobPadding(s: StageShape, t: GpuTuning): number {
  const g = workgroupOf(s, t);
  return g.groups * g.ob - s.cout;
}

export function stageWgsl(s: StageShape, t: GpuTuning, p: Precision = 'f32'): string {
  const L = blobLayout(s);
  const g = workgroupOf(s, t);
  const B = bindings(s);
  const { tw: TW, th: TH } = t;
  const OB = g.ob;
  const COUT = s.cout;
  const RC = residualChannels(s);
  const S = s.shuffle;
  const frameT = s.io === 'u8' ? 'u32' : 'f32';
  const acc = (j: number) => `a${j}`;
  const lines: string[] = [];
  const emit = (...l: string[]) => lines.push(...l);

  emit(
    // Weights, activations and workgroup memory are stored as `elem`; arithmetic is f32 (loads widen, stores
    // narrow: no-ops in f32), so f16 halves memory traffic without summing in 11-bit precision.
    ...(p === 'f16' ? ['enable f16;'] : []),
    `alias elem = ${p};`,
    // The computed region (x0, y0, rw, rh) of the h×w window: all of it, or a frame stage's kept part.
    'struct Params { h: u32, w: u32, x0: u32, y0: u32, rw: u32, rh: u32, ostride: u32, unused: u32 }',
    `@group(0) @binding(${B.params}) var<uniform> P: Params;`,
    `@group(0) @binding(${B.weights}) var<storage, read> wts: array<elem>;`,
    ...s.terms.map((x, i) => `@group(0) @binding(${B.inputs[i]}) var<storage, read> in${i}: array<${x.source === 'raw' ? frameT : 'elem'}>;`),
    ...(B.residual === null ? [] : [`@group(0) @binding(${B.residual}) var<storage, read> res: array<elem>;`]),
    `@group(0) @binding(${B.out}) var<storage, read_write> outp: array<${S > 1 ? frameT : 'elem'}>;`,
    `var<workgroup> smem: array<elem, ${g.smem}>;`,
  );
  if (s.terms.some((x) => x.source === 'raw') && s.io === 'u8') emit(U8_TABLE);
  if (S > 1 && s.io === 'u8')
    emit(
      // fromFloat's rounding (image.ts clampByte) on t = v·255 in f32: at x.5 ties it may differ from the
      // reference's double product by one; floor plus the exact fraction avoids a second rounding in t + 0.5.
      'fn toByte(v: f32) -> u32 {',
      '  let t = v * 255.0;',
      '  if (!(t > 0.0)) { return 0u; }',
      '  if (t >= 254.5) { return 255u; }',
      '  let f = floor(t);',
      '  return u32(f) + select(0u, 1u, t - f >= 0.5);',
      '}',
    );

  emit(
    `@compute @workgroup_size(${g.threads})`,
    'fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {',
    `  let tx0 = P.x0 + wg.x * ${TW}u;`,
    `  let ty0 = P.y0 + wg.y * ${TH}u;`,
    '  let n = P.h * P.w;',
    `  let o0 = (li / ${TW * TH}u) * ${OB}u;`,
    `  let ly = (li % ${TW * TH}u) / ${TW}u;`,
    `  let lx = li % ${TW}u;`,
    ...range(OB).map((j) => `  var ${acc(j)} = f32(wts[${L.bias + j}u + o0]);`),
  );

  s.terms.forEach((x, ti) => {
    const R = (x.k - 1) / 2;
    const HW = TW + x.k - 1;
    const HP = HW * (TH + x.k - 1);
    const lt = L.terms[ti];
    if (ti > 0) emit('  workgroupBarrier();');
    emit(
      `  for (var p = li; p < ${HP}u; p += ${g.threads}u) {`,
      `    let x = i32(tx0 + p % ${HW}u) - ${R};`,
      `    let y = i32(ty0 + p / ${HW}u) - ${R};`,
      '    if (x < 0 || y < 0 || x >= i32(P.w) || y >= i32(P.h)) {',
      `      for (var c = 0u; c < ${x.cin}u; c++) { smem[c * ${HP}u + p] = wts[${lt.pad}]; }`,
      '    } else {',
      '      let q = u32(y) * P.w + u32(x);',
    );
    if (x.source === 'raw' && s.io === 'u8')
      emit(`      for (var c = 0u; c < 3u; c++) { let b = q * 3u + c; smem[c * ${HP}u + p] = elem(U8[(in${ti}[b >> 2u] >> ((b & 3u) * 8u)) & 255u]); }`);
    else if (x.source === 'raw') emit(`      for (var c = 0u; c < 3u; c++) { smem[c * ${HP}u + p] = elem(in${ti}[q * 3u + c]); }`);
    else if (x.chain.length === 0) emit(`      for (var c = 0u; c < ${x.cin}u; c++) { smem[c * ${HP}u + p] = in${ti}[c * n + q]; }`);
    else {
      // The chain in private arrays: layer j reads v{j} and writes v{j+1}; the last writes workgroup memory.
      const c0 = x.chain[0].cin;
      emit(`      var v0: array<f32, ${c0}>;`, `      for (var c = 0u; c < ${c0}u; c++) { v0[c] = f32(in${ti}[c * n + q]); }`);
      x.chain.forEach((pw, j) => {
        const last = j === x.chain.length - 1;
        const { w, b } = lt.chain[j];
        if (!last) emit(`      var v${j + 1}: array<f32, ${pw.cout}>;`);
        emit(
          `      for (var o = 0u; o < ${pw.cout}u; o++) {`,
          `        var a = f32(wts[${b}u + o]);`,
          `        for (var i = 0u; i < ${pw.cin}u; i++) { a += v${j}[i] * f32(wts[${w}u + i * ${pw.cout}u + o]); }`,
          `        ${last ? `smem[o * ${HP}u + p] = elem(${pw.relu ? 'max(a, 0.0)' : 'a'})` : `v${j + 1}[o] = ${pw.relu ? 'max(a, 0.0)' : 'a'}`};`,
          '      }',
        );
      });
    }
    emit(
      '    }',
      '  }',
      '  workgroupBarrier();',
      // Taps in HWIO order: weight ((dy·k + dx)·cin + i)·cout + o.
      `  for (var i = 0u; i < ${x.cin}u; i++) {`,
      `    for (var dy = 0u; dy < ${x.k}u; dy++) {`,
      `      for (var dx = 0u; dx < ${x.k}u; dx++) {`,
      `        let r = i * ${HP}u + (ly + dy) * ${HW}u + lx + dx;`,
      `        let wo = ${lt.w}u + ((dy * ${x.k}u + dx) * ${x.cin}u + i) * ${COUT}u + o0;`,
      '        let xv = f32(smem[r]);',
      ...range(OB).map((j) => `        ${acc(j)} += xv * f32(wts[wo + ${j}u]);`),
      '      }',
      '    }',
      '  }',
    );
  });

  /** Output channel o's value at pixel index `px` (y·w + x); a repeated residual is read at channel o mod RC. */
  const value = (j: number, o: string, px: string) => {
    let v = acc(j);
    if (s.relu) v = `max(${v}, 0.0)`;
    if (s.residual) v = `${v} + f32(res[${RC === COUT ? o : `(${o}) % ${RC}u`} * n + ${px}])`;
    return v;
  };
  if (S === 1) {
    emit(
      '  let y = ty0 + ly;',
      '  let x = tx0 + lx;',
      '  if (y < P.y0 + P.rh && x < P.x0 + P.rw) {',
      ...range(OB).map((j) => `    if (o0 + ${j}u < ${COUT}u) { outp[(o0 + ${j}u) * n + y * P.w + x] = elem(${value(j, `(o0 + ${j}u)`, 'y * P.w + x')}); }`),
      '  }',
    );
  } else {
    // Gather the tile's output in HWC order at the output resolution (channel o = (c·S + i)·S + j, as PyTorch's
    // pixel shuffle), then store whole rows of it.
    const ROW = TW * S * 3;
    emit('  workgroupBarrier();');
    for (const j of range(OB)) {
      emit(
        `  { let o = o0 + ${j}u; if (o < ${COUT}u) {`,
        `    smem[((ly * ${S}u + (o / ${S}u) % ${S}u) * ${TW * S}u + lx * ${S}u + o % ${S}u) * 3u + o / ${S * S}u] = elem(${value(j, 'o', '(ty0 + ly) * P.w + tx0 + lx')});`,
        '  } }',
      );
    }
    emit(
      '  workgroupBarrier();',
      `  let rows = min(${TH}u, P.y0 + P.rh - ty0) * ${S}u;`,
      ...(s.io === 'u8'
        ? [
            `  let off = (tx0 - P.x0) * ${S * 3}u / 4u;`,
            `  for (var e = li; e < ${(TH * S * ROW) / 4}u; e += ${g.threads}u) {`,
            `    let r = e / ${ROW / 4}u;`,
            `    let k = e % ${ROW / 4}u;`,
            '    if (r < rows && off + k < P.ostride) {',
            `      let b = r * ${ROW}u + k * 4u;`,
            '      outp[((ty0 - P.y0) * ' + S + 'u + r) * P.ostride + off + k] = toByte(f32(smem[b])) | (toByte(f32(smem[b + 1u])) << 8u) | (toByte(f32(smem[b + 2u])) << 16u) | (toByte(f32(smem[b + 3u])) << 24u);',
            '    }',
            '  }',
          ]
        : [
            `  let off = (tx0 - P.x0) * ${S * 3}u;`,
            `  for (var e = li; e < ${TH * S * ROW}u; e += ${g.threads}u) {`,
            `    let r = e / ${ROW}u;`,
            `    let k = e % ${ROW}u;`,
            `    if (r < rows && off + k < P.ostride) { outp[((ty0 - P.y0) * ${S}u + r) * P.ostride + off + k] = f32(smem[r * ${ROW}u + k]); }`,
            '  }',
          ]),
    );
  }
  emit('}');
  return lines.join('\n');
}
