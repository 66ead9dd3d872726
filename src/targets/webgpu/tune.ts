// Choosing a stage's GPU schedule (tile and channel group, schedule.ts) by timing candidates on the adapter it
// runs on: the tile first, then the channel group in the best tile, each round's candidates timed interleaved by
// the stage bench's device time (timestamps where the adapter has them, else many dispatches between completion
// waits), each candidate's fastest of a few rounds — noise only ever adds time. Every candidate sums in the same
// order, so tuning changes speed only. An adapter too slow to search within a budget keeps the default schedule.
// Choices are remembered per process and in the host's store (../tuning.ts), keyed by stage shape, window size
// class, precision, adapter, runtime and limits, and trusted on reading only if they are candidates of today's
// space that fit the device.
import type { StageNode } from '../../compiler/ir.js';
import { type Io, stageShape } from '../../compiler/stage.js';
import type { Precision } from '../target.js';
import { type TuningStore, tunedChoice } from '../tuning.js';
import { stageBench } from './bench.js';
import type { GpuContext } from './device.js';
import { defaultTuning, type GpuTuning, isGpuCandidate, tuningRounds } from './schedule.js';

/** Bumped whenever the generated code or the meaning of a schedule changes, so stale choices are not reused. */
const TUNING_VERSION = 1;

/** Windows below 64×64 pixels keep the default: they fill a few workgroups whatever the tile, and cost little. */
export const MIN_TUNED_PIXELS = 64 * 64;

/** Larger windows are timed at this size (their shape, scaled): a few workgroups for every compute unit of a
 *  large GPU at any tile, and a bounded cost where the adapter is slow (a software one, in CI). */
export const MAX_TUNED_PIXELS = 256 * 256;

/** Schedules are chosen per power-of-two class of the window's pixels up to MAX_TUNED_PIXELS (0: untuned): how
 *  full the device is matters, the exact size does not. */
export const pixelClass = (h: number, w: number): number =>
  h * w < MIN_TUNED_PIXELS ? 0 : Math.min(MAX_TUNED_PIXELS, 2 ** Math.ceil(Math.log2(h * w)));

/** The window candidates are timed on: h×w, scaled down to MAX_TUNED_PIXELS. */
function timedWindow(h: number, w: number): [number, number] {
  const s = Math.min(1, Math.sqrt(MAX_TUNED_PIXELS / (h * w)));
  return [Math.max(1, Math.floor(h * s)), Math.max(1, Math.floor(w * s))];
}

export interface TuneEnv {
  readonly store?: TuningStore;
  /** What provides WebGPU (the host's runtime line): another Dawn or browser may rank schedules otherwise. */
  readonly runtime: string;
  readonly precision: Precision;
}

/** Rounds of timing per candidate. */
const ROUNDS = 3;

/** The most a stage shape's search may be expected to take (ms): on a GPU it takes a second or two. */
const TUNING_BUDGET_MS = 10_000;

/** The schedule of `stage` for windows about h×w: remembered, stored, else measured; the default for small ones. */
export function tuneStage(ctx: GpuContext, stage: StageNode, io: Io, h: number, w: number, env: TuneEnv): Promise<GpuTuning> {
  const shape = stageShape(stage, io);
  const { limits } = ctx;
  const p = env.precision;
  if (pixelClass(h, w) === 0) return Promise.resolve(defaultTuning(shape, limits, p));
  const key = JSON.stringify({ version: TUNING_VERSION, shape, pixels: pixelClass(h, w), precision: p, adapter: ctx.adapterName, runtime: env.runtime, limits });
  return tunedChoice(env.store ?? ctx, env.store, key, (x): x is GpuTuning => isGpuCandidate(x, shape, limits, p), () => measure(ctx, stage, io, ...timedWindow(h, w), env));
}

/** Every stage's schedule: tuned for windows about h×w, or the default. */
export async function schedules(ctx: GpuContext, stages: readonly StageNode[], io: Io, h: number, w: number, env: TuneEnv, tune: boolean): Promise<GpuTuning[]> {
  const out: GpuTuning[] = [];
  for (const s of stages) out.push(tune ? await tuneStage(ctx, s, io, h, w, env) : defaultTuning(stageShape(s, io), ctx.limits, env.precision));
  return out;
}

async function measure(ctx: GpuContext, stage: StageNode, io: Io, h: number, w: number, env: TuneEnv): Promise<GpuTuning> {
  const shape = stageShape(stage, io);
  let best = defaultTuning(shape, ctx.limits, env.precision);
  const rounds = tuningRounds(shape, ctx.limits, env.precision);
  // What one candidate costs (its pipeline built, its time taken), times the candidates: past the budget the
  // adapter is a slow one (software, in CI or a page without a GPU: minutes for a model) and keeps the default.
  const t0 = performance.now();
  const probe = await stageBench(ctx, [stage], [best], io, h, w, env.precision);
  await probe.time!(0).finally(() => probe.dispose());
  if ((performance.now() - t0) * rounds.reduce((n, r) => n + r(best).length, 0) > TUNING_BUDGET_MS) return best;
  for (const round of rounds) {
    // A round proposes the best so far among its candidates; one candidate alone needs no timing.
    const cands = round(best);
    if (cands.length < 2) continue;
    const bench = await stageBench(ctx, cands.map(() => stage), cands, io, h, w, env.precision);
    try {
      const ms = cands.map(() => Infinity);
      for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < cands.length; i++) ms[i] = Math.min(ms[i], await bench.time!(i));
      best = cands[ms.indexOf(Math.min(...ms))];
    } finally {
      await bench.dispose();
    }
  }
  return best;
}
