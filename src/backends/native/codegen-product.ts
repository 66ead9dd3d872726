// A register-blocked product out[r][v] = Σ_k A(r, k)·B(k)[v] rendered as C: the narrow operand A broadcast
// a scalar at a time, B's rows in vectors, accumulators in registers. Shared by the fused WDSR-B kernels
// (codegen-wdsr.ts) and the Winograd convs' position-wise sums (codegen-winograd.ts).
import { range } from '../../util/range.js';
import { packedScalars, type PixelPack } from './codegen-pixel-pack.js';
import type { Target } from './glue.js';

/** out[r][v] = Σ_k A(r, k)·B(k)[v], r < rows, v < vecs vectors: register-blocked RB rows × VB vectors. */
export interface Product {
  rows: number;
  vecs: number;
  /** Reduction length: a C loop with a constant trip count. */
  k: number;
  /** The scalar A(r, k) (broadcast). */
  a(r: string, k: string): string;
  /** Pointer to vector v of B's row k. */
  b(k: string, v: number): string;
  /** The accumulator's initial value. */
  init(r: string, v: number): string;
  /** Statements consuming the finished accumulator. */
  done(r: string, v: number, acc: string): string;
  /** Pixel-packed rows (codegen-pixel-pack.ts) of `n` channels each: `vecs` is then the U vectors of a group of
   *  G rows, B's rows are packed periodically, init and done take a group's first row. */
  pack?: PixelPack & { n: number };
}

/** RB rows × VB vectors maximising the work per block (remainder blocks counted) within the register file:
 *  RB·VB accumulators + the broadcasts or B vectors gcc keeps live + 1, at most nreg − 7 accumulators and 8
 *  rows, more rows (broadcasts) than vectors discounted. Measured at 24/144/20 on the Zen 5, one thread, best
 *  of 40 interleaved: 9-vector products 5 × 5 or 6 × 4 (forward 2.9 ms, backward 6.2–6.4) over 3 × 9, the
 *  densest fit (3.6–3.7, 6.6–6.8), and 8 × 3 (3.3–3.4, 6.3–6.5); the 2-vector reduction 8 × 2 (forward
 *  3.0 ms) over 11 × 2 (3.4) and 5 × 2 (3.1). */
function blocking(rows: number, vecs: number, nreg: number): { RB: number; VB: number } {
  let best = { RB: 1, VB: 1, score: 0 };
  for (let VB = 1; VB <= vecs; VB++)
    for (let RB = 1; RB <= rows; RB++) {
      if (RB * VB + Math.min(RB, VB) + 1 > nreg || RB * VB > nreg - 7 || RB > 8) continue;
      const score = ((rows * vecs) / (Math.ceil(rows / RB) * Math.ceil(vecs / VB))) * Math.min(1, VB / RB) ** 0.25;
      if (score > best.score || (score === best.score && VB > best.VB)) best = { RB, VB, score };
    }
  return best;
}

/** A product over pixel-packed rows: NG groups of G rows × U vectors per block, each row's scalar blended into
 *  the vectors its outputs share with its neighbours. */
function packedProduct(p: Product, pk: PixelPack & { n: number }, t: Target): string[] {
  const { G, U } = pk;
  const groups = p.rows / G;
  const NG = Math.min(pk.NG, groups);
  const block = (r0: string, ng: number): string[] => {
    const acc = (q: number, u: number) => `a${q}_${u}`;
    const first = (q: number) => `(${r0} + ${q * G})`;
    const out = ['{'];
    for (const q of range(ng)) out.push(`  vf ${range(U).map((u) => `${acc(q, u)} = ${p.init(first(q), u)}`).join(', ')};`);
    // B's U vectors stay live while each group's G scalars are loaded and blended (pixelPack's register count).
    out.push(`  for (int k = 0; k < ${p.k}; k++) {`);
    out.push(`    ${range(U).map((u) => `const vf b${u} = vload(${p.b('k', u)});`).join(' ')}`);
    for (const q of range(ng)) {
      out.push(`    { ${range(G).map((j) => `const float s${j} = ${p.a(`(${r0} + ${q * G + j})`, 'k')};`).join(' ')}`);
      out.push(`      ${range(U).map((u) => `${acc(q, u)} += ${packedScalars(u, t.vw, pk.n, (j) => `s${j}`)} * b${u};`).join(' ')} }`);
    }
    out.push('  }');
    for (const q of range(ng)) for (const u of range(U)) out.push(`  ${p.done(first(q), u, acc(q, u))}`);
    out.push('}');
    return out;
  };
  const full = Math.floor(groups / NG) * NG;
  const code: string[] = [];
  if (full > 0) code.push(`for (int r0 = 0; r0 < ${full * G}; r0 += ${NG * G})`, ...block('r0', NG));
  if (full < groups) code.push(...block(String(full * G), groups - full));
  return code;
}

/** The product's C: pixel-packed where p.pack says so, else RB × VB register blocks (`blocking` unless given). */
export function product(p: Product, t: Target, { RB, VB } = blocking(p.rows, p.vecs, t.nreg)): string[] {
  if (p.pack) return packedProduct(p, p.pack, t);
  const block = (r0: string, rb: number, v0: number, vb: number): string[] => {
    const acc = (j: number, v: number) => `a${j}_${v}`;
    const row = (j: number) => `(${r0} + ${j})`;
    const out = ['{'];
    for (const j of range(rb)) out.push(`  vf ${range(vb).map((v) => `${acc(j, v)} = ${p.init(row(j), v0 + v)}`).join(', ')};`);
    out.push(`  for (int k = 0; k < ${p.k}; k++) {`);
    for (const j of range(rb)) out.push(`    const float s${j} = ${p.a(row(j), 'k')};`);
    for (const v of range(vb))
      out.push(`    { const vf bv = vload(${p.b('k', v0 + v)}); ${range(rb).map((j) => `${acc(j, v)} += s${j} * bv;`).join(' ')} }`);
    out.push('  }');
    for (const j of range(rb)) for (const v of range(vb)) out.push(`  ${p.done(row(j), v0 + v, acc(j, v))}`);
    out.push('}');
    return out;
  };
  const code: string[] = [];
  const full = Math.floor(p.rows / RB) * RB;
  for (let v0 = 0; v0 < p.vecs; v0 += VB) {
    const vb = Math.min(VB, p.vecs - v0);
    if (full > 0) code.push(`for (int r0 = 0; r0 < ${full}; r0 += ${RB})`, ...block('r0', RB, v0, vb));
    if (full < p.rows) code.push(...block(String(full), p.rows - full, v0, vb));
  }
  return code;
}
