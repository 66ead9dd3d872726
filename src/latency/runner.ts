// What the profiler measures and the contract with whatever runs it. A runner compiles and runs the parts
// of an adaptive WDSR-B network exactly as deployment runs them on one h×w input: whole-model time ≈ (head +
// Σ blocks + tail) times a factor measured on whole models. `createRunner` is the one place that
// decides which runner a profile uses.
import type { Target } from '../targets/target.js';

/** The widths of one adaptive block: 1×1 C→M1, ReLU, 1×1 M1→M2, 3×3 M2→C, + residual. */
export interface BlockConfig {
  readonly c: number;
  readonly m1: number;
  readonly m2: number;
}

export type Part =
  /** Input shift and the 3×3 head conv 3→C. */
  | { readonly kind: 'head'; readonly c: number }
  /** Tail conv 3×3 C→3s², global skip conv 5×5 3→3s², add, depth-to-space, output shift. */
  | { readonly kind: 'tail'; readonly c: number }
  | ({ readonly kind: 'block' } & BlockConfig)
  /** A whole network: head, the blocks in order, tail. */
  | { readonly kind: 'model'; readonly c: number; readonly blocks: readonly { readonly m1: number; readonly m2: number }[] };

/** A stable name for a part: the profile file's key, so a resumed profile knows what it has measured. */
export function partKey(p: Part): string {
  switch (p.kind) {
    case 'head':
    case 'tail':
      return `${p.kind}:${p.c}`;
    case 'block':
      return `block:${p.c},${p.m1},${p.m2}`;
    case 'model':
      return `model:${p.c}:${p.blocks.map((b) => `${b.m1},${b.m2}`).join(';')}`;
  }
}

/** How the parts run: recorded in the profile's device fingerprint. */
export interface RunnerInfo {
  /** Which implementation runs the parts, e.g. 'engine-unfused'. */
  readonly runner: string;
  /** The compile target whose code is timed (src/targets). */
  readonly target: string;
  /** The compiler that built the kernels, with its version. */
  readonly compiler: string;
  /** Threads the kernels run on, as deployment runs them. */
  readonly threads: number;
}

export interface BlockRunner {
  readonly info: RunnerInfo;
  /** Compiles every part not compiled yet, batched into as few compiler runs as the runner can. */
  prepare(parts: readonly Part[]): Promise<void>;
  /** Runs one prepared part once on the runner's h×w input. */
  run(part: Part): Promise<void>;
  /** Milliseconds one run of a prepared part takes, for runners that measure better than a wall clock around
   *  run() (a GPU target's device time); absent: the profiler clocks run(). */
  time?(part: Part): Promise<number>;
}

export interface RunnerOptions {
  readonly target: Target;
  readonly scale: number;
  readonly h: number;
  readonly w: number;
}

/** The runner profiles use: the target's deployed stage code where it compiles stages; on `reference` (which
 *  has none), the engine's unfused ops on the reference kernels. */
export async function createRunner(opts: RunnerOptions): Promise<BlockRunner> {
  if (opts.target.benchStages) return (await import('./compiler-runner.js')).createCompilerRunner(opts);
  return (await import('./engine-runner.js')).createEngineRunner(opts);
}
