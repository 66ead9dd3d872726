// Stage kernels as one wasm module, and the one place that knows how a stage is called (the runner, the tuner and
// the profiler's bench all go through `StageArgs.write` and Runtime.run).
import { INPUT, type StageNode } from '../../compiler/ir.js';
import { type Io, packStage, stageKernelName, type StageShape, stageShape, type StageTuning } from '../../compiler/stage.js';
import { Rng } from '../../util/random.js';
import { argSlots, MAX_TILE, rowStride, scratchLayout } from './abi.js';
import { ModuleBuilder } from './encode.js';
import { renderStage } from './render.js';
import { type Loaded, MAX_PAGES, type Runtime } from './runtime.js';

export interface Kernel {
  readonly shape: StageShape;
  readonly tuning: StageTuning;
}

/** One module holding every distinct kernel of `kernels`; `fns[i]` is kernel i's index among its exports. */
export async function loadKernels(rt: Runtime, kernels: readonly Kernel[], relaxed: boolean): Promise<{ loaded: Loaded; fns: number[] }> {
  const mb = new ModuleBuilder({ min: 1, max: rt.shared ? MAX_PAGES : undefined, shared: rt.shared });
  const names: string[] = [];
  const fns = kernels.map(({ shape, tuning }) => {
    const name = stageKernelName(shape, tuning);
    let i = names.indexOf(name);
    if (i < 0) {
      renderStage(mb, name, shape, tuning, relaxed);
      i = names.push(name) - 1;
    }
    return i;
  });
  return { loaded: await rt.load(await WebAssembly.compile(mb.encode()), names), fns };
}

/** Where a stage call reads and writes (byte addresses) and what part of the h×w window it computes. */
export interface StageCall {
  /** Per term: the raw window (HWC, w wide) or a planar [h][cin][WS] buffer. */
  readonly inputs: readonly number[];
  /** 0 when none. */
  readonly residual: number;
  /** Planar, or (shuffling stage) the kept part of the output frame. */
  readonly out: number;
  readonly wts: number;
  readonly h: number;
  readonly w: number;
  readonly keep: { readonly y0: number; readonly y1: number; readonly x0: number; readonly x1: number };
}

/** Writes a call's args block (abi.ts) at `at`. */
export function writeArgs(rt: Runtime, at: number, k: Kernel, c: StageCall): void {
  const A = argSlots(k.shape);
  const S = scratchLayout(k.shape, k.tuning.tp, c.w);
  const a = rt.i32(at, A.count);
  c.inputs.forEach((p, i) => (a[A.src[i]] = p));
  [a[A.res], a[A.out], a[A.wts], a[A.h], a[A.w], a[A.ky0], a[A.kx0], a[A.kx1]] = [c.residual, c.out, c.wts, c.h, c.w, c.keep.y0, c.keep.x0, c.keep.x1];
  k.shape.terms.forEach((_, i) => ([a[A.ring[i]], a[A.tileA[i]], a[A.tileB[i]]] = [S.ring[i], S.tileA[i], S.tileB[i]]));
  [a[A.stile], a[A.bytes]] = [S.stile, S.bytes];
}

/** Bytes of one thread's scratch for any stage of `shapes` under any tuning, on rows w wide (whole cache lines, as
 *  every part of a layout is, so each thread's region starts on one). */
export function scratchStride(shapes: readonly StageShape[], w: number): number {
  return Math.max(...shapes.map((s) => scratchLayout(s, MAX_TILE, w).size));
}

/** Stages on an h×w window of random inputs, each with its own output and args block, allocated in `rt`: what
 *  the tuner times and the profiler's bench runs. Inputs are shared by role (values do not change times). */
export class SyntheticCalls {
  private readonly pools = new Map<string, number>();
  private readonly rng = new Rng(1);
  /** Floats of the widest planar value of any stage given. */
  private readonly planarFloats: number;

  constructor(
    private readonly rt: Runtime,
    stages: readonly StageNode[],
    private readonly h: number,
    private readonly w: number,
  ) {
    const widest = Math.max(...stages.flatMap((s) => [s.terms[0].cout, ...s.terms.map((t) => (t.chain.length ? t.chain[0].cin : t.cin))]));
    this.planarFloats = h * widest * rowStride(w);
  }

  /** Allocates the call's output and args block and returns the args block's address. */
  add(stage: StageNode, k: Kernel): number {
    const { h, w, rt } = this;
    const E = k.shape.io === 'u8' ? 1 : 4;
    const s = stage.shuffle;
    const blob = packStage(stage);
    const wts = rt.alloc(4 * blob.length);
    rt.f32(wts, blob.length).set(blob);
    const call: StageCall = {
      inputs: stage.terms.map((t, i) => (t.x === INPUT ? this.pooled(`raw-${k.shape.io}`, h * w * 3 * E, E) : this.pooled(`in${i}`, this.planarFloats))),
      residual: stage.residual === null ? 0 : this.pooled('residual', this.planarFloats),
      out: s > 1 ? rt.alloc(h * w * 3 * s * s * E) : this.pooled('out', this.planarFloats),
      wts,
      h,
      w,
      keep: { y0: 0, y1: h, x0: 0, x1: w },
    };
    const args = rt.alloc(4 * argSlots(k.shape).count);
    writeArgs(rt, args, k, call);
    return args;
  }

  /** n random elements (floats in [0, 1), or bytes when E = 1) for `role`. */
  private pooled(role: string, n: number, E = 4): number {
    let at = this.pools.get(role);
    if (at === undefined) {
      at = this.rt.alloc(n * E);
      if (E === 1) this.rt.u8(at, n).forEach((_, i, a) => (a[i] = this.rng.nextU32() & 255));
      else this.rng.fill(this.rt.f32(at, n), () => this.rng.next());
      this.pools.set(role, at);
    }
    return at;
  }
}

/** The kernel of `stage` for frames of type `io` under `tuning`. */
export const kernelOf = (stage: StageNode, io: Io, tuning: StageTuning): Kernel => ({ shape: stageShape(stage, io), tuning });
