// Choosing a stage's blocking for the wasm target: native's coordinate-wise search over the same space
// (compiler/stage.ts tuningRounds) with wasm's limits, each round's candidates in one module, timed interleaved on
// one thread (several rounds, each candidate's fastest run: noise on a shared machine only adds time). Choices
// are remembered per process and, where the host offers one, in its persistent store (../tuning.ts), keyed by
// stage shape, width class and engine, and trusted on reading only if they are candidates of this space.
import { type StageNode, stageMacsPerPixel } from '../../compiler/ir.js';
import { type Io, isTuningCandidate, stageKernelName, stageShape, type StageTuning, tuningRounds, widthClass } from '../../compiler/stage.js';
import { fastestRuns } from '../../util/fastest.js';
import { DEFAULT_TUNING, LIMITS } from './abi.js';
import { type TuningStore, tunedChoice } from '../tuning.js';
import type { WasmHost } from './host.js';
import { kernelOf, loadKernels, scratchStride, SyntheticCalls } from './kernels.js';
import { Runtime } from './runtime.js';

/** Bumped whenever the generated code or the meaning of a tuning changes, so stale choices are not reused. */
const TUNING_VERSION = 2;

/** Rows narrower than this many vectors run in well under a millisecond whatever the blocking. */
const MIN_TUNED_CLASS = 8;

export interface TuneEnv {
  readonly host: WasmHost;
  readonly relaxed: boolean;
  readonly store?: TuningStore;
}

/** The tuning for `stage` at frames about h×w: remembered, stored, else measured; the default for narrow rows. */
export function tuneStage(stage: StageNode, io: Io, h: number, w: number, env: TuneEnv): Promise<StageTuning> {
  if (widthClass(w, LIMITS.vw) < MIN_TUNED_CLASS) return Promise.resolve(DEFAULT_TUNING);
  const shape = stageShape(stage, io);
  const key = JSON.stringify({ version: TUNING_VERSION, shape, widthClass: widthClass(w, LIMITS.vw), engine: env.host.engine, relaxed: env.relaxed });
  return tunedChoice(env.store ?? env.host, env.store, key, (x): x is StageTuning => isTuningCandidate(x, LIMITS), () => measure(stage, io, h, w, env));
}

async function measure(stage: StageNode, io: Io, h: number, w: number, env: TuneEnv): Promise<StageTuning> {
  const shape = stageShape(stage, io);
  let best = DEFAULT_TUNING;
  for (const round of tuningRounds(shape, LIMITS)) {
    // A round may propose the current best again.
    const cands = [...new Map(round(best).map((c) => [stageKernelName(shape, c), c])).values()];
    const ms = await timeCandidates(stage, io, h, w, cands, env);
    best = cands[ms.indexOf(Math.min(...ms))];
  }
  return best;
}

async function timeCandidates(stage: StageNode, io: Io, h: number, w: number, cands: readonly StageTuning[], env: TuneEnv): Promise<number[]> {
  const rt = new Runtime(env.host, 1);
  try {
    const kernels = cands.map((c) => kernelOf(stage, io, c));
    const { loaded, fns } = await loadKernels(rt, kernels, env.relaxed);
    // A millisecond or two per call, so that the rounds outlast a co-runner's busy spells.
    const rows = Math.min(h, Math.max(8, Math.ceil(1.5e7 / (w * stageMacsPerPixel(stage)))));
    const calls = new SyntheticCalls(rt, [stage], rows, w);
    const args = kernels.map((k) => calls.add(stage, k));
    const scratch = rt.alloc(scratchStride([kernels[0].shape], w));
    const run = (i: number) => loaded.fns[fns[i]](args[i], 0, rows, scratch);
    // Twice each first: the engine's optimising tier replaces its baseline code after a call or so.
    for (let r = 0; r < 2; r++) cands.forEach((_, i) => run(i));
    return fastestRuns(cands.length, 15, run);
  } finally {
    await rt.dispose();
  }
}
