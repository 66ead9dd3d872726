// Pixel-packed lanes for convolutions whose cout is not a multiple of the vector width (24 with 16 lanes;
// see pixelPack for which). NHWC keeps G consecutive pixels' outputs contiguous, G·cout floats = U whole vectors, so a register
// block of G-pixel groups fills every lane: a vector that straddles two pixels is multiplied by a blend of
// their two broadcast inputs (one extra shuffle-port op, off the FMA ports), the weights are packed
// periodically (lane l holds output channel l mod cout), and stores are whole vectors. The padded layout it
// replaces wastes 1 − cout/(V·vw) of every FMA: 25 % at cout 24, 37.5 % at 20.
import { range } from '../../util/range.js';
import { convChannelLoop, convRowLoop } from './codegen-conv-loops.js';

export interface PixelPack {
  /** Pixels per group and vectors per group. */
  readonly G: number;
  readonly U: number;
  /** Groups per register block. */
  readonly NG: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The packing for `co` output channels from `ci` inputs, or null when the padded layout wastes nothing or the group's
 *  G − 1 blends would cost more than a third of its U FMAs: measured on the 2-core Zen 5 (docs/native-
 *  backend.md), cout 24 (1 blend in 3 vectors) gains, while cout 20 (3 in 5) and 12 (3 in 3) lose to the
 *  padded layout's 62.5 and 75 % lanes. */
export function pixelPack(co: number, ci: number, vw: number, nreg: number): PixelPack | null {
  // With 3 input channels (a net's first conv) the packed 3→24 kernels measured 7–15 % slower, not faster.
  if (co % vw === 0 || ci < 8) return null;
  const G = vw / gcd(co, vw);
  const U = (G * co) / vw;
  if (3 * (G - 1) > U) return null;
  // NG·U accumulators + U weight vectors + G broadcasts + one blend + one spare.
  const NG = Math.floor((nreg - U - G - 2) / U);
  return NG >= 1 ? { G, U, NG } : null;
}

/** Vector u of a group as a blend of its pixels' scalars `s(j)` broadcast: lanes [u·vw, (u+1)·vw) of the
 *  group's G·co packed outputs belong to pixels ⌊lane / co⌋; a vector inside one pixel is a plain broadcast. */
export function packedScalars(u: number, vw: number, co: number, s: (j: number) => string): string {
  let v = '';
  for (let l = 0; l < vw; l++) {
    const j = Math.floor((u * vw + l) / co);
    if (l === 0) v = `vbroadcast(${s(j)})`;
    else if (j !== Math.floor((u * vw + l - 1) / co)) v = `vblend_from(${v}, vbroadcast(${s(j)}), ${l})`;
  }
  return v;
}

type Span = { kind: 'run'; x0: number; blocks: number } | { kind: 'fixed'; x0: number; np: number };

/** Like the padded layout's column spans, but every block is whole groups: the row's last group may reach
 *  past the image, where its pixels read zeros and are not stored. */
export function packedSpans(w: number, p: number, pad: number, g: number): Span[] {
  const whole = (n: number) => Math.ceil(n / g) * g;
  const spans: Span[] = [];
  let x = 0;
  for (; x < pad && x < w; x += p) spans.push({ kind: 'fixed', x0: x, np: Math.min(p, whole(w - x)) });
  const blocks = Math.max(0, Math.floor((w - pad - x) / p));
  if (blocks > 0) spans.push({ kind: 'run', x0: x, blocks });
  for (x += blocks * p; x < w; x += p) spans.push({ kind: 'fixed', x0: x, np: Math.min(p, whole(w - x)) });
  return spans;
}

export interface PackedBlockArgs {
  pack: PixelPack;
  /** C expression of the block's first pixel, and its value when known at generation time (edge blocks). */
  x0: string;
  fixedX0: number | null;
  /** Pixels in the block (a multiple of G). */
  np: number;
  K: number;
  PAD: number;
  H: number;
  W: number;
  CI: number;
  CO: number;
  vw: number;
}

/** One register block over `np` pixels in packed lanes, the body shared with the padded block: bias-initialised
 *  accumulators, the taps, ReLU when asked, the residual ar (when not NULL), stores. Expects xi, yr, ar, yy,
 *  wp, bp, relu in scope. */
export function packedBlock(a: PackedBlockArgs): string[] {
  const { pack, K, PAD, H, W, CI, CO, vw } = a;
  const { G, U } = pack;
  const COP = U * vw;
  const groups = a.np / G;
  const inImage = (pix: number, kx: number) => {
    if (a.fixedX0 === null) return true;
    const x = a.fixedX0 + pix;
    const ix = x + kx - PAD;
    return x < W && ix >= 0 && ix < W;
  };
  const acc = (q: number, u: number) => `a${q}_${u}`;
  const out: string[] = ['{'];
  for (const q of range(groups)) out.push(`  vf ${range(U).map((u) => `${acc(q, u)} = vload(bp + ${u * vw})`).join(', ')};`);
  out.push(...convRowLoop(K, PAD, H, W, CI, COP, a.x0));
  for (const kx of range(K)) {
    const live = range(groups).filter((q) => range(G).some((j) => inImage(q * G + j, kx)));
    if (live.length === 0) continue;
    out.push(...convChannelLoop(kx, CI, COP, a.np));
    out.push(`      ${range(U).map((u) => `const vf w${u} = vload(wi + ${u * vw});`).join(' ')}`);
    for (const q of live) {
      const xb = (j: number) => `x${q}_${j}`;
      out.push(
        `      { ${range(G)
          .map((j) => `const float ${xb(j)} = ${inImage(q * G + j, kx) ? `xr[${(q * G + j + kx - PAD) * CI} + i]` : '0.f'};`)
          .join(' ')}`,
      );
      for (const u of range(U)) out.push(`        ${acc(q, u)} += ${packedScalars(u, vw, CO, xb)} * w${u};`);
      out.push('      }');
    }
    out.push('    }');
  }
  out.push('  }');
  const all = range(groups).flatMap((q) => range(U).map((u) => acc(q, u)));
  out.push(`  if (relu) { ${all.map((v) => `${v} = vrelu(${v});`).join(' ')} }`);
  const at = (q: number, u: number) => `(long)(${a.x0} + ${q * G}) * ${CO} + ${u * vw}`;
  // Lanes of pixels inside the row; only an edge block's last group can reach past it.
  const lanes = (q: number, u: number) => (a.fixedX0 === null ? vw : Math.min(vw, (W - a.fixedX0 - q * G) * CO - u * vw));
  const live = range(groups).flatMap((q) => range(U).map((u) => [q, u] as const)).filter(([q, u]) => lanes(q, u) > 0);
  const whole = (q: number, u: number, f: string, part: string) => (lanes(q, u) >= vw ? f : part);
  out.push(
    `  if (ar) { ${live.map(([q, u]) => `${acc(q, u)} += ${whole(q, u, `vload(ar + ${at(q, u)})`, `vload_n(ar + ${at(q, u)}, ${lanes(q, u)})`)};`).join(' ')} }`,
  );
  for (const [q, u] of live)
    out.push(`  ${whole(q, u, `vstore(yr + ${at(q, u)}, ${acc(q, u)});`, `vstore_n(yr + ${at(q, u)}, ${acc(q, u)}, ${lanes(q, u)});`)}`);
  out.push('}');
  return out;
}
