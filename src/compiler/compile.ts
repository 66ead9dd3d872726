// compile(): a Model → a runnable that upscales frames on a target. The graph is built from the model's forward
// pass, folded and pruned (passes.ts, prune.ts); the target fuses and renders it (src/targets). Frames whose
// working memory exceeds the budget run in overlapping tiles. Target-free: no `node:*`, so it runs in a browser.
import { rgbImage, type RgbImage } from '../image/image.js';
import type { Model } from '../models/model.js';
import type { Precision, Target, TargetName, WindowRunner } from '../targets/target.js';
import { buildGraph, type Gates } from './build.js';
import { type Graph, macsPerPixel } from './ir.js';
import { foldAll } from './passes.js';
import { eliminateDead, pruneChannels } from './prune.js';
import { planTiles, receptiveRadius, type Tile } from './tiles.js';

export interface CompileOptions {
  /** Where it runs (src/targets/registry.ts finds one by name). */
  readonly target: Target;
  /** Working memory (activations and scratch, not the caller's frames) above which a frame runs in tiles.
   *  Default 256 MiB. */
  readonly memoryBudgetBytes?: number;
  /** Default: the target's (native: $OMP_NUM_THREADS, else every core). */
  readonly threads?: number;
  /** Time candidate kernels once per stage shape and width class (cached where the target can); default true. */
  readonly tune?: boolean;
  /** Supernet gates by conv name (see build.ts, and wdsrGates for WDSR-B). */
  readonly gates?: Gates;
  /** Node targets' kernel and tuning cache; default theirs (RTSR_CACHE_DIR, XDG_CACHE_HOME, ~/.cache). */
  readonly cacheDir?: string;
  /** What weights and activations are stored as; default f32 (f16: webgpu with 'shader-f16' only). */
  readonly precision?: Precision;
}

export interface CompiledModel {
  readonly scale: number;
  readonly target: TargetName;
  /** The graph that runs: fused stages, or folded nodes on the reference target. */
  readonly graph: Graph;
  /** Multiply-accumulates of one h×w frame as compiled (pruned channels and skipped blocks excluded). */
  macs(h: number, w: number): number;
  /** Working memory (bytes) to run an h×w frame untiled; above the budget the frame is tiled. */
  workingBytes(h: number, w: number): number;
  /** The tiles an h×w frame runs in under the memory budget (one tile when it fits). */
  tiles(h: number, w: number): Tile[];
  /** lrHWC: h×w×3 floats in [0, 1] → (h·s)×(w·s)×3 floats, unclamped, as Model.forward; written into `out`
   *  where given (a frame loop's one array: a fresh 11 MB one faults its pages in again and again), else into a
   *  new array. */
  run(lrHWC: Float32Array, h: number, w: number, out?: Float32Array): Promise<Float32Array>;
  /** uint8 → uint8 with fromFloat's clamping and MATLAB rounding, fused into the last kernel. */
  runImage(img: RgbImage): Promise<RgbImage>;
  /** Frees the target's resources (workers, GPU buffers); the model must not run afterwards. */
  dispose(): Promise<void>;
}

export const DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20;

/** The model's graph with weight norm, gates, ReLUs and affine shifts folded, zero channels and skipped
 *  blocks removed: what every target runs (after fusing it, where it fuses). */
export function optimizedGraph(model: Model, gates?: Gates): Graph {
  return eliminateDead(pruneChannels(foldAll(buildGraph(model, gates))));
}

export async function compile(model: Model, opts: CompileOptions): Promise<CompiledModel> {
  const { target } = opts;
  const precision = opts.precision ?? 'f32';
  const missing = await target.unavailable(precision);
  if (missing) throw new Error(`compile: the ${target.name} target is not available here${precision === 'f32' ? '' : ` in ${precision}`}: ${missing}`);
  const threads = opts.threads ?? target.defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`compile: threads must be an integer ≥ 1, got ${threads}`);
  const runner = await target.createRunner(optimizedGraph(model, opts.gates), { threads, tune: opts.tune ?? true, cacheDir: opts.cacheDir, precision });
  return new Compiled(target.name, runner, opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET);
}

class Compiled implements CompiledModel {
  readonly scale: number;
  private readonly radius: number;
  private plan: { h: number; w: number; tiles: Tile[] } | null = null;

  constructor(
    readonly target: TargetName,
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

  async run(lrHWC: Float32Array, h: number, w: number, into?: Float32Array): Promise<Float32Array> {
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new Error(`run: bad frame size ${w}x${h}`);
    if (lrHWC.length !== h * w * 3) throw new Error(`run: a ${w}x${h} RGB frame needs ${h * w * 3} floats, got ${lrHWC.length}`);
    const n = h * w * 3 * this.scale * this.scale;
    if (into && into.length !== n) throw new Error(`run: the output of a ${w}x${h} frame is ${n} floats, got an array of ${into.length}`);
    const out = into ?? (this.runner.allocFrame?.(n, 'f32') as Float32Array | undefined) ?? new Float32Array(n);
    for (const t of this.tiles(h, w)) await this.runner.runWindow(lrHWC, 'f32', w, t.win, t.keep, out);
    return out;
  }

  async runImage(img: RgbImage): Promise<RgbImage> {
    const s = this.scale;
    const n = img.data.length * s * s;
    const out = (this.runner.allocFrame?.(n, 'u8') as Uint8Array | undefined) ?? new Uint8Array(n);
    for (const t of this.tiles(img.height, img.width)) await this.runner.runWindow(img.data, 'u8', img.width, t.win, t.keep, out);
    return rgbImage(img.width * s, img.height * s, out);
  }

  dispose(): Promise<void> {
    return this.runner.dispose();
  }
}
