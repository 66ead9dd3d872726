// Runs a fused graph's stages on the native target, one window at a time: the stage plan (compiler/plan.ts) cut
// into pipelined segments (segment.ts, cut.ts), planar buffers for the slots that cross a segment's edge, tuned
// kernels per (frame element type, width class, cut), and the first and last segments reading and writing the
// caller's frames directly.
import type { Toolchain } from '../../backends/native/compile.js';
import type { Graph } from '../../compiler/ir.js';
import { planStages, type StagePlan } from '../../compiler/plan.js';
import { type Io, stageKernelName, stageShape, widthClass } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import type { Frame, WindowRunner } from '../target.js';
import { cutCandidates, cutPlan, cutsModule, DEFAULT_CUT, l2Bytes, tuneCut } from './cut.js';
import type { SegmentKernels } from './kernels.js';
import { type PlacedSegment, placeSegment, segmentScratchBytes, type SegmentStage } from './segment.js';
import { defaultNativeTuning, tuneAll, tuneStage } from './tune.js';

export interface NativeRunnerOptions {
  readonly tc: Toolchain;
  readonly cacheDir: string;
  readonly threads: number;
  /** Time candidate kernels and cuts (once per shape and width class, cached on disk); else default choices. */
  readonly tune: boolean;
  /** Cut segments within this many bytes of scratch per thread instead of tuning the cut; 0 runs every stage
   *  alone. */
  readonly segmentBytes?: number;
}

interface Built {
  /** The plan's stages by segment. */
  readonly groups: readonly (readonly number[])[];
  readonly module: SegmentKernels;
  /** Where the groups' segments start in the module's list. */
  readonly first: number;
  readonly segments: readonly PlacedSegment[];
  /** The slots the segments read or write; the others would hold values that never leave a segment. */
  readonly used: ReadonlySet<number>;
}

export class NativeRunner implements WindowRunner {
  private readonly plan: StagePlan;
  private slots: Float32Array[] = [];
  private readonly built = new Map<string, Promise<Built>>();

  constructor(
    readonly graph: Graph,
    private readonly opts: NativeRunnerOptions,
  ) {
    this.plan = planStages(graph);
  }

  /** The cuts a frame w wide may run with, each with its budget (× L2): the given budget's, else the tuner's
   *  candidates (cut.ts) or the default. */
  private candidates(w: number): { budget: number; groups: number[][] }[] {
    const { segmentBytes, tune, tc } = this.opts;
    const vw = tc.target.vw;
    if (tune && segmentBytes === undefined) return cutCandidates(this.plan, w, vw);
    const budget = segmentBytes === undefined ? DEFAULT_CUT : segmentBytes / l2Bytes();
    return [{ budget, groups: cutPlan(this.plan, w, vw, budget) }];
  }

  private cutsFor(w: number): number[][][] {
    return this.candidates(w).map((c) => c.groups);
  }

  private usedSlots(groups: readonly (readonly number[])[]): Set<number> {
    const used = new Set<number>();
    for (const g of groups) for (const p of [...placeSegment(this.plan, g).args, this.plan.stages[g[g.length - 1]].out]) if (p !== 'frame') used.add(p);
    return used;
  }

  /** Bytes to run an h×w window: the planar buffers plus each thread's segment scratch, for the hungriest cut
   *  the window may run with (a tuned cut is only known once measured). */
  workingBytes(h: number, w: number): number {
    const vw = this.opts.tc.target.vw;
    const ws = Math.ceil(w / vw) * vw;
    return Math.max(
      ...this.cutsFor(w).map((groups) => {
        const used = this.usedSlots(groups);
        const buffers = this.plan.slotChannels.reduce((a, c, i) => a + (used.has(i) ? 4 * h * c * ws : 0), 0);
        const scratch = Math.max(...groups.map((g) => segmentScratchBytes(g.map((i) => this.plan.stages[i].node), ws, vw)));
        return buffers + this.opts.threads * scratch;
      }),
    );
  }

  async runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
    const { module, first, segments, used } = await this.kernelsFor(io, win.h, win.w);
    const size = (c: number) => module.planarSize(win.h, win.w, c);
    this.slots = this.plan.slotChannels.map((c, i) =>
      !used.has(i) ? new Float32Array(0) : this.slots[i]?.length >= size(c) ? this.slots[i] : module.aligned(size(c)),
    );
    module.runPlaced(first, segments, this.slots, src, dst, frameWidth, win, keep, this.opts.threads);
  }

  async dispose(): Promise<void> {
    this.slots = [];
  }

  /** Uninitialised memory from the C heap (the segments write every element): a zeroed 11 MB frame cost
   *  0.4 ms of memset per 720p float frame here, 2 % of a 2-thread wdsr-b-x2 frame. */
  allocFrame(n: number, io: Io): Frame {
    const bytes = Buffer.allocUnsafeSlow(n * (io === 'f32' ? 4 : 1));
    return io === 'f32' ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Uint8Array(bytes.buffer, bytes.byteOffset, n);
  }

  /** Kernels per frame element type and width class (tunings, the cut's budget) and width (the cut itself). */
  private kernelsFor(io: Io, h: number, w: number): Promise<Built> {
    const key = `${io}/${widthClass(w, this.opts.tc.target.vw)}/${w}`;
    let k = this.built.get(key);
    if (!k) {
      k = this.build(io, h, w);
      this.built.set(key, k);
    }
    return k;
  }

  private async build(io: Io, h: number, w: number): Promise<Built> {
    const { tc, cacheDir, tune } = this.opts;
    const env = { tc, cacheDir };
    const stages: SegmentStage[] = [];
    // A cold cache's untuned shapes over the threads at once (a compiler run each round): a model's first frame
    // on a new machine is mostly tuning.
    if (tune) await tuneAll(this.plan.stages.map((s) => s.node), io, h, w, env, this.opts.threads);
    for (const { node } of this.plan.stages) {
      const shape = stageShape(node, io);
      const tuning = tune ? await tuneStage(node, io, h, w, env) : defaultNativeTuning(tc.target);
      stages.push({ node, shape, tuning, kernel: stageKernelName(shape, tuning) });
    }
    const cands = this.candidates(w);
    const budget = cands.length > 1 ? await tuneCut(this.plan, stages, io, h, w, this.opts.threads, env) : cands[0].budget;
    const chosen = cands.findIndex((c) => c.budget === budget);
    // Tuned, the module the cut was timed in (every candidate's segments): the kernel cache already has it.
    const { kernels, first } = cutsModule(cands.map((c) => c.groups), stages, env);
    const { groups } = cands[chosen];
    return {
      groups,
      module: kernels,
      first: first[chosen],
      segments: groups.map((g) => placeSegment(this.plan, g)),
      used: this.usedSlots(groups),
    };
  }
}
