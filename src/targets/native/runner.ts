// Runs a fused graph's stages on the native target, one window at a time: planar buffers for the slots of the
// stage plan (compiler/plan.ts), tuned kernels per (frame element type, width class), and the first and last
// stages reading and writing the caller's frames directly.
import type { Toolchain } from '../../backends/native/compile.js';
import type { Graph } from '../../compiler/ir.js';
import { type Place, planStages, type StagePlan } from '../../compiler/plan.js';
import { defaultTuning, type Io, stageKernelName, stageShape, widthClass } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import type { Frame, WindowRunner } from '../target.js';
import { StageKernels } from './kernels.js';
import { stageKernel } from './render.js';
import { tuneStage } from './tune.js';

export interface NativeRunnerOptions {
  readonly tc: Toolchain;
  readonly cacheDir: string;
  readonly threads: number;
  /** Time candidate kernels (once per stage shape and width class, cached on disk); else the default choice. */
  readonly tune: boolean;
}

export class NativeRunner implements WindowRunner {
  private readonly plan: StagePlan;
  private slots: Float32Array[] = [];
  private readonly kernels = new Map<string, Promise<{ module: StageKernels; names: string[] }>>();

  constructor(
    readonly graph: Graph,
    private readonly opts: NativeRunnerOptions,
  ) {
    this.plan = planStages(graph);
  }

  /** Bytes to run an h×w window: the planar buffers plus each thread's rings and tiles. */
  workingBytes(h: number, w: number): number {
    const vw = this.opts.tc.target.vw;
    const ws = Math.ceil(w / vw) * vw;
    const buffers = this.plan.slotChannels.reduce((a, c) => a + h * c * ws, 0);
    const scratch = Math.max(
      ...this.plan.stages.map(({ node }) =>
        node.terms.reduce((a, t) => a + t.k * t.cin * (ws + 2 * vw) + 2 * 128 * Math.max(1, ...t.chain.map((p) => p.cout)), 0) + (node.shuffle > 1 ? node.terms[0].cout * ws : 0),
      ),
    );
    return 4 * (buffers + this.opts.threads * scratch);
  }

  async runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    const { module, names } = await this.kernelsFor(io, win.h, win.w);
    const size = (c: number) => module.planarSize(win.h, win.w, c);
    this.slots = this.plan.slotChannels.map((c, i) => (this.slots[i]?.length >= size(c) ? this.slots[i] : module.aligned(size(c))));
    const at = (p: Place, frame: Frame): Frame => (p === 'frame' ? frame : this.slots[p]);
    const whole = { y0: 0, y1: win.h, x0: 0, x1: win.w };
    const kept = { y0: keep.y - win.y, y1: keep.y - win.y + keep.h, x0: keep.x - win.x, x1: keep.x - win.x + keep.w };
    this.plan.stages.forEach((s, i) =>
      module.runStage(names[i], {
        inputs: s.inputs.map((p) => at(p, src)),
        residual: s.residual === null ? null : (at(s.residual, src) as Float32Array),
        out: at(s.out, dst),
        blob: s.blob,
        h: win.h,
        w: win.w,
        x: win.x,
        y: win.y,
        frameWidth,
        keep: s.out === 'frame' ? kept : whole,
        threads: this.opts.threads,
      }),
    );
  }

  async dispose(): Promise<void> {
    this.slots = [];
  }

  private kernelsFor(io: Io, h: number, w: number): Promise<{ module: StageKernels; names: string[] }> {
    const key = `${io}/${widthClass(w, this.opts.tc.target.vw)}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.build(io, h, w);
      this.kernels.set(key, k);
    }
    return k;
  }

  private async build(io: Io, h: number, w: number): Promise<{ module: StageKernels; names: string[] }> {
    const { tc, cacheDir } = this.opts;
    const sources = new Map<string, ReturnType<typeof stageKernel>>();
    const names: string[] = [];
    for (const { node } of this.plan.stages) {
      const shape = stageShape(node, io);
      const tuning = this.opts.tune ? await tuneStage(node, io, h, w, { tc, cacheDir }) : defaultTuning(tc.target);
      const name = stageKernelName(shape, tuning);
      if (!sources.has(name)) sources.set(name, stageKernel(name, shape, tuning, tc.target));
      names.push(name);
    }
    return { module: new StageKernels([...sources.values()], tc, cacheDir), names };
  }
}
