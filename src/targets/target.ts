// The contract between the target-free compiler (graph, passes, fusion, planning, tiling: src/compiler) and the
// places a compiled model runs. A target renders stages in its own dialect, builds them with its toolchain (and
// cache), runs them through an async runtime, and times them for the profiler and its tuner. Everything is async
// so that GPU queues and worker threads fit without another rewrite.
import type { Graph, StageNode } from '../compiler/ir.js';
import type { Io } from '../compiler/stage.js';
import type { Rect } from '../compiler/tiles.js';

export type TargetName = 'reference' | 'native' | 'wasm' | 'webgpu';

/** What weights and activations are stored as: f16 only where a target says it runs so (WebGPU with
 *  'shader-f16'); arithmetic stays f32 on every target. */
export type Precision = 'f32' | 'f16';

/** unavailable('f16') of a target that stores f32 only. */
export const f32Only = (name: TargetName): string => `the ${name} target stores f32 only (f16 is for webgpu on an adapter with 'shader-f16')`;

/** An RGB frame: HWC floats in [0, 1] (Io 'f32') or bytes (Io 'u8'). */
export type Frame = Float32Array | Uint8Array;

export interface RunnerOptions {
  /** Threads the kernels run on (targets without threads use one). */
  readonly threads: number;
  /** Time candidate blockings per stage shape and pick the fastest (cached where the target can); else defaults. */
  readonly tune: boolean;
  /** Node targets' on-disk kernel and tuning cache; default theirs (RTSR_CACHE_DIR, XDG_CACHE_HOME, ~/.cache). */
  readonly cacheDir?: string;
  /** Default f32. */
  readonly precision?: Precision;
}

/** Runs one compiled graph window by window (compile.ts tiles frames that do not fit the memory budget). */
export interface WindowRunner {
  /** The graph that runs: fused stages, or the folded nodes for a target that interprets them. */
  readonly graph: Graph;
  /** Bytes to run an h×w window: activations and scratch, not the caller's frames. Infinity where the window
   *  cannot run in one piece at any budget (a GPU buffer past the device's limits): compile.ts tiles it. */
  workingBytes(h: number, w: number): number;
  /** Runs window `win` of an input frame `frameWidth` pixels wide and stores the output of `keep` (frame
   *  coordinates, inside win) at its place in the output frame `dst`. */
  runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void>;
  /** Frees what the runner holds (workers, GPU buffers); it must not run afterwards. */
  dispose(): Promise<void>;
  /** An output frame of n elements that runWindow calls will fill entirely, where the target has a faster one
   *  than a zeroed typed array; absent: a zeroed one. */
  allocFrame?(n: number, io: Io): Frame;
}

/** Fused stages compiled as deployment compiles them, each with a synthetic h×w input of its own: what the
 *  profiler times for a speed model. */
export interface StageBench {
  /** Runs stage i once. */
  run(i: number): Promise<void>;
  /** Milliseconds of device time one run of stage i takes, where the target measures that better than a wall
   *  clock around run() (a GPU: timestamps, or many runs between completion waits); absent: time run(). */
  time?(i: number): Promise<number>;
  dispose(): Promise<void>;
}

export interface StageBenchOptions extends RunnerOptions {
  /** Frame element type of stages that read the input frame or store the output (runImage: 'u8'). */
  readonly io: Io;
  readonly h: number;
  readonly w: number;
}

export interface Target {
  readonly name: TargetName;
  /** Null where the target runs here (at `precision`, default f32); else one line saying what is missing and
   *  how to get it. */
  unavailable(precision?: Precision): Promise<string | null>;
  /** The toolchain and runtime that build and run its code, with versions: part of a profile's fingerprint. */
  describe(): Promise<string>;
  /** Threads a model runs on unless told otherwise (native: $OMP_NUM_THREADS, else every core). */
  defaultThreads(): number;
  /** `graph` is folded and pruned (compiler/compile.ts's optimizedGraph); the target fuses it as it can. */
  createRunner(graph: Graph, opts: RunnerOptions): Promise<WindowRunner>;
  /** Absent on targets without compiled stages (reference): their profiles time the engine's ops instead. */
  benchStages?(stages: readonly StageNode[], opts: StageBenchOptions): Promise<StageBench>;
}
