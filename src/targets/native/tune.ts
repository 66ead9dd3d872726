// Choosing a stage's blocking and loop order by timing candidates on this machine, and remembering the choice.
// Every candidate computes bit-identical results, so tuning changes speed only. The search is coordinate-wise:
// the conv's register block and loop order first, then the chain's register block, then its tile width; each
// round compiles its candidates into one module (one compiler run) and times them interleaved, several rounds,
// keeping each one's fastest run — on a shared machine noise only ever adds time, so the minimum ranks best.
// Candidates run on one thread: every thread runs the same code on its own rows, and on a machine where
// another process holds a core one thread's timings are far steadier than two threads' (whose slower thread
// sets the time). Results are cached on disk per (stage shape, width class, CPU, compiler), next to the
// kernel cache.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Toolchain } from '../../backends/native/compile.js';
import { type StageNode, stageMacsPerPixel } from '../../compiler/ir.js';
import { defaultTuning, type Io, isTuningCandidate, packStage, stageKernelName, stageShape, type StageTuning, tuningRounds, widthClass } from '../../compiler/stage.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { StageKernels } from './kernels.js';
import { stageKernel } from './render.js';

/** Bumped whenever the generated code or the meaning of a tuning changes, so stale choices are not reused. */
const TUNING_VERSION = 1;

/** Lookups of the on-disk tuning cache in this process; `measured` counts stage shapes timed afresh. */
export const tuneStats = { hits: 0, measured: 0 };

export interface TuneEnv {
  readonly tc: Toolchain;
  readonly cacheDir: string;
}

function cachePath(env: TuneEnv, key: object): string {
  const h = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  return join(env.cacheDir, 'tuning', `${h}.json`);
}

/** Rows narrower than this many vectors run in well under a millisecond whatever the blocking: not worth
 *  compiling and timing candidates for. */
const MIN_TUNED_CLASS = 8;

/** The cached tuning of `stage` for frames w wide, or null when it must be measured; the default for narrow
 *  frames. */
export function cachedTuning(stage: StageNode, io: Io, w: number, env: TuneEnv): StageTuning | null {
  const t = env.tc.target;
  if (widthClass(w, t.vw) < MIN_TUNED_CLASS) return defaultTuning(t);
  const { key, path } = cacheEntry(stage, io, w, env);
  if (existsSync(path)) {
    try {
      const saved = JSON.parse(readFileSync(path, 'utf8')) as { key: unknown; tuning: unknown };
      if (JSON.stringify(saved.key) === JSON.stringify(key) && isTuningCandidate(saved.tuning, t)) return saved.tuning;
    } catch {
      // A torn, foreign or edited file is measured again and overwritten.
    }
  }
  return null;
}

function cacheEntry(stage: StageNode, io: Io, w: number, env: TuneEnv): { key: object; path: string } {
  const t = env.tc.target;
  const shape = stageShape(stage, io);
  const key = {
    version: TUNING_VERSION,
    shape,
    widthClass: widthClass(w, t.vw),
    cpu: cpus()[0]?.model ?? 'unknown',
    cc: env.tc.cc,
    ccVersion: env.tc.version,
    flags: env.tc.flags,
    target: createHash('sha256').update(env.tc.targetMacros).digest('hex'),
  };
  return { key, path: cachePath(env, key) };
}

/** The tuning for `stage` at frames about h×w: from the cache, else measured (and cached); the default for
 *  narrow frames. */
export async function tuneStage(stage: StageNode, io: Io, h: number, w: number, env: TuneEnv): Promise<StageTuning> {
  const t = env.tc.target;
  if (widthClass(w, t.vw) < MIN_TUNED_CLASS) return defaultTuning(t);
  const cached = cachedTuning(stage, io, w, env);
  if (cached) {
    tuneStats.hits++;
    return cached;
  }
  const shape = stageShape(stage, io);
  const { key, path } = cacheEntry(stage, io, w, env);
  const log: { tuning: StageTuning; ms: number }[] = [];
  let best = defaultTuning(t);
  for (const round of tuningRounds(shape, t)) {
    // A round may propose the current best again (the default tile width is one of the tried ones).
    const cands = [...new Map(round(best).map((c) => [stageKernelName(shape, c), c])).values()];
    const timed = timeCandidates(stage, io, h, w, cands, env);
    log.push(...timed);
    best = timed.reduce((a, b) => (b.ms < a.ms ? b : a)).tuning;
  }
  tuneStats.measured++;
  writeFileAtomic(path, JSON.stringify({ key, tuning: best, measured: log }, null, 1));
  return best;
}

/**
 * Tunes every stage of `stages` not in the cache yet, on two threads when `threads` > 1: a worker takes every
 * other untuned shape while this thread takes the rest (a cold profile spends most of its time here, one
 * compiler run and one timing thread at a time). The choices land in the cache, where tuneStage finds them.
 */
export async function tuneAll(stages: readonly StageNode[], io: Io, h: number, w: number, env: TuneEnv, threads: number): Promise<void> {
  const byShape = new Map<string, StageNode>();
  for (const s of stages) if (!cachedTuning(s, io, w, env)) byShape.set(JSON.stringify(stageShape(s, io)), s);
  const todo = [...byShape.values()];
  const mine = threads > 1 && todo.length > 1 ? todo.filter((_, i) => i % 2 === 0) : todo;
  const theirs = todo.filter((s) => !mine.includes(s));
  const worker = theirs.length ? new Worker(new URL('./tune-worker.js', import.meta.url), { workerData: { stages: theirs, io, h, w, env } }) : null;
  // Whatever the worker fails to tune (it exits either way), tuneStage measures here later.
  const exited = worker && new Promise((resolve) => worker.once('exit', resolve).once('error', () => undefined));
  for (const s of mine) await tuneStage(s, io, h, w, env);
  await exited;
}

function timeCandidates(stage: StageNode, io: Io, h: number, w: number, cands: StageTuning[], env: TuneEnv): { tuning: StageTuning; ms: number }[] {
  const shape = stageShape(stage, io);
  const names = cands.map((c) => stageKernelName(shape, c));
  const kernels = new StageKernels(
    cands.map((c, i) => stageKernel(names[i], shape, c, env.tc.target)),
    env.tc,
    env.cacheDir,
  );
  // A millisecond or two per call, so that the rounds spread over a second or so and outlast a co-runner's
  // busy spells.
  const rows = Math.min(h, Math.max(8, Math.ceil(1.5e7 / (w * stageMacsPerPixel(stage)))));
  const call = kernels.syntheticCall(stage, packStage(stage), io, rows, w, 1);
  const best = names.map(() => Infinity);
  names.forEach((n) => kernels.runStage(n, call));
  for (let r = 0; r < 15; r++)
    names.forEach((n, i) => {
      const t0 = performance.now();
      kernels.runStage(n, call);
      best[i] = Math.min(best[i], performance.now() - t0);
    });
  return cands.map((tuning, i) => ({ tuning, ms: best[i] }));
}
