// Segment kernels (segment.ts) loaded as one native module, and the one place that knows how a segment kernel
// is called (the runtime, the tuner and the profiling runnables all go through `run`).
import { loadModule, type NativeModule, type Toolchain } from '../../backends/native/compile.js';
import { type KernelSource, moduleSource } from '../../backends/native/glue.js';
import { INPUT, type StageNode } from '../../compiler/ir.js';
import { bandsFor, type Place } from '../../compiler/plan.js';
import { type Io, packStage } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import { Rng } from '../../util/random.js';
import type { Frame } from '../target.js';
import { stageFunctions } from './render.js';
import { type PlacedSegment, segmentKernel, segmentName, type SegmentStage } from './segment.js';

/** Writes the address of p[0] modulo 64 into p[1][0]: lets JavaScript place arrays on cache-line boundaries. */
const ADDRESS_PROBE: KernelSource = {
  name: 'address_mod64',
  code: 'static void k_address_mod64(void** p, const double* s) { (void)s; ((double*)p[1])[0] = (double)((unsigned long)p[0] & 63); }\n',
};

/** Random planar buffers by role, shared by every synthetic call in this process (see `pooled`). */
const SYNTHETIC = new Map<string, Float32Array>();

export interface SegmentCall {
  /** The segment's arguments (segment.ts's segmentWiring): the raw frame, or planar [h][c][ws] buffers of the
   *  window. */
  readonly inputs: readonly Frame[];
  /** A planar buffer, or (shuffling stage) the whole output frame. */
  readonly out: Frame;
  /** The stages' weights one after another (segment.ts's blobOffsets). */
  readonly blob: Float32Array;
  /** The window: h×w pixels at (x, y) of a frame `frameWidth` pixels wide. */
  readonly h: number;
  readonly w: number;
  readonly x: number;
  readonly y: number;
  readonly frameWidth: number;
  /** Rows and columns of the window a shuffling stage computes and stores (the rest is halo); the whole
   *  window for the others, which compute every row. */
  readonly keep: { readonly y0: number; readonly y1: number; readonly x0: number; readonly x1: number };
  readonly threads: number;
  /** Cut the rows into the bands of this many threads (default `threads`): a tuner on one thread then does the
   *  work, band edges included, that they would. */
  readonly bandsOf?: number;
}

/** Bands of a segment's rows: a stage alone takes bandsFor's (its chain rows at band edges are recomputed);
 *  a pipeline recomputes every stage's lead at each band edge, so it takes one band per thread — and threads in
 *  pairs then work two bands from both ends (segment.ts), so that a late or slowed thread costs no more than its
 *  share. One thread given `threads`' bands does their work, edges included: what the cut tuner times. */
export function segmentBands(stages: readonly StageNode[], rows: number, threads: number): number {
  if (stages.length === 1 || threads === 1) return bandsFor(rows, threads);
  return Math.max(1, Math.min(threads, Math.floor(rows / 8)));
}

export class SegmentKernels {
  private readonly module: NativeModule;
  private readonly index = new Map<string, number>();
  private readonly scratch = new Float64Array(1);
  /** Floats per vector: planar rows are padded to whole vectors. */
  readonly vw: number;
  private readonly segments: readonly (readonly SegmentStage[])[];
  private readonly names: string[];

  /** One module for `segments`: each stage's functions once, then a kernel per distinct segment. */
  constructor(segments: readonly (readonly SegmentStage[])[], tc: Toolchain, cacheDir: string) {
    this.vw = tc.target.vw;
    this.segments = segments;
    this.names = segments.map(segmentName);
    const functions = new Set<string>();
    const kernels = new Map<string, KernelSource>();
    segments.forEach((seg, i) => {
      if (kernels.has(this.names[i])) return;
      const helpers = seg.filter((st) => !functions.has(st.kernel) && functions.add(st.kernel)).map((st) => stageFunctions(st.kernel, st.shape, st.tuning, tc.target));
      const k = segmentKernel(this.names[i], seg);
      kernels.set(k.name, { name: k.name, code: helpers.join('') + k.code });
    });
    const all = [ADDRESS_PROBE, ...kernels.values()];
    this.module = loadModule(moduleSource(tc.target, all), tc, cacheDir);
    all.forEach((k, i) => this.index.set(k.name, i));
  }

  /** n zero floats starting on a 64-byte boundary: planar rows are then whole cache lines and vector loads
   *  and stores never split across two. */
  aligned(n: number): Float32Array {
    const raw = new Float32Array(n + 16);
    this.module.call(0, raw, this.scratch);
    const shift = ((64 - this.scratch[0]) % 64) / 4;
    if (!Number.isInteger(shift)) throw new Error('native: a Float32Array is not 4-byte aligned');
    return raw.subarray(shift, shift + n);
  }

  /** Floats of a planar [h][c][ws] buffer. */
  planarSize(h: number, w: number, c: number): number {
    return h * c * Math.ceil(w / this.vw) * this.vw;
  }

  /** A call of a segment of `stage` alone on an h×w frame of random inputs, with its own output: what the tuner
   *  times and what the profiling runnables run. */
  syntheticCall(stage: StageNode, io: Io, h: number, w: number, threads: number): SegmentCall {
    const rng = new Rng(1);
    const planar = (c: number, role: string) => this.pooled(role, this.planarSize(h, w, c), rng);
    const raw = () => (io === 'u8' ? Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255) : rng.fill(new Float32Array(h * w * 3), () => rng.next()));
    const cout = stage.terms[0].cout;
    const s = stage.shuffle;
    const frameOut = s > 1 ? (io === 'u8' ? new Uint8Array(h * w * 3 * s * s) : new Float32Array(h * w * 3 * s * s)) : planar(cout, 'out');
    return {
      inputs: [
        ...stage.terms.map((t, i) => (t.x === INPUT ? raw() : planar(t.chain.length ? t.chain[0].cin : t.cin, `in${i}`))),
        ...(stage.residual === null ? [] : [planar(stage.residualChannels ?? cout, 'residual')]),
      ],
      out: frameOut,
      blob: packStage(stage),
      h,
      w,
      x: 0,
      y: 0,
      frameWidth: w,
      keep: { y0: 0, y1: h, x0: 0, x1: w },
      threads,
    };
  }

  /** A random planar buffer of n floats for `role`, shared by every synthetic call in this process (a profile
   *  holds hundreds of parts: a buffer each ran a 24 GB machine out of memory); values do not change times. */
  private pooled(role: string, n: number, rng: Rng): Float32Array {
    let a = SYNTHETIC.get(role);
    if (!a || a.length < n) SYNTHETIC.set(role, (a = rng.fill(this.aligned(n), () => rng.uniform(0, 1))));
    return a.subarray(0, n);
  }

  /** Runs segments `first`… of the constructor's list, in order, on one window of a frame `frameWidth` wide:
   *  'frame' places are the caller's frames (src for arguments, dst for the output), numbers index `slots`. */
  runPlaced(first: number, segments: readonly PlacedSegment[], slots: readonly Float32Array[], src: Frame, dst: Frame, frameWidth: number, win: Rect, keep: Rect, threads: number, bandsOf = threads): void {
    const whole = { y0: 0, y1: win.h, x0: 0, x1: win.w };
    const kept = { y0: keep.y - win.y, y1: keep.y - win.y + keep.h, x0: keep.x - win.x, x1: keep.x - win.x + keep.w };
    const at = (p: Place, frame: Frame): Frame => (p === 'frame' ? frame : slots[p]);
    segments.forEach((s, i) =>
      this.run(first + i, {
        inputs: s.args.map((p) => at(p, src)),
        out: at(s.out, dst),
        blob: s.blob,
        h: win.h,
        w: win.w,
        x: win.x,
        y: win.y,
        frameWidth,
        keep: s.out === 'frame' ? kept : whole,
        threads,
        bandsOf,
      }),
    );
  }

  /** Runs segment i (of the constructor's list). */
  run(i: number, c: SegmentCall): void {
    const stages = this.segments[i].map((s) => s.node);
    this.module.call(
      this.index.get(this.names[i])!,
      ...c.inputs,
      c.out,
      c.blob,
      c.h,
      c.w,
      c.threads,
      segmentBands(stages, c.keep.y1 - c.keep.y0, c.bandsOf ?? c.threads),
      c.x,
      c.y,
      c.frameWidth,
      c.keep.y0,
      c.keep.y1,
      c.keep.x0,
      c.keep.x1,
    );
  }
}
