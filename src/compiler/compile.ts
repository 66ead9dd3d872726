// compile(): a Model → a runnable that upscales frames. The graph is built from the model's forward pass,
// folded and pruned (passes.ts, prune.ts); the native backend fuses it into stages and runs generated kernels,
// the reference backend interprets it. Frames whose working memory exceeds the budget run in overlapping tiles.
import { defaultCacheDir, findToolchain, ompThreads } from '../backends/native/compile.js';
import { rgbImage, type RgbImage } from '../image/image.js';
import type { Model } from '../models/model.js';
import { buildGraph, type Gates } from './build.js';
import type { Io } from './codegen.js';
import { fuseStages } from './fuse.js';
import { type Graph, macsPerPixel } from './ir.js';
import type { Frame } from './native-kernels.js';
import { NativeRunner } from './native-runner.js';
import { foldAll } from './passes.js';
import { eliminateDead, pruneChannels } from './prune.js';
import { ReferenceRunner } from './reference-runner.js';
import { planTiles, receptiveRadius, type Rect, type Tile } from './tiles.js';

export interface CompileOptions {
  readonly backend: 'native' | 'reference';
  /** Working memory (activations and scratch, not the caller's frames) above which a frame runs in tiles.
   *  Default 256 MiB. */
  readonly memoryBudgetBytes?: number;
  /** Default: $OMP_NUM_THREADS, else every core. */
  readonly threads?: number;
  /** Native: time candidate kernels once per stage shape and width class (cached on disk); default true. */
  readonly tune?: boolean;
  /** Supernet gates by conv name (see build.ts, and wdsrGates for WDSR-B). */
  readonly gates?: Gates;
  /** Native kernel and tuning cache; default the native backend's (RTSR_CACHE_DIR, XDG_CACHE_HOME, ~/.cache). */
  readonly cacheDir?: string;
}

export interface CompiledModel {
  readonly scale: number;
  readonly backend: 'native' | 'reference';
  /** The graph that runs: fused stages (native) or folded nodes (reference). */
  readonly graph: Graph;
  /** Multiply-accumulates of one h×w frame as compiled (pruned channels and skipped blocks excluded). */
  macs(h: number, w: number): number;
  /** Working memory (bytes) to run an h×w frame untiled; above the budget the frame is tiled. */
  workingBytes(h: number, w: number): number;
  /** The tiles an h×w frame runs in under the memory budget (one tile when it fits). */
  tiles(h: number, w: number): Tile[];
  /** lrHWC: h×w×3 floats in [0, 1] → (h·s)×(w·s)×3 floats, unclamped, as Model.forward. */
  run(lrHWC: Float32Array, h: number, w: number): Float32Array;
  /** uint8 → uint8 with fromFloat's clamping and MATLAB rounding, fused into the last kernel. */
  runImage(img: RgbImage): RgbImage;
}

export const DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20;

interface WindowRunner {
  readonly graph: Graph;
  workingBytes(h: number, w: number): number;
  runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): void;
}

/** The model's graph with weight norm, gates, ReLUs and affine shifts folded, zero channels and skipped
 *  blocks removed: what both backends run (the native one after fusing it). */
export function optimizedGraph(model: Model, gates?: Gates): Graph {
  return eliminateDead(pruneChannels(foldAll(buildGraph(model, gates))));
}

/** 'native' where a C compiler exists; else 'reference', said in one line on stderr (as selectBackend does). */
export function compile(model: Model, opts: CompileOptions): CompiledModel {
  const threads = opts.threads ?? ompThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`compile: threads must be an integer ≥ 1, got ${threads}`);
  const graph = optimizedGraph(model, opts.gates);
  let runner: WindowRunner;
  if (opts.backend === 'native') {
    const tc = findToolchain();
    if (!tc) throw new Error('compile: the native backend needs a C compiler with OpenMP (set CC, or install gcc or clang)');
    runner = new NativeRunner(fuseStages(graph), { tc, cacheDir: opts.cacheDir ?? defaultCacheDir(), threads, tune: opts.tune ?? true });
  } else if (opts.backend === 'reference') runner = new ReferenceRunner(graph);
  else throw new Error(`compile: unknown backend '${String(opts.backend)}' (known: native, reference)`);
  return new Compiled(opts.backend, runner, opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET);
}

class Compiled implements CompiledModel {
  readonly scale: number;
  private readonly radius: number;
  private plan: { h: number; w: number; tiles: Tile[] } | null = null;

  constructor(
    readonly backend: 'native' | 'reference',
    private readonly runner: WindowRunner,
    private readonly budget: number,
  ) {
    this.scale = runner.graph.scale;
    this.radius = receptiveRadius(runner.graph);
  }

  get graph(): Graph {
    return this.runner.graph;
  }

  macs(h: number, w: number): number {
    return macsPerPixel(this.graph) * h * w;
  }

  workingBytes(h: number, w: number): number {
    return this.runner.workingBytes(h, w);
  }

  tiles(h: number, w: number): Tile[] {
    if (this.plan?.h !== h || this.plan.w !== w) this.plan = { h, w, tiles: planTiles(h, w, this.radius, this.budget, (th, tw) => this.workingBytes(th, tw)) };
    return this.plan.tiles;
  }

  run(lrHWC: Float32Array, h: number, w: number): Float32Array {
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new Error(`run: bad frame size ${w}x${h}`);
    if (lrHWC.length !== h * w * 3) throw new Error(`run: a ${w}x${h} RGB frame needs ${h * w * 3} floats, got ${lrHWC.length}`);
    const out = new Float32Array(h * w * 3 * this.scale * this.scale);
    for (const t of this.tiles(h, w)) this.runner.runWindow(lrHWC, 'f32', w, t.win, t.keep, out);
    return out;
  }

  runImage(img: RgbImage): RgbImage {
    const s = this.scale;
    const out = new Uint8Array(img.data.length * s * s);
    for (const t of this.tiles(img.height, img.width)) this.runner.runWindow(img.data, 'u8', img.width, t.win, t.keep, out);
    return rgbImage(img.width * s, img.height * s, out);
  }
}
