// What the WebGPU target needs from the platform, injected so that everything but the host itself (node.ts for
// Node; a page passes its own around `navigator.gpu`) is free of `node:*`.
import type { TuningStore } from '../tuning.js';
import type { GpuAdapter, GpuLimits } from './gpu.js';

export interface WebGpuHost {
  /** An adapter to run on, or one line saying why there is none (no WebGPU here, no adapter, …). */
  adapter(): Promise<GpuAdapter | string>;
  /** What provides WebGPU, for describe(): e.g. `webgpu 0.6.2 (Dawn), opengles backend` or a browser's name. */
  runtime(): string;
  /** Caps below the adapter's limits: a smaller device's figures (tests use them to force tiling). */
  readonly caps?: Partial<GpuLimits>;
  /** A persistent store for tuned schedules under `cacheDir` (the host's default when undefined); without one,
   *  choices last as long as the process. */
  tuningStore?(cacheDir: string | undefined): TuningStore | undefined;
}
