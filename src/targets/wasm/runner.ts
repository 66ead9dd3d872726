// Runs a fused graph's stages on the wasm target one window at a time, in one linear memory laid out as
//   [control block][args blocks][weights]  — fixed, written once
//   [input window][slot buffers][kept output][scratch × threads]  — per window size, reused and grown
// The window's input is copied in (bytes or floats as given), the last stage writes the kept part of the output,
// which is copied out into the caller's frame. Kernels: one module per (frame type, width class), tuned then.
import type { Graph } from '../../compiler/ir.js';
import { type Place, planStages, type StagePlan } from '../../compiler/plan.js';
import { type Io, stageKernelName, stageShape, widthClass } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import type { Frame, WindowRunner } from '../target.js';
import { argSlots, DEFAULT_TUNING, LIMITS, rowStride } from './abi.js';
import { type Kernel, loadKernels, scratchStride, writeArgs } from './kernels.js';
import type { Loaded, Runtime } from './runtime.js';
import { type TuneEnv, tuneStage } from './tune.js';

export interface WasmRunnerOptions extends TuneEnv {
  readonly tune: boolean;
}

interface WindowLayout {
  readonly input: number;
  readonly slots: readonly number[];
  readonly output: number;
  readonly scratch: number;
  readonly stride: number;
  readonly end: number;
}

export class WasmRunner implements WindowRunner {
  private readonly plan: StagePlan;
  private readonly args: number[];
  private readonly wts: number[];
  /** Where the per-window region starts. */
  private readonly base: number;
  private readonly kernels = new Map<string, Promise<{ loaded: Loaded; fns: number[]; kernels: Kernel[] }>>();
  private readonly modules = new Map<string, Promise<{ loaded: Loaded; fns: number[] }>>();
  /** Windows run one at a time (they share the memory): each waits for the previous one. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly graph: Graph,
    private readonly rt: Runtime,
    private readonly opts: WasmRunnerOptions,
  ) {
    this.plan = planStages(graph);
    const last = this.plan.stages.find((s) => s.out === 'frame');
    if (!last || last.node.shuffle === 1) throw new Error('wasm target: the graph must end in a depth-to-space stage');
    this.args = this.plan.stages.map((s) => rt.alloc(4 * argSlots(stageShape(s.node, 'f32')).count));
    this.wts = this.plan.stages.map(({ blob }) => {
      const at = rt.alloc(4 * blob.length);
      rt.f32(at, blob.length).set(blob);
      return at;
    });
    this.base = rt.mark;
  }

  /** Every byte of memory an h×w window needs: the fixed part, the window's buffers (frames as floats, the
   *  larger type) and every thread's scratch. */
  workingBytes(h: number, w: number): number {
    return this.layout(h, w, 'f32').end;
  }

  runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    const run = this.queue.then(() => this.run(src, io, frameWidth, win, keep, dst));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    await this.queue;
    await this.rt.dispose();
  }

  private layout(h: number, w: number, io: Io): WindowLayout {
    const E = io === 'u8' ? 1 : 4;
    const s = this.graph.scale;
    let at = this.base;
    const take = (bytes: number) => ((at = Math.ceil(at / 64) * 64 + bytes), at - bytes);
    const input = take(h * w * 3 * E);
    const slots = this.plan.slotChannels.map((c) => take(4 * h * c * rowStride(w)));
    const output = take(h * w * s * s * 3 * E);
    const stride = scratchStride(this.plan.stages.map((p) => stageShape(p.node, io)), w);
    const scratch = take(this.rt.threads * stride);
    return { input, slots, output, scratch, stride, end: at };
  }

  private async run(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    const { loaded, fns, kernels } = await this.kernelsFor(io, win.h, win.w);
    const rt = this.rt;
    rt.wake();
    const L = this.layout(win.h, win.w, io);
    rt.reserve(L.end);
    const view = (at: number, n: number) => (io === 'u8' ? rt.u8(at, n) : rt.f32(at, n));
    const row = win.w * 3;
    const input = view(L.input, win.h * row);
    for (let y = 0; y < win.h; y++) {
      const from = ((win.y + y) * frameWidth + win.x) * 3;
      (input as Uint8Array).set(src.subarray(from, from + row) as Uint8Array, y * row);
    }

    const at = (p: Place, frame: number) => (p === 'frame' ? frame : L.slots[p]);
    const kept = { y0: keep.y - win.y, y1: keep.y - win.y + keep.h, x0: keep.x - win.x, x1: keep.x - win.x + keep.w };
    const whole = { y0: 0, y1: win.h, x0: 0, x1: win.w };
    for (const [i, s] of this.plan.stages.entries()) {
      const k = s.out === 'frame' ? kept : whole;
      writeArgs(rt, this.args[i], kernels[i], {
        inputs: s.inputs.map((p) => at(p, L.input)),
        residual: s.residual === null ? 0 : at(s.residual, 0),
        out: at(s.out, L.output),
        wts: this.wts[i],
        h: win.h,
        w: win.w,
        keep: k,
      });
      await rt.run(loaded, fns[i], this.args[i], k.y0, k.y1, L.scratch, L.stride);
    }

    const sc = this.graph.scale;
    const outRow = keep.w * sc * 3;
    const output = view(L.output, keep.h * sc * outRow);
    for (let y = 0; y < keep.h * sc; y++)  (dst as Uint8Array).set(output.subarray(y * outRow, (y + 1) * outRow) as Uint8Array, ((keep.y * sc + y) * frameWidth * sc + keep.x * sc) * 3);
  }

  private kernelsFor(io: Io, h: number, w: number): Promise<{ loaded: Loaded; fns: number[]; kernels: Kernel[] }> {
    const key = `${io}/${widthClass(w, LIMITS.vw)}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.build(io, h, w);
      this.kernels.set(key, k);
    }
    return k;
  }

  private async build(io: Io, h: number, w: number): Promise<{ loaded: Loaded; fns: number[]; kernels: Kernel[] }> {
    const kernels: Kernel[] = [];
    for (const { node } of this.plan.stages) {
      kernels.push({ shape: stageShape(node, io), tuning: this.opts.tune ? await tuneStage(node, io, h, w, this.opts) : DEFAULT_TUNING });
    }
    // Width classes with the same choices (every one, untuned) share a module.
    const key = kernels.map((k) => stageKernelName(k.shape, k.tuning)).join();
    let m = this.modules.get(key);
    if (!m) this.modules.set(key, (m = loadKernels(this.rt, kernels, this.opts.relaxed)));
    return { ...(await m), kernels };
  }
}
