// The WebAssembly target: stage kernels emitted as wasm SIMD bytecode by TypeScript itself (render.ts, encode.ts;
// no toolchain), run in one linear memory on the caller's thread and a pool of workers (runtime.ts), tuned on
// this engine (tune.ts). Platform-free: the host (node.ts for Node, a page's own in a browser) supplies workers,
// engine flags and a persistent tuning store.
import { fuseStages } from '../../compiler/fuse.js';
import type { StageNode } from '../../compiler/ir.js';
import { f32Only, type StageBench, type StageBenchOptions, type Target } from '../target.js';
import { DEFAULT_TUNING } from './abi.js';
import { features } from './features.js';
import type { WasmHost } from './host.js';
import { type Kernel, kernelOf, loadKernels, scratchStride, SyntheticCalls } from './kernels.js';
import { WasmRunner } from './runner.js';
import { Runtime } from './runtime.js';
import { type TuneEnv, tuneStage } from './tune.js';

export type { WasmHost, WorkerLike } from './host.js';
export type { TuningStore } from '../tuning.js';
export { workerHandler } from './worker.js';

export function createWasmTarget(host: WasmHost): Target {
  const threadsFor = (wanted: number) => (features(host).threads ? wanted : 1);
  const env = (cacheDir: string | undefined): TuneEnv => ({ host, relaxed: features(host).relaxed, store: host.tuningStore?.(cacheDir) });

  async function benchStages(stages: readonly StageNode[], opts: StageBenchOptions): Promise<StageBench> {
    const { io, h, w } = opts;
    const e = env(opts.cacheDir);
    const kernels: Kernel[] = [];
    for (const s of stages) kernels.push(kernelOf(s, io, opts.tune ? await tuneStage(s, io, h, w, e) : DEFAULT_TUNING));
    const rt = new Runtime(host, threadsFor(opts.threads));
    try {
      const { loaded, fns } = await loadKernels(rt, kernels, e.relaxed);
      const calls = new SyntheticCalls(rt, stages, h, w);
      const args = stages.map((s, i) => calls.add(s, kernels[i]));
      const stride = scratchStride(kernels.map((k) => k.shape), w);
      const scratch = rt.alloc(rt.threads * stride);
      const run = (i: number) => rt.run(loaded, fns[i], args[i], 0, h, scratch, stride);
      return {
        run,
        // In a deployed frame a block's stage finds the workers awake (the previous stage just ended), so time it
        // so: woken first, untimed. Timed cold, the stage would also carry a wake-up, which varies run to run.
        async time(i) {
          rt.wake();
          await rt.awake();
          const t0 = performance.now();
          await run(i);
          return performance.now() - t0;
        },
        dispose: () => rt.dispose(),
      };
    } catch (err) {
      await rt.dispose();
      throw err;
    }
  }

  return {
    name: 'wasm',
    unavailable: async (p) =>
      !features(host).simd ? 'this WebAssembly engine has no SIMD128 (Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4)' : p === 'f16' ? f32Only('wasm') : null,
    describe: async () => {
      const f = features(host);
      return `${host.engine}, wasm ${f.relaxed ? 'relaxed-simd' : 'simd128'}, ${f.threads ? 'threads' : 'no threads'}`;
    },
    defaultThreads: () => threadsFor(host.cores),
    createRunner: async (graph, opts) => {
      const rt = new Runtime(host, threadsFor(opts.threads));
      try {
        return new WasmRunner(fuseStages(graph), rt, { ...env(opts.cacheDir), tune: opts.tune });
      } catch (err) {
        await rt.dispose();
        throw err;
      }
    },
    benchStages,
  };
}
