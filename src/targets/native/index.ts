// The native target: stage C rendered for this CPU's vectors (render.ts), built by the system C compiler into an
// N-API module cached on disk by content hash (backends/native/compile.ts), tuned per stage shape on this
// machine (tune.ts), run on OpenMP threads (runner.ts).
import { defaultCacheDir, findToolchain, ompThreads, type Toolchain } from '../../backends/native/compile.js';
import { fuseStages } from '../../compiler/fuse.js';
import { defaultTuning, packStage, stageKernelName, stageShape } from '../../compiler/stage.js';
import { f32Only, type StageBench, type StageBenchOptions, type Target } from '../target.js';
import { StageKernels } from './kernels.js';
import { stageKernel } from './render.js';
import { NativeRunner } from './runner.js';
import { tuneAll, tuneStage } from './tune.js';

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
  const sources = new Map<string, ReturnType<typeof stageKernel>>();
  const names: string[] = [];
  for (const s of stages) {
    const shape = stageShape(s, io);
    const tuning = opts.tune ? await tuneStage(s, io, h, w, env) : defaultTuning(tc.target);
    const name = stageKernelName(shape, tuning);
    if (!sources.has(name)) sources.set(name, stageKernel(name, shape, tuning, tc.target));
    names.push(name);
  }
  const kernels = new StageKernels([...sources.values()], tc, env.cacheDir);
  const calls = stages.map((s) => kernels.syntheticCall(s, packStage(s), io, h, w, threads));
  return { run: async (i) => kernels.runStage(names[i], calls[i]), dispose: async () => undefined };
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
