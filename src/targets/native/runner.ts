// Runs a fused graph's stages on the native target, one window at a time: the stage plan (compiler/plan.ts) cut
// into pipelined segments (segment.ts), planar buffers for the slots that cross a segment's edge, tuned kernels
// per (frame element type, width class), and the first and last segments reading and writing the caller's
// frames directly.
import { readFileSync } from 'node:fs';
import type { Toolchain } from '../../backends/native/compile.js';
import type { Graph } from '../../compiler/ir.js';
import { type Place, planStages, type StagePlan } from '../../compiler/plan.js';
import { type Io, stageKernelName, stageShape, widthClass } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import type { Frame, WindowRunner } from '../target.js';
import { SegmentKernels } from './kernels.js';
import { groupSegments, segmentScratchBytes, segmentWiring, type SegmentStage } from './segment.js';
import { defaultNativeTuning, tuneStage } from './tune.js';

export interface NativeRunnerOptions {
  readonly tc: Toolchain;
  readonly cacheDir: string;
  readonly threads: number;
  /** Time candidate kernels (once per stage shape and width class, cached on disk); else the default choice. */
  readonly tune: boolean;
  /** A segment's scratch per thread at most (default: this CPU's L2); 0 runs every stage alone. */
  readonly segmentBytes?: number;
}

/** One segment as the runner calls it: where its arguments and output live, and its weights. */
interface PlacedSegment {
  readonly args: readonly Place[];
  readonly out: Place;
  readonly blob: Float32Array;
}

/** This CPU's per-core L2 in bytes (Linux sysfs; 1 MiB where it cannot be read): a pipeline's rows should stay
 *  in it. */
function l2Bytes(): number {
  for (let i = 0; i < 8; i++) {
    try {
      const dir = `/sys/devices/system/cpu/cpu0/cache/index${i}`;
      if (readFileSync(`${dir}/level`, 'utf8').trim() !== '2') continue;
      const m = /^(\d+)([KM]?)/.exec(readFileSync(`${dir}/size`, 'utf8').trim());
      if (m) return Number(m[1]) * (m[2] === 'M' ? 2 ** 20 : m[2] === 'K' ? 2 ** 10 : 1);
    } catch {
      break;
    }
  }
  return 2 ** 20;
}

export class NativeRunner implements WindowRunner {
  private readonly plan: StagePlan;
  private slots: Float32Array[] = [];
  private readonly kernels = new Map<string, Promise<{ module: SegmentKernels; segments: PlacedSegment[] }>>();
  private readonly budget: number;

  constructor(
    readonly graph: Graph,
    private readonly opts: NativeRunnerOptions,
  ) {
    this.plan = planStages(graph);
    this.budget = opts.segmentBytes ?? l2Bytes();
  }

  private readonly cuts = new Map<string, number[][]>();

  /** The plan's segments for frames w wide. */
  private segmentsFor(w: number): number[][] {
    const vw = this.opts.tc.target.vw;
    const key = `${this.budget}/${w}`;
    let cut = this.cuts.get(key);
    if (!cut) this.cuts.set(key, (cut = groupSegments(this.plan, Math.ceil(w / vw) * vw, vw, this.budget)));
    return cut;
  }

  /** The slots a segment reads or writes; the others would hold values that never leave a segment. */
  private usedSlots(segments: readonly (readonly number[])[]): Set<number> {
    const used = new Set<number>();
    for (const seg of segments) for (const p of [...this.argsOf(seg), this.plan.stages[seg[seg.length - 1]].out]) if (p !== 'frame') used.add(p);
    return used;
  }

  /** Where segment `seg` (plan stage indices) reads each argument (segment.ts's segmentWiring). */
  private argsOf(seg: readonly number[]): Place[] {
    const stages = seg.map((i) => this.plan.stages[i]);
    const args: Place[] = [];
    segmentWiring(stages.map((s) => s.node)).wiring.forEach((w, k) => {
      w.terms.forEach((s, t) => 'arg' in s && (args[s.arg] = stages[k].inputs[t]));
      if (w.residual && 'arg' in w.residual) args[w.residual.arg] = stages[k].residual!;
    });
    return args;
  }

  /** Bytes to run an h×w window: the planar buffers plus each thread's segment scratch. */
  workingBytes(h: number, w: number): number {
    const vw = this.opts.tc.target.vw;
    const ws = Math.ceil(w / vw) * vw;
    const segments = this.segmentsFor(w);
    const used = this.usedSlots(segments);
    const buffers = this.plan.slotChannels.reduce((a, c, i) => a + (used.has(i) ? 4 * h * c * ws : 0), 0);
    const scratch = Math.max(...segments.map((seg) => segmentScratchBytes(seg.map((i) => this.plan.stages[i].node), ws, vw)));
    return buffers + this.opts.threads * scratch;
  }

  async runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    const { module, segments } = await this.kernelsFor(io, win.h, win.w);
    const size = (c: number) => module.planarSize(win.h, win.w, c);
    const used = this.usedSlots(this.segmentsFor(win.w));
    this.slots = this.plan.slotChannels.map((c, i) =>
      !used.has(i) ? new Float32Array(0) : this.slots[i]?.length >= size(c) ? this.slots[i] : module.aligned(size(c)),
    );
    const at = (p: Place, frame: Frame): Frame => (p === 'frame' ? frame : this.slots[p]);
    const whole = { y0: 0, y1: win.h, x0: 0, x1: win.w };
    const kept = { y0: keep.y - win.y, y1: keep.y - win.y + keep.h, x0: keep.x - win.x, x1: keep.x - win.x + keep.w };
    segments.forEach((s, i) =>
      module.run(i, {
        inputs: s.args.map((p) => at(p, src)),
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

  private placed(seg: readonly number[]): PlacedSegment {
    const stages = seg.map((i) => this.plan.stages[i]);
    const blob = new Float32Array(stages.reduce((a, s) => a + s.blob.length, 0));
    stages.reduce((at, s) => (blob.set(s.blob, at), at + s.blob.length), 0);
    return { args: this.argsOf(seg), out: stages[stages.length - 1].out, blob };
  }

  /** Kernels per frame element type, width class (tunings) and cut into segments (which depends on the width). */
  private kernelsFor(io: Io, h: number, w: number): Promise<{ module: SegmentKernels; segments: PlacedSegment[] }> {
    const groups = this.segmentsFor(w);
    const key = `${io}/${widthClass(w, this.opts.tc.target.vw)}/${JSON.stringify(groups)}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.build(io, h, w, groups);
      this.kernels.set(key, k);
    }
    return k;
  }

  private async build(io: Io, h: number, w: number, groups: number[][]): Promise<{ module: SegmentKernels; segments: PlacedSegment[] }> {
    const { tc, cacheDir } = this.opts;
    const stages: SegmentStage[] = [];
    for (const { node } of this.plan.stages) {
      const shape = stageShape(node, io);
      const tuning = this.opts.tune ? await tuneStage(node, io, h, w, { tc, cacheDir }) : defaultNativeTuning(tc.target);
      stages.push({ node, shape, tuning, kernel: stageKernelName(shape, tuning) });
    }
    return { module: new SegmentKernels(groups.map((g) => g.map((i) => stages[i])), tc, cacheDir), segments: groups.map((g) => this.placed(g)) };
  }
}
