// How a wasm stage function is called. Every stage exports `(args, y0, y1, scratch)`: one uniform signature, so
// a worker runs any stage from an index and three numbers. `args` points at a block of i32 words the runtime
// writes per window (pointers are byte offsets into the one linear memory); `scratch` is the calling thread's
// region, laid out by `scratchLayout`. Rows y0..y1 are one band of the rows the stage computes.
import { blockFor, defaultTuning, type StageShape, type StageTuning } from '../../compiler/stage.js';

/** Floats per wasm SIMD vector, and the vector registers V8 allocates on x64: the renderer's limits. */
export const LIMITS = { vw: 4, nreg: 16 } as const;
const VB = 4 * LIMITS.vw;

/** The untuned choice: 3 × 3 blocks for the conv and the chain. Native's default for 16 registers (6 × 2)
 *  spills here: V8 keeps a loop body's loads live along with the accumulators, so a block needs O·P + O + P ≤ 15
 *  (render.ts); 3 × 3 and 2 × 4 fit, and both are in the shared tuning space. */
export const DEFAULT_TUNING: StageTuning = { ...defaultTuning(LIMITS), ob: blockFor(LIMITS, 3), pb: 3, cob: blockFor(LIMITS, 3), cpb: 3 };

/** Word indices in a stage's args block. */
export interface ArgSlots {
  /** Per term: the raw window (HWC, the window's width) or a planar [H][cin][WS] buffer. */
  readonly src: readonly number[];
  /** Planar residual [H][cout][WS] (0 when none). */
  readonly res: number;
  /** Planar [H][cout][WS], or (shuffling stage) the kept part of the output frame, (ky1−ky0)·s rows of
   *  (kx1−kx0)·s pixels. */
  readonly out: number;
  readonly wts: number;
  readonly h: number;
  readonly w: number;
  /** Rows ky0.. and columns kx0..kx1 that a shuffling stage stores. */
  readonly ky0: number;
  readonly kx0: number;
  readonly kx1: number;
  /** Scratch offsets (bytes from the thread's region) of the parts below. */
  readonly ring: readonly number[];
  readonly tileA: readonly number[];
  readonly tileB: readonly number[];
  readonly stile: number;
  readonly bytes: number;
  readonly count: number;
}

export function argSlots(s: StageShape): ArgSlots {
  let n = 0;
  const take = () => n++;
  const terms = () => s.terms.map(take);
  const src = terms();
  const fixed = { res: take(), out: take(), wts: take(), h: take(), w: take(), ky0: take(), kx0: take(), kx1: take() };
  const ring = terms();
  const tileA = terms();
  const tileB = terms();
  return { src, ...fixed, ring, tileA, tileB, stile: take(), bytes: take(), count: n };
}

/** Floats of a row padded to whole vectors. */
export const rowStride = (w: number): number => Math.ceil(w / LIMITS.vw) * LIMITS.vw;

const align = (n: number) => Math.ceil(n / 64) * 64;

/** The widest chain tile of the tuning space (defaultTuning's; the tuner tries narrower ones): the runtime
 *  sizes scratch for it, so that any tuning fits. */
export const MAX_TILE = defaultTuning(LIMITS).tp;

/** One thread's scratch for a stage on rows `w` wide, in bytes: per term a ring of k rows [cin][WS + 2 vectors]
 *  and two chain tiles of `tp` pixels, then the shuffling stage's computed row and (uint8) its bytes. */
export function scratchLayout(s: StageShape, tp: number, w: number): { ring: number[]; tileA: number[]; tileB: number[]; stile: number; bytes: number; size: number } {
  let at = 0;
  const take = (bytes: number) => ((at += align(bytes)), at - align(bytes));
  const rs = 4 * rowStride(w) + 2 * VB;
  const ring = s.terms.map((t) => take(t.k * t.cin * rs));
  const tile = (t: StageShape['terms'][number]) => 4 * tp * Math.max(1, ...t.chain.slice(0, -1).map((p) => p.cout));
  const tileA = s.terms.map((t) => take(tile(t)));
  const tileB = s.terms.map((t) => take(tile(t)));
  const shuffles = s.shuffle > 1;
  const stile = take(shuffles ? 4 * s.cout * rowStride(w) : 0);
  const bytes = take(shuffles && s.io === 'u8' ? s.cout * rowStride(w) : 0);
  return { ring, tileA, tileB, stile, bytes, size: at };
}
