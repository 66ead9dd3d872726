// How the training conv kernels (codegen-conv.ts) block their work: the choices the backend's tuner times on
// the machine it runs on (tune.ts), and the defaults derived from the register count. Every choice computes
// the same sums; only their speed, and the order float rounding sees, differ.
import type { ConvShape } from '../backend.js';
import type { Target } from './glue.js';
import { pixelPack } from './codegen-pixel-pack.js';
import { range } from '../../util/range.js';

/** A convolution's geometry without the batch size. */
export type ConvGeom = Omit<ConvShape, 'n'>;

/** conv2d and its grad input: pixel-packed lanes where pixelPack offers them (else padded), and the padded
 *  layout's output pixels per register block (null: as many as the registers hold). */
export interface ForwardBlocking {
  readonly packing: boolean;
  readonly pixels: number | null;
  /** Floats a vector where not the target's (see narrower). */
  readonly lanes?: Target['vw'];
  /** Winograd's F(m×m, 3×3) instead of the direct conv, m = 2 or 4 (codegen-winograd.ts, k = 3 only);
   *  packing and pixels then do not apply. */
  readonly winograd?: 2 | 4;
}

/** The weight gradient: packed lanes as above, a register block of `taps` kernel taps along x × `channels`
 *  input channels × all cout vectors, and `rows` image rows per tile (the tile every block sweeps). */
export interface GradWeightBlocking {
  readonly packing: boolean;
  readonly taps: number;
  readonly channels: number;
  readonly rows: number;
  readonly lanes?: Target['vw'];
  /** Winograd's F(m×m, 3×3) weight gradient, m = 2 or 4 (codegen-winograd.ts, k = 3 only); `channels` is
   *  then its register block's input channels, taps all 3. */
  readonly winograd?: 2 | 4;
}

/** The SIMD shape a blocking's kernel is generated for: the target's, or its `lanes` with the same registers. */
export const blockingTarget = (t: Target, b: { readonly lanes?: Target['vw'] }): Target => (b.lanes ? { vw: b.lanes, nreg: t.nreg } : t);

/** Narrower vectors to try where `co` channels leave lanes of the target's idle: with AVX-512, 8 lanes hold
 *  24 channels whole and 20 at 83 % (16 lanes: packed with blends, or 62.5 %), and cores that split 512-bit
 *  FMAs in two (Zen 4) lose no throughput by them; the tuner measures which wins on the machine. */
const narrower = (co: number, t: Target): Target[] => (t.vw === 16 && co % 16 !== 0 ? [{ vw: 8, nreg: t.nreg }] : []);

export const DEFAULT_FORWARD: ForwardBlocking = { packing: true, pixels: null };

/** Winograd's register block (codegen-winograd.ts): rows (tiles, or the weight gradient's input channels) ×
 *  all cout vectors, as many rows as leave the V vectors, one broadcast and a spare in the registers, at most 8. */
export const winogradRows = (vecs: number, nreg: number) => Math.max(1, Math.min(8, Math.floor((nreg - 2 - vecs) / vecs)));

/** Winograd's output tiles to try (F(2×2) and F(4×4)); they tile the image, so only for rows and columns of
 *  at least m pixels. */
const winogradTiles = (g: ConvGeom): (2 | 4)[] => (g.k === 3 ? ([2, 4] as const).filter((m) => g.h >= m && g.w >= m) : []);

/** The padded layout's register block: P pixels × V vectors, with P broadcasts and a weight vector beside. */
export function forwardPixels(w: number, vecs: number, nreg: number, b: ForwardBlocking): number {
  return Math.max(1, Math.min(w, b.pixels ?? Math.floor((nreg - 1) / (vecs + 1))));
}

/** The largest n ≤ max dividing w (row blocks without a remainder block). */
const largestDivisor = (w: number, max: number) => range(max).map((i) => max - i).find((d) => w % d === 0) ?? 1;

/** conv2d's (gradInput: its grad input's) candidates, the default first: packed and padded where packing applies,
 *  and in the padded layout the full register block, the largest that divides the row, 3/4 and 1/2 of it; for
 *  k = 3 Winograd's F(2×2, 3×3) and F(4×4, 3×3) (2.25× and 4× fewer multiply-adds, transforms beside); then
 *  the same at narrower vectors where they may fill more lanes. */
export function forwardCandidates(g: ConvGeom, t: Target, gradInput: boolean): ForwardBlocking[] {
  const co = gradInput ? g.cin : g.cout;
  const narrow = narrower(co, t).flatMap((n) => forwardBlockings(g, n, gradInput).map((b) => ({ ...b, lanes: n.vw })));
  return [...forwardBlockings(g, t, gradInput), ...narrow];
}

function forwardBlockings(g: ConvGeom, t: Target, gradInput: boolean): ForwardBlocking[] {
  const [ci, co] = gradInput ? [g.cout, g.cin] : [g.cin, g.cout];
  const packs = pixelPack(co, ci, t.vw, t.nreg) !== null;
  const full = forwardPixels(g.w, Math.ceil(co / t.vw), t.nreg, DEFAULT_FORWARD);
  const sizes = [full, largestDivisor(g.w, full), Math.ceil((full * 3) / 4), Math.ceil(full / 2)];
  const padded = [...new Set(sizes)].map((p) => ({ packing: false, pixels: p === full ? null : p }));
  const winograd = winogradTiles(g).map((m) => ({ packing: false, pixels: null, winograd: m }));
  return [...(packs ? [DEFAULT_FORWARD, ...padded] : padded.map((b) => ({ ...b, packing: true }))), ...winograd];
}

/** The weight gradient's layout: G pixels a group and V vectors of accumulators a (tap, channel) pair. */
export function gradWeightLayout(g: ConvGeom, t: Target, packing: boolean) {
  const pack = packing ? pixelPack(g.cout, g.cin, t.vw, t.nreg) : null;
  const V = pack ? pack.U : Math.ceil(g.cout / t.vw);
  // Registers live besides the accumulators: the dy vectors or broadcasts gcc keeps, and blends.
  const extra = (pairs: number) => (pack ? V + pack.G + 1 : Math.min(V, pairs));
  return { pack, G: pack ? pack.G : 1, V, fits: (taps: number, channels: number) => taps * channels * V + extra(taps * channels) + 1 <= t.nreg };
}

/** Average (tap, channel) pairs per register block once the remainder blocks are counted. */
const pairsPerBlock = (g: ConvGeom, taps: number, channels: number) => (g.k * g.cin) / (Math.ceil(g.k / taps) * Math.ceil(g.cin / channels));

/** For each tap count, the channel count that fits the registers best (most pairs a block) and the largest that
 *  divides cin (no remainder block), best first. */
function gradWeightBlocks(g: ConvGeom, t: Target, packing: boolean): { taps: number; channels: number }[] {
  const { fits } = gradWeightLayout(g, t, packing);
  const blocks: { taps: number; channels: number; score: number }[] = [];
  for (const taps of range(g.k).map((i) => i + 1)) {
    const fitting = range(g.cin).map((i) => i + 1).filter((channels) => fits(taps, channels));
    if (fitting.length === 0) continue;
    const most = fitting.reduce((a, b) => (pairsPerBlock(g, taps, b) > pairsPerBlock(g, taps, a) ? b : a));
    const dividing = largestDivisor(g.cin, fitting[fitting.length - 1]);
    for (const channels of new Set([most, dividing])) blocks.push({ taps, channels, score: pairsPerBlock(g, taps, channels) });
  }
  if (blocks.length === 0) blocks.push({ taps: 1, channels: 1, score: 0 });
  // Most pairs first; of equals, more taps (a dy vector feeds more FMAs).
  return blocks.sort((a, b) => b.score - a.score || b.taps - a.taps).map(({ taps, channels }) => ({ taps, channels }));
}

/** Rows per tile by default: at least 32 pixels, to amortise loading the register block. */
const defaultRows = (g: ConvGeom) => Math.max(1, Math.ceil(32 / g.w));

export function defaultGradWeight(g: ConvGeom, t: Target): GradWeightBlocking {
  return { packing: true, ...gradWeightBlocks(g, t, true)[0], rows: defaultRows(g) };
}

/** The weight gradient's register blocks to try, the default first: each layout where packing applies, each tap
 *  count's blocks (gradWeightBlocks), at the default rows per tile; for k = 3 Winograd's two; then the same at
 *  narrower vectors. */
export function gradWeightCandidates(g: ConvGeom, t: Target): GradWeightBlocking[] {
  const at = (t: Target) => {
    const layouts = gradWeightLayout(g, t, true).pack ? [true, false] : [true];
    const direct = layouts.flatMap((packing) => gradWeightBlocks(g, t, packing).map((b) => ({ packing, ...b, rows: defaultRows(g) })));
    const channels = winogradRows(Math.ceil(g.cout / t.vw), t.nreg);
    return [...direct, ...winogradTiles(g).map((m) => ({ packing: false, taps: 3, channels, rows: defaultRows(g), winograd: m }))];
  };
  return [...at(t), ...narrower(g.cout, t).flatMap((n) => at(n).map((b) => ({ ...b, lanes: n.vw })))];
}

/** Rows per tile to try once the register block is chosen: the default, 2× and 4× (a taller tile loads each
 *  block's accumulators less often, but may no longer fit the cache beside them). */
export const gradWeightRows = (g: ConvGeom): number[] => [1, 2, 4].map((f) => defaultRows(g) * f);
