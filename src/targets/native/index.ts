// The native target: stage C rendered for this CPU's vectors (render.ts) and run in pipelined segments
// (segment.ts), built by the system C compiler into an N-API module cached on disk by content hash
// (backends/native/compile.ts), tuned per stage shape on this machine (tune.ts), run on OpenMP threads
// (runner.ts).
import { defaultCacheDir, findToolchain, ompThreads, type Toolchain } from '../../backends/native/compile.js';
import { fuseStages } from '../../compiler/fuse.js';
import { stageKernelName, stageShape } from '../../compiler/stage.js';
import { f32Only, type StageBench, type StageBenchOptions, type Target } from '../target.js';
import { SegmentKernels } from './kernels.js';
import { NativeRunner } from './runner.js';
import { defaultNativeTuning, tuneAll, tuneStage } from './tune.js';

function toolchain(): Toolchain {
  const tc = findToolchain();
  if (!tc) throw new Error('the native target needs a C compiler with OpenMP (set CC, or install gcc or clang)');
  return tc;
}

async function benchStages(stages: Parameters<NonNullable<Target['benchStages']>>[0], opts: StageBenchOptions): Promise<StageBench> {
  const tc = toolchain();
  const env = { tc, cacheDir: opts.cacheDir ?? defaultCacheDir() };
  const { io, h, w, threads } = opts;
  if (opts.tune) await tuneAll(stages, io, h, w, env, threads);
  // Each stage alone, as a segment of one: a part's time is its own, not a pipeline's.
  const segments = [];
  for (const node of stages) {
    const shape = stageShape(node, io);
    const tuning = opts.tune ? await tuneStage(node, io, h, w, env) : defaultNativeTuning(tc.target);
    segments.push([{ node, shape, tuning, kernel: stageKernelName(shape, tuning) }]);
  }
  const kernels = new SegmentKernels(segments, tc, env.cacheDir);
  const calls = stages.map((s) => kernels.syntheticCall(s, io, h, w, threads));
  return { run: async (i) => kernels.run(i, calls[i]), dispose: async () => undefined };
}

export const nativeTarget: Target = {
  name: 'native',
  unavailable: async (p) => (!findToolchain() ? 'no C compiler with OpenMP found (set CC, or install gcc or clang)' : p === 'f16' ? f32Only('native') : null),
  describe: async () => findToolchain()?.version ?? 'no C compiler',
  defaultThreads: ompThreads,
  createRunner: async (graph, opts) =>
    new NativeRunner(fuseStages(graph), { tc: toolchain(), cacheDir: opts.cacheDir ?? defaultCacheDir(), threads: opts.threads, tune: opts.tune }),
  benchStages,
};
