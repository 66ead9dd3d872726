// Runs a fused graph's stages on the native backend, one window at a time: planar buffers for the values
// between stages (reused as soon as a value is dead), tuned kernels per (frame element type, width class),
// and the first and last stages reading and writing the caller's frames directly.
import type { Toolchain } from '../backends/native/compile.js';
import { type Io, packStage, stageKernel, stageKernelName, stageShape } from './codegen.js';
import { stagesOf } from './fuse.js';
import { channelsOf, type Graph, INPUT, type StageNode } from './ir.js';
import { type Frame, StageKernels } from './native-kernels.js';
import type { Rect } from './tiles.js';
import { defaultTuning, tuneStage, widthClass } from './tune.js';

export interface NativeRunnerOptions {
  readonly tc: Toolchain;
  readonly cacheDir: string;
  readonly threads: number;
  /** Time candidate kernels (once per stage shape and width class, cached on disk); else the default choice. */
  readonly tune: boolean;
}

/** Where a stage reads or writes: the caller's frame, or planar buffer slot i. */
type Place = 'frame' | number;

interface PlannedStage {
  readonly node: StageNode;
  readonly blob: Float32Array;
  readonly inputs: readonly Place[];
  readonly residual: Place | null;
  readonly out: Place;
}

export class NativeRunner {
  private readonly stages: PlannedStage[];
  /** Channels of the widest value each slot holds. */
  private readonly slotChannels: number[] = [];
  private slots: Float32Array[] = [];
  private readonly kernels = new Map<string, { module: StageKernels; names: string[] }>();

  constructor(
    readonly graph: Graph,
    private readonly opts: NativeRunnerOptions,
  ) {
    const stages = stagesOf(graph);
    const channels = channelsOf(graph);
    const lastUse = new Map<number, number>();
    stages.forEach((s, i) => [...s.terms.map((t) => t.x), ...(s.residual === null ? [] : [s.residual])].forEach((v) => lastUse.set(v, i)));
    const slotOf = new Map<number, number>();
    const place = (v: number): Place => (v === INPUT ? 'frame' : slotOf.get(v)!);
    this.stages = stages.map((node, i) => {
      const inputs = node.terms.map((t) => place(t.x));
      const residual = node.residual === null ? null : place(node.residual);
      let out: Place = 'frame';
      if (node.y !== graph.output) {
        // A slot is free once its value's last reader has run; a stage never writes a slot it reads.
        const busy = new Set([...slotOf].filter(([v]) => lastUse.get(v)! >= i).map(([, s]) => s));
        let s = this.slotChannels.findIndex((_, j) => !busy.has(j));
        if (s < 0) s = this.slotChannels.push(0) - 1;
        this.slotChannels[s] = Math.max(this.slotChannels[s], channels.get(node.y)!);
        for (const [v, sv] of slotOf) if (sv === s) slotOf.delete(v);
        slotOf.set(node.y, s);
        out = s;
      }
      return { node, blob: packStage(node), inputs, residual, out };
    });
  }

  /** Bytes to run an h×w window: the planar buffers plus each thread's rings and tiles. */
  workingBytes(h: number, w: number): number {
    const vw = this.opts.tc.target.vw;
    const ws = Math.ceil(w / vw) * vw;
    const buffers = this.slotChannels.reduce((a, c) => a + h * c * ws, 0);
    const scratch = Math.max(
      ...this.stages.map(({ node }) =>
        node.terms.reduce((a, t) => a + t.k * t.cin * (ws + 2 * vw) + 2 * 128 * Math.max(1, ...t.chain.map((p) => p.cout)), 0) + (node.shuffle > 1 ? node.terms[0].cout * ws : 0),
      ),
    );
    return 4 * (buffers + this.opts.threads * scratch);
  }

  /** Runs window `win` of an input frame `frameWidth` pixels wide and stores the output of `keep` (frame
   *  coordinates, inside win) at its place in the output frame. */
  runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): void {
    const { module, names } = this.kernelsFor(io, win.h, win.w);
    const size = (c: number) => module.planarSize(win.h, win.w, c);
    this.slots = this.slotChannels.map((c, i) => (this.slots[i]?.length >= size(c) ? this.slots[i] : module.aligned(size(c))));
    const at = (p: Place, frame: Frame): Frame => (p === 'frame' ? frame : this.slots[p]);
    const whole = { y0: 0, y1: win.h, x0: 0, x1: win.w };
    const kept = { y0: keep.y - win.y, y1: keep.y - win.y + keep.h, x0: keep.x - win.x, x1: keep.x - win.x + keep.w };
    this.stages.forEach((s, i) =>
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

  private kernelsFor(io: Io, h: number, w: number): { module: StageKernels; names: string[] } {
    const target = this.opts.tc.target;
    const key = `${io}/${widthClass(w, target.vw)}`;
    let k = this.kernels.get(key);
    if (!k) {
      const env = { tc: this.opts.tc, cacheDir: this.opts.cacheDir };
      const sources = new Map<string, ReturnType<typeof stageKernel>>();
      const names = this.stages.map(({ node }) => {
        const shape = stageShape(node, io);
        const tuning = this.opts.tune ? tuneStage(node, io, h, w, env) : defaultTuning(target);
        const name = stageKernelName(shape, tuning);
        if (!sources.has(name)) sources.set(name, stageKernel(name, shape, tuning, target));
        return name;
      });
      k = { module: new StageKernels([...sources.values()], this.opts.tc, this.opts.cacheDir), names };
      this.kernels.set(key, k);
    }
    return k;
  }
}
