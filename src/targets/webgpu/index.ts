// The WebGPU target: stages rendered as WGSL compute shaders (render.ts) on a schedule of workgroup tiles
// (schedule.ts), run window by window on one device (runner.ts), timed for the profiler (bench.ts).
// Platform-free: the host (node.ts for Node; a page's own around navigator.gpu) supplies the adapter.
import { fuseStages } from '../../compiler/fuse.js';
import type { Target } from '../target.js';
import { benchStages } from './bench.js';
import { type GpuContext, openContext } from './device.js';
import type { WebGpuHost } from './host.js';
import { WebGpuRunner } from './runner.js';

export type { WebGpuHost } from './host.js';

export function createWebGpuTarget(host: WebGpuHost): Target {
  // The device, or why there is none: asked for once, on first use.
  let ctx: Promise<GpuContext | string> | null = null;
  const context = () =>
    (ctx ??= (async () => {
      try {
        const a = await host.adapter();
        return typeof a === 'string' ? a : await openContext(host, a);
      } catch (err) {
        return `opening the WebGPU device failed: ${(err as Error).message}`;
      }
    })());
  const device = async (): Promise<GpuContext> => {
    const c = await context();
    if (typeof c === 'string') throw new Error(`WebGPU unavailable: ${c}`);
    return c;
  };

  return {
    name: 'webgpu',
    unavailable: async () => {
      const c = await context();
      return typeof c === 'string' ? `WebGPU unavailable: ${c}` : null;
    },
    describe: async () => {
      const c = await context();
      return `${host.runtime()}, ${typeof c === 'string' ? 'no device' : `adapter ${c.adapterName}${c.timestamps ? ', timestamps' : ''}`}`;
    },
    defaultThreads: () => 1,
    createRunner: async (graph) => new WebGpuRunner(fuseStages(graph), await device()),
    benchStages: async (stages, opts) => benchStages(await device(), stages, opts.io, opts.h, opts.w),
  };
}
