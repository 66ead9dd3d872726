// `loadModel()`: the page-facing upscaler of rtsr/web. A model file (URL, bytes or a dropped File) is decoded,
// compiled for the best target this device runs (choose.ts) and wrapped so that any drawable frame goes in and
// ImageData comes out. Frames larger than the memory budget run in tiles (compile.ts); calls are queued, so a
// video's frames never overlap on the one runtime.
import { compile, type CompiledModel } from '../compiler/compile.js';
import type { RgbImage } from '../image/image.js';
import type { ModelInfo } from '../models/model-file.js';
import { decodeModel } from '../models/model-file.js';
import type { ArchSpec } from '../models/registry.js';
import type { Target } from '../targets/target.js';
import { chooseTarget } from './choose.js';
import { FrameReader, type FrameSource, rgbToImageData } from './frames.js';

export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Blob;

export interface LoadOptions {
  /** Candidate targets, most preferred first (default: registered targets, then wasm). */
  readonly targets?: readonly Target[];
  /** Threads for targets that have them (default: every core where the page is cross-origin isolated). */
  readonly threads?: number;
  /** Time blocking choices on this device at the first frame of each width (default true; kept in localStorage). */
  readonly tune?: boolean;
  /** Working memory above which frames run in tiles (default 256 MiB). */
  readonly memoryBudgetBytes?: number;
}

export interface Upscaler {
  readonly scale: number;
  readonly spec: ArchSpec;
  readonly info: ModelInfo;
  /** The target frames run on ('wasm', 'webgpu', …). */
  readonly target: string;
  /** Why that target, and how it runs (threads, or why one). */
  readonly reason: string;
  /** Upscales one frame; the result is (width·scale)×(height·scale), opaque. */
  upscale(frame: FrameSource): Promise<ImageData>;
  /** The same on RGB bytes (the compiler's image type), for callers that hold pixels already. */
  upscaleRgb(img: RgbImage): Promise<RgbImage>;
  /** Frees workers and buffers; the upscaler must not be used afterwards. */
  dispose(): Promise<void>;
}

async function bytesOf(src: ModelSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (src instanceof Uint8Array) return { bytes: src, name: 'model bytes' };
  if (src instanceof ArrayBuffer) return { bytes: new Uint8Array(src), name: 'model bytes' };
  if (typeof Blob !== 'undefined' && src instanceof Blob) return { bytes: new Uint8Array(await src.arrayBuffer()), name: (src as File).name ?? 'model blob' };
  const url = String(src);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), name: url };
}

export async function loadModel(src: ModelSource, candidates: readonly Target[], opts: LoadOptions = {}): Promise<Upscaler> {
  const { bytes, name } = await bytesOf(src);
  let decoded: ReturnType<typeof decodeModel>;
  try {
    decoded = decodeModel(bytes, name);
  } catch (err) {
    throw new Error(`${name} is not a model rtsr can read: ${(err as Error).message}`);
  }
  const { target, reason } = await chooseTarget(opts.targets ?? candidates, opts.threads);
  const compiled = await compile(decoded.model, { target, threads: opts.threads, tune: opts.tune, memoryBudgetBytes: opts.memoryBudgetBytes });
  return new PageUpscaler(compiled, decoded, reason);
}

class PageUpscaler implements Upscaler {
  private readonly reader = new FrameReader();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly compiled: CompiledModel,
    private readonly decoded: ReturnType<typeof decodeModel>,
    readonly reason: string,
  ) {}

  get scale() {
    return this.compiled.scale;
  }
  get target() {
    return this.compiled.target;
  }
  get spec() {
    return this.decoded.model.spec;
  }
  get info() {
    return this.decoded.info;
  }

  upscaleRgb(img: RgbImage): Promise<RgbImage> {
    const run = this.queue.then(() => this.compiled.runImage(img));
    this.queue = run.catch(() => {});
    return run;
  }

  async upscale(frame: FrameSource): Promise<ImageData> {
    return rgbToImageData(await this.upscaleRgb(this.reader.read(frame)));
  }

  dispose(): Promise<void> {
    return this.queue.then(() => this.compiled.dispose());
  }
}
