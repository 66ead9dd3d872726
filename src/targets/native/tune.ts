// Choosing a stage's blocking and loop order by timing candidates on this machine, and remembering the choice.
// Every candidate computes bit-identical results, so tuning changes speed only. The search is coordinate-wise:
// the conv's register block and loop order first, then the chain's register block, then its tile width, then
// what only native chooses (the vector width of the stage's code, gcc's for its own loops, inlining); each round
// compiles its candidates into one module (one compiler run) and times them interleaved, several rounds,
// keeping each one's fastest run — on a shared machine noise only ever adds time, so the minimum ranks best.
// Candidates run alone (a segment of one stage) on one thread: every thread runs the same code on its own
// rows, and on a machine where another process holds a core one thread's timings are far steadier than two
// threads' (whose slower thread sets the time). Results are cached on disk per (stage shape, width class, CPU,
// compiler), next to the kernel cache.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Toolchain } from '../../backends/native/compile.js';
import type { Target } from '../../backends/native/glue.js';
import { type StageNode, stageMacsPerPixel } from '../../compiler/ir.js';
import { defaultTuning, type Io, isTuningCandidate, stageKernelName, stageShape, type StageShape, tuningRounds, widthClass } from '../../compiler/stage.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { fastestRuns } from '../../util/fastest.js';
import { SegmentKernels } from './kernels.js';
import { fmaCeiling } from './ceiling.js';
import type { NativeTuning } from './render.js';

/** Bumped whenever the generated code or the meaning of a tuning changes, so stale choices are not reused. */
const TUNING_VERSION = 4;

/** The untuned choice: the shared default blocking at the CPU's widest vectors, gcc's own vector width. */
export const defaultNativeTuning = (t: Target): NativeTuning => ({ ...defaultTuning(t), lanes: t.vw, pvw: null, inline: true });

/** What only native chooses: whether the output row's conv is inlined; on AVX-512, 256-bit code and gcc's
 *  512-bit preference for its own loops. */
const lanesOf = (t: Target): number[] => (t.vw === 16 ? [16, 8] : [t.vw]);
const pvwsOf = (t: Target): (512 | null)[] => (t.vw === 16 ? [null, 512] : [null]);

/** Whether `x` is a tuning the tuner could have chosen: a stored value is trusted only then. */
export function isNativeTuning(x: unknown, t: Target): x is NativeTuning {
  if (typeof x !== 'object' || x === null) return false;
  const { lanes, pvw, inline, ...shared } = x as Record<string, unknown>;
  return isTuningCandidate(shared, t) && lanesOf(t).includes(lanes as number) && pvwsOf(t).includes(pvw as 512 | null) && typeof inline === 'boolean';
}

/** The shared coordinate-wise rounds (compiler/stage.ts), the first also with the output row's conv called
 *  (it changes the registers that blocking gets), then one over the vector widths: 256-bit code only where this
 *  CPU's FMA ceiling at 8 floats comes near the one at 16 (on Zen 4 and 5 and on Intel cores with two 512-bit
 *  FMA units it is half: not worth a compiler run per shape), and gcc's preferred width only in stages that
 *  read or write the frame (their conversions and stores) and where gcc would keep it narrower. */
function nativeRounds(shape: StageShape, env: TuneEnv): ((best: NativeTuning) => NativeTuning[])[] {
  const t = env.tc.target;
  const touchesFrame = shape.shuffle > 1 || shape.terms.some((x) => x.source === 'raw');
  const [first, ...rest] = tuningRounds(shape, t).map((round) => (b: NativeTuning) => round(b).map((c) => ({ ...b, ...c })));
  const widths = (b: NativeTuning): NativeTuning[] => [
    b,
    ...(narrowMayWin(env) ? lanesOf(t).filter((lanes) => lanes !== b.lanes).map((lanes) => ({ ...b, lanes })) : []),
    ...(touchesFrame && gccNarrowsLoops(env.tc) ? pvwsOf(t).filter((pvw) => pvw !== b.pvw).map((pvw) => ({ ...b, pvw })) : []),
  ];
  return [(b) => first(b).flatMap((c) => [c, { ...c, inline: !c.inline }]), ...rest, ...(widths(defaultNativeTuning(t)).length > 1 ? [widths] : [])];
}

/** Whether gcc keeps the loops it vectorises itself to 256 bits or fewer on this CPU (its -mprefer-vector-width
 *  for -march=native: 256 for Intel's cores in gcc 12, none for znver3): only then is 512 a different candidate.
 *  Clang does not answer the question (nor know the pragma): no. */
let narrowLoops: boolean | undefined;
function gccNarrowsLoops(tc: Toolchain): boolean {
  if (narrowLoops === undefined) {
    const r = spawnSync(tc.cc, ['-march=native', '-Q', '--help=target'], { encoding: 'utf8' });
    narrowLoops = /-mprefer-vector-width=\s+(128|256)\b/.test(r.stdout ?? '');
  }
  return narrowLoops;
}

/** Whether 256-bit code may beat the CPU's widest: the FMA ceiling at 8 floats a vector is at least 3/4 of the
 *  one at 16 (measured once per process, briefly, on one thread). */
let narrow: boolean | undefined;
function narrowMayWin(env: TuneEnv): boolean {
  if (narrow === undefined) {
    const widths = env.tc.target.vw === 16 ? fmaCeiling(1, 0.1, env.cacheDir) : null;
    const at = (lanes: number) => widths?.find((w) => w.lanes === lanes)?.gflops ?? 0;
    narrow = at(8) >= 0.75 * at(16) && at(8) > 0;
  }
  return narrow;
}

/** Lookups of the on-disk tuning cache in this process; `measured` counts stage shapes timed afresh. */
export const tuneStats = { hits: 0, measured: 0 };

export interface TuneEnv {
  readonly tc: Toolchain;
  readonly cacheDir: string;
}

/** Rows narrower than this many vectors run in well under a millisecond whatever the blocking: not worth
 *  compiling and timing candidates for. */
const MIN_TUNED_CLASS = 8;

/** Where a choice about `what` (a stage shape, a plan's cut) for frames w wide is cached: keyed by it, the width
 *  class, the CPU model and the compiler (name, version, flags, -march=native's macros). */
export function cacheEntry(what: object, w: number, env: TuneEnv): { key: object; path: string } {
  const key = {
    version: TUNING_VERSION,
    ...what,
    widthClass: widthClass(w, env.tc.target.vw),
    cpu: cpus()[0]?.model ?? 'unknown',
    cc: env.tc.cc,
    ccVersion: env.tc.version,
    flags: env.tc.flags,
    target: createHash('sha256').update(env.tc.targetMacros).digest('hex'),
  };
  const h = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
  return { key, path: join(env.cacheDir, 'tuning', `${h}.json`) };
}

/** The choice cached under `entry` if it is one a tuner could have made (`valid`), else null: a torn, foreign or
 *  edited file is measured again and overwritten. */
export function readChoice<T>(entry: { key: object; path: string }, valid: (x: unknown) => x is T): T | null {
  if (!existsSync(entry.path)) return null;
  try {
    const saved = JSON.parse(readFileSync(entry.path, 'utf8')) as { key: unknown; tuning: unknown };
    return JSON.stringify(saved.key) === JSON.stringify(entry.key) && valid(saved.tuning) ? saved.tuning : null;
  } catch {
    return null;
  }
}

/** Caches a choice with every measurement that led to it, atomically. */
export function writeChoice(entry: { key: object; path: string }, tuning: unknown, measured: unknown[]): void {
  writeFileAtomic(entry.path, JSON.stringify({ key: entry.key, tuning, measured }, null, 1));
}

/** The cached tuning of `stage` for frames w wide, or null when it must be measured; the default for narrow
 *  frames. */
export function cachedTuning(stage: StageNode, io: Io, w: number, env: TuneEnv): NativeTuning | null {
  const t = env.tc.target;
  if (widthClass(w, t.vw) < MIN_TUNED_CLASS) return defaultNativeTuning(t);
  return readChoice(cacheEntry({ shape: stageShape(stage, io) }, w, env), (x): x is NativeTuning => isNativeTuning(x, t));
}

/** The tuning for `stage` at frames about h×w: from the cache, else measured (and cached); the default for
 *  narrow frames. */
export async function tuneStage(stage: StageNode, io: Io, h: number, w: number, env: TuneEnv): Promise<NativeTuning> {
  const t = env.tc.target;
  if (widthClass(w, t.vw) < MIN_TUNED_CLASS) return defaultNativeTuning(t);
  const cached = cachedTuning(stage, io, w, env);
  if (cached) {
    tuneStats.hits++;
    return cached;
  }
  const shape = stageShape(stage, io);
  const log: { tuning: NativeTuning; ms: number }[] = [];
  let best = defaultNativeTuning(t);
  for (const round of nativeRounds(shape, env)) {
    // A round may propose the current best again (the default tile width is one of the tried ones).
    const cands = [...new Map(round(best).map((c) => [stageKernelName(shape, c), c])).values()];
    const timed = timeCandidates(stage, io, h, w, cands, env);
    log.push(...timed);
    best = timed.reduce((a, b) => (b.ms < a.ms ? b : a)).tuning;
  }
  tuneStats.measured++;
  writeChoice(cacheEntry({ shape }, w, env), best, log);
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

function timeCandidates(stage: StageNode, io: Io, h: number, w: number, cands: NativeTuning[], env: TuneEnv): { tuning: NativeTuning; ms: number }[] {
  const shape = stageShape(stage, io);
  const kernels = new SegmentKernels(
    cands.map((tuning) => [{ node: stage, shape, tuning, kernel: stageKernelName(shape, tuning) }]),
    env.tc,
    env.cacheDir,
  );
  // A millisecond or two per call, so that the rounds spread over a second or so and outlast a co-runner's
  // busy spells.
  const rows = Math.min(h, Math.max(8, Math.ceil(1.5e7 / (w * stageMacsPerPixel(stage)))));
  const call = kernels.syntheticCall(stage, io, rows, w, 1);
  cands.forEach((_, i) => kernels.run(i, call));
  const best = fastestRuns(cands.length, 15, (i) => kernels.run(i, call));
  return cands.map((tuning, i) => ({ tuning, ms: best[i] }));
}
