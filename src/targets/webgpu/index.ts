// The WebGPU target: stages rendered as WGSL compute shaders (render.ts) on a schedule of workgroup tiles
// (schedule.ts) tuned per adapter (tune.ts), run window by window on one device (runner.ts), timed for the
// profiler (bench.ts). Platform-free: the host (node.ts for Node; a page's own around navigator.gpu) supplies
// the adapter and a tuning store.
import { fuseStages } from '../../compiler/fuse.js';
import type { Precision, Target } from '../target.js';
import { stageBench } from './bench.js';
import { type GpuContext, openContext } from './device.js';
import type { WebGpuHost } from './host.js';
import { WebGpuRunner } from './runner.js';
import { schedules, type TuneEnv } from './tune.js';

export type { WebGpuHost } from './host.js';

export function createWebGpuTarget(host: WebGpuHost): Target {
  // The device, or why there is none: asked for on first use, and once more after the first loss (an adapter
  // gives one device only, so the host is asked for a fresh adapter).
  let ctx: Promise<GpuContext | string> | null = null;
  let reopened = false;
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
    const lost = c.lost();
    if (!lost) return c;
    if (reopened) throw new Error(`${lost}; it was reopened once already, so it is not reopened again`);
    reopened = true;
    ctx = null;
    return device();
  };
  const f16Missing = (c: GpuContext) => (c.f16 ? null : `the WebGPU adapter ${c.adapterName} has no 'shader-f16': use precision f32`);
  const deviceFor = async (precision: Precision): Promise<GpuContext> => {
    const c = await device();
    const missing = precision === 'f16' && f16Missing(c);
    if (missing) throw new Error(`webgpu: ${missing}`);
    return c;
  };
  const tuneEnv = (cacheDir: string | undefined, precision: Precision): TuneEnv => ({ store: host.tuningStore?.(cacheDir), runtime: host.runtime(), precision });

  return {
    name: 'webgpu',
    unavailable: async (precision = 'f32') => {
      const c = await context();
      if (typeof c === 'string') return `WebGPU unavailable: ${c}`;
      return precision === 'f16' ? f16Missing(c) : null;
    },
    describe: async () => {
      const c = await context();
      return `${host.runtime()}, ${typeof c === 'string' ? 'no device' : `adapter ${c.adapterName}${c.timestamps ? ', timestamps' : ''}${c.f16 ? ', shader-f16' : ''}`}`;
    },
    defaultThreads: () => 1,
    createRunner: async (graph, opts) => {
      const env = tuneEnv(opts.cacheDir, opts.precision ?? 'f32');
      const c = await deviceFor(env.precision);
      return new WebGpuRunner(fuseStages(graph), device, c.limits, { ...env, tune: opts.tune });
    },
    benchStages: async (stages, opts) => {
      const { io, h, w } = opts;
      const env = tuneEnv(opts.cacheDir, opts.precision ?? 'f32');
      const c = await deviceFor(env.precision);
      return stageBench(c, stages, await schedules(c, stages, io, h, w, env, opts.tune), io, h, w, env.precision);
    },
  };
}
