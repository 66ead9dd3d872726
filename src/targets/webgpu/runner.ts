// Runs a fused graph's stages on the device, one window at a time: the window's frame uploaded, every stage
// dispatched in one compute pass of one command buffer (WebGPU orders dependent dispatches), the kept output
// copied to a mappable buffer and read back. Buffers are sized for the largest window seen and reused; a
// window whose buffers would pass the device's limits has no finite working size, so compile.ts tiles it.
// Programs are built per (frame type, window size class) on schedules tuned for it. Each window asks the
// target for its device: after a loss that is a new one (once), and the runner rebuilds everything on it.
import type { Graph } from '../../compiler/ir.js';
import { type Place, planStages, type StagePlan } from '../../compiler/plan.js';
import type { Io } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import type { Frame, WindowRunner } from '../target.js';
import type { GpuContext } from './device.js';
import { type GpuBindGroup, type GpuBuffer, type GpuLimits, MAP_READ, USAGE } from './gpu.js';
import { frameStride, gpuBuffer, type Region, StageProgram } from './program.js';
import { elementBytes, SMALLEST_TILE } from './schedule.js';
import { pixelClass, schedules, type TuneEnv } from './tune.js';

export interface WebGpuRunnerOptions extends TuneEnv {
  /** Time candidate schedules per stage shape and window size class (cached per adapter); else the default. */
  readonly tune: boolean;
}

/** Buffers of windows up to `pixels` pixels; frames and outputs are sized for floats, the larger case. */
interface WindowBuffers {
  readonly pixels: number;
  readonly input: GpuBuffer;
  readonly slots: readonly GpuBuffer[];
  readonly out: GpuBuffer;
  readonly readback: GpuBuffer;
  /** Bind groups per program set (key of `programs`). */
  readonly bound: Map<string, GpuBindGroup[]>;
}

export class WebGpuRunner implements WindowRunner {
  private readonly plan: StagePlan;
  /** Programs by frame type and window size class, on the device `ctx`. */
  private readonly programs = new Map<string, Promise<StageProgram[]>>();
  private buffers: WindowBuffers | null = null;
  private ctx: GpuContext | null = null;
  /** Windows run one after another: they share the buffers. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly graph: Graph,
    /** The target's device: the same one until it is lost. */
    private readonly device: () => Promise<GpuContext>,
    private readonly limits: GpuLimits,
    private readonly opts: WebGpuRunnerOptions,
  ) {
    this.plan = planStages(graph);
    const bad = this.plan.stages.find((s) => (s.out === 'frame') !== s.node.shuffle > 1);
    if (bad) throw new Error(`webgpu: stage '${bad.node.name}' ${bad.out === 'frame' ? 'writes the output frame without' : 'is not the output but ends in'} a depth-to-space`);
  }

  private sizes(pixels: number): { input: number; slots: number[]; out: number } {
    const s = this.graph.scale;
    const elem = elementBytes(this.opts.precision);
    return { input: 12 * pixels, slots: this.plan.slotChannels.map((c) => elem * c * pixels), out: 12 * pixels * s * s };
  }

  /** Bytes of the window's device buffers (the readback buffer counts twice: it mirrors the output); Infinity
   *  when a buffer or a dispatch on any schedule would pass the device's limits. */
  workingBytes(h: number, w: number): number {
    const l = this.limits;
    const { input, slots, out } = this.sizes(h * w);
    const maxBuffer = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
    const dispatchFits = Math.max(Math.ceil(w / SMALLEST_TILE.tw), Math.ceil(h / SMALLEST_TILE.th)) <= l.maxComputeWorkgroupsPerDimension;
    if (!dispatchFits || Math.max(input, out, ...slots) > maxBuffer) return Infinity;
    return input + 2 * out + slots.reduce((a, b) => a + b, 0);
  }

  runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    const run = this.queue.then(() => this.run(src, io, frameWidth, win, keep, dst));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    if (!Number.isFinite(this.workingBytes(win.h, win.w))) throw new Error(`webgpu: a ${win.w}x${win.h} window passes this device's limits (compile() tiles frames to fit)`);
    const ctx = await this.device();
    if (ctx !== this.ctx) this.forget(ctx);
    const key = `${io}/${pixelClass(win.h, win.w)}`;
    const programs = await this.programsFor(ctx, key, io, win);
    const b = this.buffersFor(ctx, win.h * win.w);
    let groups = b.bound.get(key);
    if (!groups) b.bound.set(key, (groups = this.bind(programs, b)));
    const { device } = ctx;
    device.queue.writeBuffer(b.input, 0, windowOf(src, frameWidth, win));

    const s = this.graph.scale;
    const whole: Region = { h: win.h, w: win.w, x0: 0, y0: 0, rw: win.w, rh: win.h };
    const kept: Region = { ...whole, x0: keep.x - win.x, y0: keep.y - win.y, rw: keep.w, rh: keep.h };
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    this.plan.stages.forEach((st, i) => {
      const r = st.out === 'frame' ? kept : whole;
      programs[i].setRegion(r);
      programs[i].dispatch(pass, groups![i], r);
    });
    pass.end();
    const stride = frameStride(io, keep.w, s);
    const bytes = 4 * stride * keep.h * s;
    enc.copyBufferToBuffer(b.out, 0, b.readback, 0, bytes);
    device.queue.submit([enc.finish()]);

    await ctx.until(b.readback.mapAsync(MAP_READ, 0, bytes));
    try {
      ctx.check();
      const mapped = b.readback.getMappedRange(0, bytes);
      const rowLen = keep.w * s * 3;
      const out = io === 'u8' ? new Uint8Array(mapped) : new Float32Array(mapped);
      const step = io === 'u8' ? 4 * stride : stride;
      for (let r = 0; r < keep.h * s; r++) dst.set(out.subarray(r * step, r * step + rowLen), ((keep.y * s + r) * frameWidth * s + keep.x * s) * 3);
    } finally {
      b.readback.unmap();
    }
  }

  private programsFor(ctx: GpuContext, key: string, io: Io, win: Rect): Promise<StageProgram[]> {
    let p = this.programs.get(key);
    if (!p) {
      const nodes = this.plan.stages.map((s) => s.node);
      p = schedules(ctx, nodes, io, win.h, win.w, this.opts, this.opts.tune).then((ts) =>
        Promise.all(nodes.map((n, i) => StageProgram.load(ctx, n, io, ts[i], this.opts.precision))),
      );
      p.catch(() => this.programs.delete(key));
      this.programs.set(key, p);
    }
    return p;
  }

  /** Drops what was built on the previous device (lost: its objects are dead) before running on `ctx`. */
  private forget(ctx: GpuContext): void {
    this.programs.clear();
    this.buffers = null;
    this.ctx = ctx;
  }

  private buffersFor(ctx: GpuContext, pixels: number): WindowBuffers {
    if (this.buffers && this.buffers.pixels >= pixels) return this.buffers;
    this.destroyBuffers();
    const sz = this.sizes(pixels);
    const storage = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
    this.buffers = {
      pixels,
      input: gpuBuffer(ctx, sz.input, storage),
      slots: sz.slots.map((n) => gpuBuffer(ctx, n, storage)),
      out: gpuBuffer(ctx, sz.out, storage),
      readback: gpuBuffer(ctx, sz.out, USAGE.MAP_READ | USAGE.COPY_DST),
      bound: new Map(),
    };
    return this.buffers;
  }

  private bind(programs: readonly StageProgram[], b: WindowBuffers): GpuBindGroup[] {
    const at = (p: Place, frame: GpuBuffer) => (p === 'frame' ? frame : b.slots[p]);
    return this.plan.stages.map((s, i) =>
      programs[i].bind({ inputs: s.inputs.map((p) => at(p, b.input)), residual: s.residual === null ? null : at(s.residual, b.input), out: at(s.out, b.out) }),
    );
  }

  private destroyBuffers(): void {
    const b = this.buffers;
    if (b) [b.input, ...b.slots, b.out, b.readback].forEach((x) => x.destroy());
    this.buffers = null;
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.destroyBuffers();
    for (const p of this.programs.values()) (await p.catch(() => [])).forEach((x) => x.dispose());
    this.programs.clear();
  }
}

/** The window's pixels of an HWC frame, packed (bytes padded to a whole word for writeBuffer). */
function windowOf(src: Frame, frameWidth: number, win: Rect): Frame {
  const row = win.w * 3;
  const out = src instanceof Uint8Array ? new Uint8Array(Math.ceil((win.h * row) / 4) * 4) : new Float32Array(win.h * row);
  for (let y = 0; y < win.h; y++) {
    const at = ((win.y + y) * frameWidth + win.x) * 3;
    out.set(src.subarray(at, at + row), y * row);
  }
  return out;
}
