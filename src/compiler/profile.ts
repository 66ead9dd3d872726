// Runnables for the parts of a WDSR-B network, each executing exactly the kernel deployment runs (same fused
// stage, same tuning, same threads and bands) on an h×w input of its own, so that a speed model can add them
// up: whole-model time ≈ head + Σ blocks + tail (times a factor the caller measures on whole models).
import { defaultCacheDir, findToolchain, ompThreads } from '../backends/native/compile.js';
import { Model } from '../models/model.js';
import { type Io, packStage, stageKernel, stageKernelName, stageShape } from './codegen.js';
import { optimizedGraph } from './compile.js';
import { fuseStages, stagesOf } from './fuse.js';
import { type StageNode, stageMacsPerPixel } from './ir.js';
import { type StageCall, StageKernels } from './native-kernels.js';
import { defaultTuning, tuneAll, tuneStage } from './tune.js';

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
  /** Runs the part once, synchronously. */
  run(): void;
}

export interface PartOptions {
  readonly scale: number;
  readonly h: number;
  readonly w: number;
  readonly threads?: number;
  /** Tuned as deployment tunes (default), or the untuned default blocking. */
  readonly tune?: boolean;
  /** Frame element type of the head's input and the tail's output: 'u8' is runImage (default), 'f32' run. */
  readonly io?: Io;
  readonly cacheDir?: string;
}

/** The stage of a part, taken from a one-block WDSR-B compiled the normal way (random weights). */
function partStage(p: PartSpec, scale: number): StageNode {
  const block = p.kind === 'block' ? { m1: p.m1, m2: p.m2 } : { m1: 1, m2: 1 };
  const model = Model.init({ arch: 'wdsr-b', scale, channels: p.c, blocks: [block] }, 1);
  const [head, blk, tail] = stagesOf(fuseStages(optimizedGraph(model)));
  return p.kind === 'head' ? head : p.kind === 'block' ? blk : tail;
}

/** Compiles the parts' kernels (tuning each shape not tuned yet) into one module and returns a runnable per
 *  part, in order. */
export function compileParts(parts: readonly PartSpec[], opts: PartOptions): PartRunnable[] {
  const tc = findToolchain();
  if (!tc) throw new Error('compileParts: needs a C compiler with OpenMP (set CC, or install gcc or clang)');
  const env = { tc, cacheDir: opts.cacheDir ?? defaultCacheDir() };
  const io = opts.io ?? 'u8';
  const threads = opts.threads ?? ompThreads();
  const stages = parts.map((p) => partStage(p, opts.scale));
  if (opts.tune !== false) tuneAll(stages, io, opts.h, opts.w, env, threads);
  const sources = new Map<string, ReturnType<typeof stageKernel>>();
  const names = stages.map((s) => {
    const shape = stageShape(s, io);
    const tuning = opts.tune === false ? defaultTuning(tc.target) : tuneStage(s, io, opts.h, opts.w, env);
    const name = stageKernelName(shape, tuning);
    if (!sources.has(name)) sources.set(name, stageKernel(name, shape, tuning, tc.target));
    return name;
  });
  const kernels = new StageKernels([...sources.values()], tc, env.cacheDir);
  return parts.map((part, i) => {
    const call: StageCall = kernels.syntheticCall(stages[i], packStage(stages[i]), io, opts.h, opts.w, threads);
    return { part, macs: stageMacsPerPixel(stages[i]) * opts.h * opts.w, run: () => kernels.runStage(names[i], call) };
  });
}

export const compileHead = (c: number, opts: PartOptions) => compileParts([{ kind: 'head', c }], opts)[0];
export const compileBlock = (b: { c: number; m1: number; m2: number }, opts: PartOptions) => compileParts([{ kind: 'block', ...b }], opts)[0];
export const compileTail = (c: number, opts: PartOptions) => compileParts([{ kind: 'tail', c }], opts)[0];
