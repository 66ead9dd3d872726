// Stage kernels loaded as one native module, and the one place that knows how a stage kernel is called (the
// runtime, the tuner and the profiling runnables all go through `runStage`).
import { loadModule, type NativeModule, type Toolchain } from '../../backends/native/compile.js';
import { type KernelSource, moduleSource } from '../../backends/native/glue.js';
import { bandsFor } from '../../compiler/plan.js';
import { INPUT, type StageNode } from '../../compiler/ir.js';
import type { Io } from '../../compiler/stage.js';
import { Rng } from '../../util/random.js';
import type { Frame } from '../target.js';

/** Writes the address of p[0] modulo 64 into p[1][0]: lets JavaScript place arrays on cache-line boundaries. */
const ADDRESS_PROBE: KernelSource = {
  name: 'address_mod64',
  code: 'static void k_address_mod64(void** p, const double* s) { (void)s; ((double*)p[1])[0] = (double)((unsigned long)p[0] & 63); }\n',
};

/** Random planar buffers by role, shared by every synthetic call in this process (see `pooled`). */
const SYNTHETIC = new Map<string, Float32Array>();

export interface StageCall {
  /** Per term: the raw frame, or a planar [h][c][ws] buffer of the window. */
  readonly inputs: readonly Frame[];
  readonly residual: Float32Array | null;
  /** A planar buffer, or (shuffling stage) the whole output frame. */
  readonly out: Frame;
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
}


export class StageKernels {
  private readonly module: NativeModule;
  private readonly index = new Map<string, number>();
  private readonly scratch = new Float64Array(1);
  /** Floats per vector: planar rows are padded to whole vectors. */
  readonly vw: number;

  constructor(kernels: readonly KernelSource[], tc: Toolchain, cacheDir: string) {
    this.vw = tc.target.vw;
    const all = [ADDRESS_PROBE, ...kernels];
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

  /** A call of `stage` on an h×w frame of random inputs, with its own output: what the tuner times and what
   *  the profiling runnables run. */
  syntheticCall(stage: StageNode, blob: Float32Array, io: Io, h: number, w: number, threads: number): StageCall {
    const rng = new Rng(1);
    const planar = (c: number, role: string) => this.pooled(role, this.planarSize(h, w, c), rng);
    const raw = () => (io === 'u8' ? Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255) : rng.fill(new Float32Array(h * w * 3), () => rng.next()));
    const cout = stage.terms[0].cout;
    const s = stage.shuffle;
    const frameOut = s > 1 ? (io === 'u8' ? new Uint8Array(h * w * 3 * s * s) : new Float32Array(h * w * 3 * s * s)) : planar(cout, 'out');
    return {
      inputs: stage.terms.map((t, i) => (t.x === INPUT ? raw() : planar(t.chain.length ? t.chain[0].cin : t.cin, `in${i}`))),
      residual: stage.residual === null ? null : planar(cout, 'residual'),
      out: frameOut,
      blob,
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

  runStage(name: string, c: StageCall): void {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`native: no stage kernel '${name}' in this module`);
    this.module.call(
      i,
      ...c.inputs,
      c.residual,
      c.out,
      c.blob,
      c.h,
      c.w,
      c.threads,
      bandsFor(c.keep.y1 - c.keep.y0, c.threads),
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
