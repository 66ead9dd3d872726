// The parts of an adaptive WDSR-B network as the stages deployment compiles them, so that a speed model can add
// them up: whole-model time ≈ head + Σ blocks + tail (times a factor the caller measures on whole models). A
// target compiles and runs them (Target.benchStages) exactly as it runs a deployed model's stages.
import { Model } from '../models/model.js';
import type { StageBenchOptions, Target } from '../targets/target.js';
import { optimizedGraph } from './compile.js';
import { fuseStages, stagesOf } from './fuse.js';
import { type StageNode, stageMacsPerPixel } from './ir.js';

export type PartSpec =
  /** The input shift folded into the 3×3 head conv 3→C, reading the RGB frame. */
  | { readonly kind: 'head'; readonly c: number }
  /** One adaptive block, fused: 1×1 C→M1, ReLU, 1×1 M1→M2, 3×3 M2→C, + residual. */
  | { readonly kind: 'block'; readonly c: number; readonly m1: number; readonly m2: number }
  /** Tail 3×3 C→3s² + global skip 5×5 3→3s², depth-to-space, +0.5, and the store into the output frame. */
  | { readonly kind: 'tail'; readonly c: number };

export interface PartRunnable {
  readonly part: PartSpec;
  /** The stage's multiply-accumulates on the h×w input. */
  readonly macs: number;
  /** Runs the part once. */
  run(): Promise<void>;
  /** Milliseconds one run takes, where the target times it better than a wall clock around run() (StageBench.time:
   *  a GPU's device time; wasm with its workers woken first, as in a deployed frame). */
  time?(): Promise<number>;
}

export interface PartOptions extends Partial<Omit<StageBenchOptions, 'h' | 'w'>> {
  readonly target: Target;
  readonly scale: number;
  readonly h: number;
  readonly w: number;
}

/** The stage of a part, taken from a one-block WDSR-B compiled the normal way (random weights). */
export function partStage(p: PartSpec, scale: number): StageNode {
  const block = p.kind === 'block' ? { m1: p.m1, m2: p.m2 } : { m1: 1, m2: 1 };
  const model = Model.init({ arch: 'wdsr-b', scale, channels: p.c, blocks: [block] }, 1);
  const [head, blk, tail] = stagesOf(fuseStages(optimizedGraph(model)));
  return p.kind === 'head' ? head : p.kind === 'block' ? blk : tail;
}

/** Compiles the parts' stages on the target (tuning each shape not tuned yet, as deployment does unless `tune`
 *  is false) and returns a runnable per part, in order. Frames are uint8 (runImage) unless `io` says 'f32'. */
export async function compileParts(parts: readonly PartSpec[], opts: PartOptions): Promise<PartRunnable[]> {
  const { target } = opts;
  if (!target.benchStages) throw new Error(`compileParts: the ${target.name} target has no compiled stages to time`);
  const stages = parts.map((p) => partStage(p, opts.scale));
  const bench = await target.benchStages(stages, {
    io: opts.io ?? 'u8',
    h: opts.h,
    w: opts.w,
    threads: opts.threads ?? target.defaultThreads(),
    tune: opts.tune ?? true,
    cacheDir: opts.cacheDir,
  });
  const time = bench.time?.bind(bench);
  return parts.map((part, i) => ({ part, macs: stageMacsPerPixel(stages[i]) * opts.h * opts.w, run: () => bench.run(i), time: time && (() => time(i)) }));
}
